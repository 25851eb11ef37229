"""Highlights that hold what was asked: facets of a multi-part prompt, search's relevance
cut-off, a budget the material cannot fill. Fast: synthetic candidates, no models."""

from __future__ import annotations

from scenespark.highlights.candidates import BoundaryIndex, Candidate
from scenespark.highlights.facets import facet_first, prompt_facets, topic_facets
from scenespark.highlights.planner import PlannerParams, plan_highlight
from scenespark.types import HighlightRequest

CUT_OFF = PlannerParams(min_score=0.35)  # search's default SCENESPARK_SEARCH_MIN_SCORE


def cand(cid: str, start: float, end: float, score: float, *facets: str, **kw: object) -> Candidate:
    return Candidate(
        candidate_id=cid,
        video_id=str(kw.pop("video", "v1")),
        start_s=start,
        end_s=end,
        score=score,
        facets=list(facets),
        **kw,  # type: ignore[arg-type]
    )


def bounds(*videos: str) -> dict[str, BoundaryIndex]:
    return {v: BoundaryIndex.empty(v, 300.0) for v in videos or ("v1",)}


def used_ids(plan) -> set[str]:  # type: ignore[no-untyped-def]
    return {cid for ids in plan.clip_sources.values() for cid in ids}


def test_prompt_facets_are_the_parts_of_a_compound_topic() -> None:
    assert prompt_facets("the price and the battery") == ["price", "battery"]
    assert prompt_facets("the goals, the red card") == ["goals", "red card"]
    assert prompt_facets("rockets") == [] and topic_facets("rockets") == ["rockets"]


def test_facet_first_puts_each_facets_best_in_front() -> None:
    ranked = [
        cand("c1", 0, 5, 0.9, "battery"),
        cand("c2", 10, 15, 0.85, "battery"),
        cand("c3", 20, 25, 0.5, "price"),
    ]
    order, leaders = facet_first(ranked, ["price", "battery"])
    assert [c.candidate_id for c in order] == ["c3", "c1", "c2"] and leaders == {"c3", "c1"}


def test_every_facet_is_covered_though_one_is_much_stronger() -> None:
    # battery material alone fills 15 s and scores far above the price clip; the price clip is
    # above search's cut-off but below 55 % of the best battery score
    cands = [
        cand("c1", 10, 18, 0.92, "the battery", transcript="the battery lasts twenty hours"),
        cand("c2", 40, 48, 0.9, "the battery", transcript="charging the battery is quick"),
        cand("c3", 70, 78, 0.88, "the battery", transcript="battery life in tests"),
        cand("c4", 100, 107, 0.45, "the price", transcript="the base model costs 899 dollars"),
    ]
    request = HighlightRequest(prompt="a 15-second highlight of the price and the battery")
    plan = plan_highlight(request, cands, bounds(), params=CUT_OFF)
    assert "c4" in used_ids(plan)
    assert [(f.facet, f.found, f.covered) for f in plan.facets] == [
        ("price", True, True),  # the prompt's topic is "price and battery"
        ("battery", True, True),
    ]
    assert not any("price" in w for w in plan.warnings)
    assert plan.target_duration_s == 15.0


def test_a_facet_without_material_is_named() -> None:
    cands = [cand("c1", 10, 18, 0.8, "the goals"), cand("c2", 30, 38, 0.75, "the goals")]
    request = HighlightRequest(prompt="a 15-second highlight of the goals and the red card")
    plan = plan_highlight(request, cands, bounds(), params=CUT_OFF)
    assert plan.clips
    coverage = {f.facet: (f.found, f.covered) for f in plan.facets}
    assert coverage == {"goals": (True, True), "red card": (False, False)}
    assert "nothing relevant found for 'red card'" in plan.warnings


def test_nothing_below_the_cut_off_enters_a_reel() -> None:
    cands = [cand("c1", 100, 110, 0.27, transcript="thanks for watching, subscribe")]
    request = HighlightRequest(prompt="football goals", video_ids=["v1"])
    plan = plan_highlight(request, cands, bounds(), params=CUT_OFF)
    assert plan.clips == []
    assert any("no relevant material" in w for w in plan.warnings)
    # without the cut-off (the planner's own default) the weak clip would have been used
    assert plan_highlight(request, cands, bounds()).clips


def test_everything_in_named_videos_takes_material_below_the_cut_off() -> None:
    cands = [cand("c1", 100, 110, 0.27), cand("c2", 0, 8, 0.3, origin="video")]
    request = HighlightRequest(prompt="everything about football goals", video_ids=["v1"])
    plan = plan_highlight(request, cands, bounds(), params=CUT_OFF)
    assert used_ids(plan) == {"c1", "c2"}
    library_wide = HighlightRequest(prompt="everything about football goals")
    assert plan_highlight(library_wide, cands[:1], bounds(), params=CUT_OFF).clips == []


def test_a_budget_the_material_cannot_fill_says_why() -> None:
    cands = [cand("c1", 10, 17, 0.8), cand("c2", 40, 47.4, 0.78)]
    request = HighlightRequest(prompt="25 seconds of everything about the cartoon")
    plan = plan_highlight(request, cands, bounds(), params=CUT_OFF)
    assert plan.target_duration_s == 25.0
    assert plan.duration_s < 20.0
    assert any("shorter" in w and "asked 25 s" in w for w in plan.warnings), plan.warnings


