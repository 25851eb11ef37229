"""Fast unit tests of the pure search and evaluation logic: span fusion, query intent,
sentence/OCR shaping and the retrieval metrics."""

from __future__ import annotations

import pytest

from scenespark.evaluation.index_quality import cut_recall, ocr_matches, word_error_rate
from scenespark.evaluation.retrieval import (
    EvalQuery,
    aggregate,
    average_precision,
    iou,
    recall_at,
    score_query,
)
from scenespark.language.shaping import (
    OcrReading,
    merge_ocr_readings,
    sentences_from_words,
    split_text_sentences,
)
from scenespark.search.fusion import ScoredEvidence, Span, build_spans, calibrate, snap_to_cuts
from scenespark.search.query_intent import understand
from scenespark.types import Modality, Segment, Shot, Word


def seg(modality: Modality, start: float, end: float, text: str = "", **kw) -> Segment:
    return Segment(video_id="v", modality=modality, start_s=start, end_s=end, text=text, **kw)


def ev(segment: Segment, score: float, sid: str = "") -> ScoredEvidence:
    return ScoredEvidence(sid or f"{segment.modality}:{segment.start_s}", segment, score, "dense")


SHOTS = [
    Shot(shot_id=0, start_s=0.0, end_s=10.0, keyframe_s=0.5),
    Shot(shot_id=1, start_s=10.0, end_s=22.0, keyframe_s=10.5),
    Shot(shot_id=2, start_s=22.0, end_s=90.0, keyframe_s=22.5),
]


# --- fusion --------------------------------------------------------------------------------
def test_calibrate_is_clamped_linear() -> None:
    assert calibrate(0.1, 0.2, 0.6) == 0.0
    assert calibrate(0.4, 0.2, 0.6) == pytest.approx(0.5)
    assert calibrate(0.9, 0.2, 0.6) == 1.0


def test_visual_frame_stands_for_a_short_shot_and_a_window_of_a_long_one() -> None:
    short = seg(Modality.VISUAL, 12.0, 14.0, "cat", frame_time_s=12.0, shot_id=1)
    long = seg(Modality.VISUAL, 40.0, 42.0, "dog", frame_time_s=40.0, shot_id=2)
    spans = build_spans([ev(short, 0.8), ev(long, 0.7)], {"v": SHOTS}, join_floor=0.1)
    by_text = {s.evidence[0].segment.text: (s.start_s, s.end_s) for s in spans}
    assert by_text["cat"] == (10.0, 22.0)
    assert by_text["dog"] == (37.0, 43.0)


def test_modalities_agreeing_on_a_moment_fuse_into_one_stronger_span() -> None:
    speech = seg(Modality.SPEECH, 12.0, 16.0, "the cat sleeps")
    ocr = seg(Modality.OCR, 11.0, 20.0, "CAT")
    spans = build_spans([ev(speech, 0.6), ev(ocr, 0.6)], {"v": SHOTS}, join_floor=0.1)
    assert len(spans) == 1
    assert spans[0].fused_score() > 0.6
    assert set(spans[0].modality_scores()) == {"speech", "ocr"}


def test_a_sentence_running_over_a_cut_does_not_swallow_the_next_shot() -> None:
    visual = seg(Modality.VISUAL, 0.5, 2.0, "rabbit", frame_time_s=0.5, shot_id=0)
    speech = seg(Modality.SPEECH, 9.7, 12.5, "three rodents are plotting")
    spans = build_spans([ev(speech, 0.8), ev(visual, 0.5)], {"v": SHOTS}, join_floor=0.1)
    assert len(spans) == 2
    said = next(s for s in spans if s.evidence[0].segment.modality == Modality.SPEECH)
    assert said.start_s == pytest.approx(10.0)  # snapped onto the cut 0.3 s away
    assert said.end_s == pytest.approx(12.5)


def test_weak_unrelated_signals_do_not_add_up() -> None:
    span = Span("v", 0, 5)
    span.evidence = [
        ev(seg(Modality.SPEECH, 0, 5), 0.22),
        ev(seg(Modality.OCR, 0, 5), 0.13),
        ev(seg(Modality.VISUAL, 0, 5, frame_time_s=1.0), 0.05),
    ]
    assert span.fused_score() < 0.26
    strong = Span("v", 0, 5)
    strong.evidence = [ev(seg(Modality.SPEECH, 0, 5), 0.8), ev(seg(Modality.OCR, 0, 5), 0.8)]
    assert strong.fused_score() > 0.9


def test_evidence_below_the_floor_is_ignored_and_edges_snap_to_cuts() -> None:
    spans = build_spans([ev(seg(Modality.SPEECH, 1, 3), 0.05)], {"v": SHOTS}, join_floor=0.1)
    assert spans == []
    span = Span("v", 9.6, 21.7)
    snap_to_cuts(span, SHOTS)
    assert (span.start_s, span.end_s) == (10.0, 22.0)