def test_a_facet_search_would_not_answer_gets_no_clip_of_its_own() -> None:
    # "people outdoors" matched only weakly (below search's cut-off): it does not pull in its
    # best, off-topic candidate, and the result says nothing relevant was found for it
    cands = [
        cand("c1", 10, 18, 0.8, "city life", transcript="traffic in the morning rush"),
        cand("c2", 30, 38, 0.76, "city life", transcript="bikes on the city street"),
        cand("c3", 0, 7, 0.2, "people outdoors", ocr_text="CHAPTER 1: THE MEADOW"),
    ]
    request = HighlightRequest(prompt="a 15-second montage of city life and people outdoors")
    plan = plan_highlight(request, cands, bounds())
    assert "c3" not in used_ids(plan)
    coverage = {f.facet: (f.found, f.covered) for f in plan.facets}
    assert coverage == {"city life": (True, True), "people outdoors": (False, False)}
    assert "nothing relevant found for 'people outdoors'" in plan.warnings


GROUNDED = PlannerParams(min_score=0.35, grounded_below_floor=True)  # the default floor


def test_under_the_cut_off_only_a_clip_whose_words_name_the_topic_enters() -> None:
    cands = [  # both score like an outro that search would not show
        cand("c1", 0, 8, 0.27, transcript="thanks for watching, send us your questions"),
        cand("c2", 20, 28, 0.27, transcript="meanwhile in the city, cyclists weave in traffic"),
    ]
    football = plan_highlight(
        HighlightRequest(prompt="20 seconds of football goals"), cands, bounds(), params=GROUNDED
    )
    assert not football.clips and any("no relevant material" in w for w in football.warnings)
    city = plan_highlight(
        HighlightRequest(prompt="20 seconds of city life"), cands, bounds(), params=GROUNDED
    )
    assert used_ids(city) == {"c2"}


def test_a_facet_is_led_by_the_clip_its_own_search_scored_best() -> None:
    # the battery clip was also returned (lower) by the search for "price"
    ranked = [
        cand("c1", 26, 35, 1.0, "price", "battery", facet_scores={"price": 0.73, "battery": 1.0}),
        cand("c2", 8, 17, 0.95, "price", facet_scores={"price": 0.95}),
    ]
    order, leaders = facet_first(ranked, ["price", "battery"])
    assert leaders == {"c1", "c2"} and order[0].candidate_id == "c2"


def test_shrinking_a_reel_keeps_the_words_that_matched() -> None:
    from scenespark.types import Modality, Segment, Word

    def words(text: str, start_s: float) -> list[Word]:
        return [
            Word(start_s=start_s + 0.4 * i, end_s=start_s + 0.4 * i + 0.3, text=w)
            for i, w in enumerate(text.split())
        ]

    said = (
        words("the base model costs 899 dollars.", 8.6)
        + words("it ships in march.", 11.2)  # a clean cut at 11.2 would drop what matched
        + words("the price stays low all year.", 26.6)
    )
    speech = [Segment(video_id="v1", modality=Modality.SPEECH, start_s=said[0].start_s,
                      end_s=said[-1].end_s, text="", words=said)]  # fmt: skip
    index = {"v1": BoundaryIndex.build("v1", 60.0, speech, [])}
    cands = [  # 18 s of material for a 15 s reel: one of them must shrink
        cand("c1", 26, 35, 1.0, transcript="the price stays low all year."),
        cand("c2", 8, 17, 0.95, transcript="the base model costs 899 dollars."),
    ]
    request = HighlightRequest(prompt="15 seconds about the cost")
    plan = plan_highlight(request, cands, index, params=GROUNDED)
    assert len(plan.clips) == 2 and plan.duration_s <= 16.5
    ordered = sorted(plan.clips, key=lambda c: c.start_s)
    for clip, first_word in zip(ordered, (8.6, 26.6), strict=True):
        assert clip.start_s <= first_word + 0.01, plan.clips  # the matched speech stays in


def test_a_prompt_naming_no_topic_takes_the_chosen_videos_as_material() -> None:
    import pytest

    from scenespark.errors import ValidationFailedError
    from scenespark.highlights.prompt_parse import parse_prompt, require_material

    for generic in (
        "the most important moments",
        "a 30 second highlight",
        "精彩片段",
        "最精彩的一分钟",
    ):
        assert not parse_prompt(generic).names_topic, generic
    for topical in ("the goals", "剧情高潮的片段，30秒", "key moments of the talk", "city life"):
        assert parse_prompt(topical).names_topic, topical
    with pytest.raises(ValidationFailedError, match="names no topic"):
        require_material(HighlightRequest(prompt="the best moments"))
    require_material(HighlightRequest(prompt="the best moments", video_ids=["v1"]))
    # in a chosen video, material under search's cut-off is used (as for "everything in")
    cands = [cand("c1", 0, 8, 0.2, transcript="welcome"), cand("c2", 20, 28, 0.15)]
    plan = plan_highlight(
        HighlightRequest(
            prompt="the most important moments", video_ids=["v1"], target_duration_s=10
        ),
        cands,
        bounds(),
        params=GROUNDED,
    )
    assert plan.clips