# --- query intent --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "topic", "hint"),
    [
        ("when does the narrator mention the kitchen window", "the kitchen window", "speech"),
        ("where do they talk about pricing", "pricing", "speech"),
        ("TRAFFIC CAM 4", "TRAFFIC CAM 4", None),
        ("the slide with revenue numbers", "the slide with revenue numbers", "ocr"),
        ("moments with dogs", "dogs", None),
        ("a cat", "a cat", None),
    ],
)
def test_query_intent(query: str, topic: str, hint: str | None) -> None:
    intent = understand(query)
    assert intent.topic == topic
    assert (intent.hint.value if intent.hint else None) == hint


# --- shaping recogniser output ---------------------------------------------------------------
def words(*items: tuple[float, float, str]) -> list[Word]:
    return [Word(start_s=a, end_s=b, text=t) for a, b, t in items]


def test_sentences_split_at_punctuation_and_long_pauses() -> None:
    spans = sentences_from_words(
        words(
            (0.0, 0.4, "Hello"),
            (0.5, 0.9, "there."),
            (1.0, 1.3, "Next"),
            (1.4, 1.8, "one"),
            (3.0, 3.4, "after"),
            (3.5, 3.9, "pause"),
        )
    )
    assert [s.text for s in spans] == ["Hello there.", "Next one", "after pause"]
    assert (spans[0].start_s, spans[0].end_s) == (0.0, 0.9)


def test_long_sentences_split_at_the_widest_pause() -> None:
    items = [(i * 0.5, i * 0.5 + 0.4, f"w{i}") for i in range(20)]
    items += [(10.6 + i * 0.5, 11.0 + i * 0.5, f"x{i}") for i in range(12)]  # 0.2 s wider gap
    spans = sentences_from_words(words(*items))
    assert len(spans) == 2 and spans[1].text.startswith("x0")


def test_untimed_cue_shares_its_time_by_sentence_length() -> None:
    spans = split_text_sentences(0.0, 10.0, "Short one. A much longer second sentence here.")
    assert len(spans) == 2 and spans[0].end_s == spans[1].start_s and spans[1].end_s == 10.0
    assert spans[0].end_s < 5.0


def test_ocr_readings_merge_into_spans_and_tolerate_flicker() -> None:
    readings = [
        OcrReading(0.0, 1.0, [("SPRING SALE 42", 0.9)]),
        OcrReading(1.0, 2.0, [("SPRING SALE 4Z", 0.7)]),  # a misread of the same line
        OcrReading(2.0, 3.0, []),  # flicker: missed once
        OcrReading(3.0, 4.0, [("SPRING SALE 42", 0.9), ("Shipping today", 0.8)]),
        OcrReading(4.0, 8.0, []),
        OcrReading(8.0, 9.0, []),
    ]
    spans = merge_ocr_readings(readings)
    assert [(s.text, s.start_s, s.end_s) for s in spans] == [
        ("SPRING SALE 42", 0.0, 4.0),
        ("Shipping today", 3.0, 4.0),
    ]


def test_on_screen_text_whose_numbers_change_is_new_text() -> None:
    readings = [
        OcrReading(0.0, 1.0, [("Reading, part 1", 0.9)]),
        OcrReading(1.0, 2.0, [("Reading, part 2", 0.9)]),
        OcrReading(2.0, 3.0, [("Score 2-1", 0.9)]),
        OcrReading(3.0, 4.0, [("Score 2-2", 0.9)]),
        OcrReading(4.0, 5.0, [("Score 2-2", 0.9)]),
    ]
    spans = merge_ocr_readings(readings)
    assert [(s.text, s.start_s, s.end_s) for s in spans] == [
        ("Reading, part 1", 0.0, 1.0),
        ("Reading, part 2", 1.0, 2.0),
        ("Score 2-1", 2.0, 3.0),
        ("Score 2-2", 3.0, 5.0),
    ]


# --- metrics -------------------------------------------------------------------------------
def test_iou_recall_and_average_precision() -> None:
    assert iou((0, 10), (5, 15)) == pytest.approx(5 / 15)
    expected = [(0.0, 10.0), (20.0, 30.0)]
    ranked = [(40.0, 50.0), (1.0, 10.0), (20.0, 29.0)]
    assert recall_at(ranked, expected, 1, 0.5) == 0.0
    assert recall_at(ranked, expected, 5, 0.5) == 1.0
    assert average_precision(ranked, expected) == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_no_match_queries_score_empty_answers() -> None:
    query = EvalQuery(id="q", query="nothing", type="no_match", expected=[])
    rows = [score_query(query, [], 1.0), score_query(query, [(0.0, 1.0)], 1.0)]
    assert aggregate(rows)["no_match"]["correct_empty"] == 0.5


def test_word_error_rate_normalises_case_punctuation_and_numbers() -> None:
    assert (
        word_error_rate("Revenue reached four point two million.", "revenue reached 4.2 million")
        == 0
    )
    assert word_error_rate("a b c d", "a x c") == pytest.approx(0.5)


def test_ocr_matches_and_cut_recall() -> None:
    overlays = [{"text": "TRAFFIC CAM 4", "start_s": 10.0, "end_s": 20.0}]
    found = ocr_matches(overlays, [seg(Modality.OCR, 12.0, 19.0, "TRAFFICCAM4")])
    assert found[0]["found"]
    missed = ocr_matches(overlays, [seg(Modality.OCR, 30.0, 40.0, "TRAFFIC CAM 4")])
    assert not missed[0]["found"]  # right text, wrong time
    result = cut_recall(
        [10.0, 22.0], [*SHOTS[:2], Shot(shot_id=2, start_s=22.4, end_s=30, keyframe_s=23)]
    )
    assert result["recall"] == 1.0 and result["extra_cuts"] == 0


def _snap_by_scan(span: Span, shots: list[Shot]) -> None:
    """The reference rule: scan every cut (the bisect in snap_to_cuts must agree with it)."""
    cuts = sorted({s.start_s for s in shots} | {shots[-1].end_s})
    for cut in cuts:
        if abs(span.start_s - cut) <= 0.6 and cut < span.end_s:
            span.start_s = cut
            break
    for cut in reversed(cuts):
        if abs(span.end_s - cut) <= 0.6 and cut > span.start_s:
            span.end_s = cut
            break


def test_snapping_by_bisect_matches_a_scan_of_every_cut() -> None:
    import random

    rng = random.Random(5)
    for _ in range(300):
        starts = sorted({round(rng.uniform(0, 120), rng.choice([0, 1, 3])) for _ in range(40)})
        shots = [
            Shot(shot_id=i, start_s=a, end_s=b, keyframe_s=a)
            for i, (a, b) in enumerate(zip(starts, [*starts[1:], starts[-1] + 5.0], strict=True))
        ]
        start = round(rng.uniform(0, 125), rng.choice([1, 2, 3]))
        end = start + rng.choice([0.04, 0.3, 0.7, 1.2, 4.0, 20.0])
        by_bisect, by_scan = Span("v", start, end), Span("v", start, end)
        snap_to_cuts(by_bisect, shots)
        _snap_by_scan(by_scan, shots)
        assert (by_bisect.start_s, by_bisect.end_s) == (by_scan.start_s, by_scan.end_s)


def test_span_building_with_distance_prefilters_matches_the_plain_rule(monkeypatch) -> None:
    """Skipping far-away spans must not change a single span (checked against the rule that
    tests every span)."""
    import random

    from scenespark.search import fusion

    def joinable_all(spans, start_s, end_s, score):
        best, best_overlap = None, -1.0
        for span in spans:
            if not fusion._belong_together(span, start_s, end_s, score):
                continue
            overlap = min(span.end_s, end_s) - max(span.start_s, start_s)
            if overlap > best_overlap:
                best, best_overlap = span, overlap
        return best

    def absorb_all(spans, grown):
        for other in list(spans):
            if other is grown:
                continue
            if fusion._belong_together(grown, other.start_s, other.end_s, grown.best) and (
                min(other.end_s, grown.end_s) - max(other.start_s, grown.start_s) > 0
            ):
                grown.start_s = min(grown.start_s, other.start_s)
                grown.end_s = max(grown.end_s, other.end_s)
                grown.evidence.extend(other.evidence)
                grown.best = max(grown.best, other.best)
                spans.remove(other)

    def shape(spans: list[Span]) -> list[tuple]:
        return [(s.start_s, s.end_s, s.best, [e.segment_id for e in s.evidence]) for s in spans]

    rng = random.Random(11)
    modalities = [Modality.SPEECH, Modality.OCR, Modality.VISUAL]
    for _ in range(60):
        evidence = []
        for i in range(rng.randint(5, 120)):
            start = round(rng.uniform(0, 90), rng.choice([1, 2]))
            modality = rng.choice(modalities)
            segment = seg(modality, start, start + rng.choice([0.0, 0.5, 2.0, 4.0, 9.0]), f"t{i}",
                          frame_time_s=start if modality == Modality.VISUAL else None,
                          shot_id=rng.randint(0, 2))  # fmt: skip
            evidence.append(ev(segment, round(rng.uniform(0.05, 1.0), 2), f"s{i}"))
        fast = build_spans(evidence, {"v": SHOTS}, join_floor=0.2)
        monkeypatch.setattr(fusion, "_joinable", joinable_all)
        monkeypatch.setattr(fusion, "_absorb_overlaps", absorb_all)
        plain = build_spans(evidence, {"v": SHOTS}, join_floor=0.2)
        monkeypatch.undo()
        assert shape(fast) == shape(plain)


def test_speech_whisper_would_call_a_failed_decode_is_not_dense_evidence() -> None:
    from scenespark.search.engine import failed_decode
    from scenespark.types import Segment, Word

    def speech(confidence: float, words: bool = True, modality: Modality = Modality.SPEECH):
        said = [Word(start_s=1.0, end_s=1.3, text="That?", probability=confidence)]
        return Segment(video_id="v", modality=modality, start_s=1.0, end_s=1.3, text="That?",
                       confidence=confidence, words=said if words else [])  # fmt: skip

    assert failed_decode(speech(0.24))  # a hallucination on a noise
    assert not failed_decode(speech(0.73))  # espeak narration, heard right
    assert not failed_decode(speech(0.24, words=False))  # a subtitle cue: no decode
    assert not failed_decode(speech(0.24, modality=Modality.OCR))
