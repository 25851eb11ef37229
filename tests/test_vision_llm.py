"""Frames described by a vision LLM (``SCENESPARK_VISUAL_BACKEND=vlm``).

The endpoint is :class:`tests.fake_vision.FakeVision`: a real HTTP server on 127.0.0.1, driven by
the real ``openai`` client, that captions each frame from the pixels it receives (its dominant
colour). The media is generated with ffmpeg: a red, a green and a blue shot with film grain.
Everything else is real: the scan, the text model, Chroma, SQLite, search.
"""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scenespark.config import Settings, load_settings
from scenespark.engine import Engine
from scenespark.errors import ModelUnavailableError
from scenespark.media.frame_budget import BudgetFrame, FrameBudget, spread
from scenespark.models.registry import ModelRegistry, describe_models
from scenespark.models.resolve import endpoint_host
from scenespark.models.vision_llm import (
    CaptionFrame,
    VisionCaptioner,
    build_messages,
    encode_jpeg,
    parse_captions,
)
from scenespark.types import Modality, SearchRequest
from tests.fake_vision import COLOURS, FakeVision, describe
from tests.fake_vision import fake_vision as fake_vision  # the fixture

SHOT_S = 8.0


def _solid(colour: str, width: int = 1280, height: int = 720) -> np.ndarray:
    rng = np.random.default_rng(len(colour))
    image = np.zeros((height, width, 3), dtype=np.int16) + np.array(COLOURS[colour])
    image += rng.integers(-12, 12, size=image.shape, dtype=np.int16)
    return np.clip(image, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def colour_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """24 s, 1280x720: red, green, blue shots of 8 s each, with moving grain (no audio)."""
    out = tmp_path_factory.mktemp("vlm-media") / "colours.mp4"
    inputs: list[str] = []
    for colour in ("red", "green", "blue"):
        r, g, b = COLOURS[colour]
        inputs += [
            "-f",
            "lavfi",
            "-i",
            f"color=c=0x{r:02x}{g:02x}{b:02x}:s=1280x720:r=10:d={SHOT_S}",
        ]
    graph = "[0:v][1:v][2:v]concat=n=3:v=1:a=0,noise=alls=24:allf=t+u,format=yuv420p[v]"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            *inputs,
            "-filter_complex",
            graph,
            "-map",
            "[v]",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            str(out),
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )
    return out


def vlm_settings(home: Path, fake: FakeVision, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "home": home,
        "visual_backend": "vlm",
        "vision_base_url": fake.base_url,
        "vision_model": fake.model,
        "vision_api_key": "sk-secret-key",
        "vision_retries": 0,
        "vision_timeout_s": 5.0,
        "ocr_model": "none",
        "frame_interval_s": 2.0,
    }
    values.update(overrides)
    return load_settings(**values)


def captioner(settings: Settings) -> VisionCaptioner:
    visual = ModelRegistry(settings).visual()
    assert isinstance(visual, VisionCaptioner)
    return visual


# --------------------------------------------------------------------------------------------
# settings and resolution
# --------------------------------------------------------------------------------------------


def test_vision_endpoint_defaults_to_the_llm_endpoint(tmp_path: Path) -> None:
    settings = load_settings(
        home=tmp_path,
        visual_backend="vlm",
        llm_base_url="http://user:pw@llm.local:8080/v1",
        llm_model="qwen2.5-vl",
        llm_api_key="k1",
    )
    assert settings.vision_endpoint == ("http://user:pw@llm.local:8080/v1", "qwen2.5-vl", "k1")
    info = {m.modality: m for m in describe_models(settings)}["visual"]
    assert info.backend == "vision-llm" and info.name == "qwen2.5-vl" and info.available
    assert "llm.local:8080" in info.reason
    assert "pw" not in info.reason and "k1" not in info.reason
    own = load_settings(
        home=tmp_path,
        visual_backend="vlm",
        llm_base_url="http://llm.local/v1",
        vision_base_url="http://vision.local:9000/v1",
        vision_model="gpt-4o-mini",
        vision_api_key="k2",
    )
    assert own.vision_endpoint == ("http://vision.local:9000/v1", "gpt-4o-mini", "k2")
    assert endpoint_host("https://key:secret@api.example.com/v1?x=1") == "api.example.com"


def test_vlm_without_an_endpoint_is_reported_not_raised(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path, visual_backend="vlm")
    info = {m.modality: m for m in describe_models(settings)}["visual"]
    assert not info.available and "SCENESPARK_VISION_BASE_URL" in info.reason
    with pytest.raises(ModelUnavailableError, match="SCENESPARK_VISION_BASE_URL"):
        ModelRegistry(settings).visual()


# --------------------------------------------------------------------------------------------
# request building and reply validation (pure)
# --------------------------------------------------------------------------------------------


def test_encode_jpeg_downscales_to_the_max_side() -> None:
    image = _solid("red", 1920, 1080)
    jpeg = encode_jpeg(image, 512, 80)
    decoded = Image.open(io.BytesIO(jpeg))
    assert decoded.format == "JPEG" and max(decoded.size) == 512 and decoded.size[1] == 288
    small = encode_jpeg(_solid("red", 300, 200), 512, 80)
    assert Image.open(io.BytesIO(small)).size == (300, 200)  # never upscaled
    assert len(encode_jpeg(image, 512, 40)) < len(encode_jpeg(image, 512, 90))


def test_messages_carry_indexed_times_and_jpeg_data_urls() -> None:
    jpegs = [encode_jpeg(_solid(c, 64, 48), 64, 80) for c in ("red", "blue")]
    messages = build_messages([3.0, 75.5], jpegs)
    assert messages[0]["role"] == "system" and '"frames"' in messages[0]["content"]
    parts = messages[1]["content"]
    texts = [p["text"] for p in parts if p["type"] == "text"]
    urls = [p["image_url"]["url"] for p in parts if p["type"] == "image_url"]
    assert "Frame 0 at 0:03.0" in texts and "Frame 1 at 1:15.5" in texts
    assert len(urls) == 2 and all(u.startswith("data:image/jpeg;base64,") for u in urls)
    assert base64.b64decode(urls[1].split(",", 1)[1]) == jpegs[1]


def test_parse_captions_keeps_good_entries_and_names_the_problems() -> None:
    good = json.dumps({"frames": [{"index": i, "caption": f"c{i}", "tags": ["t"]} for i in (0, 1)]})
    captions, problems = parse_captions(good, 2)
    assert sorted(captions) == [0, 1] and not problems
    assert captions[1].searchable_text() == "c1 | t"
    fenced, problems = parse_captions(f"```json\n{good}\n```", 2)
    assert sorted(fenced) == [0, 1] and not problems
    _none, problems = parse_captions("Sure! {frames: [", 2)
    assert problems and "not valid JSON" in problems[0]
    shifted = json.dumps({"frames": [{"index": 1, "caption": "a"}, {"index": 2, "caption": "b"}]})
    captions, problems = parse_captions(shifted, 2)
    assert captions == {}  # numbering off by one: nothing is trusted
    assert any("index 2 is not 0..1" in p for p in problems)
    assert any("no caption for index 0" in p for p in problems)
    dupes = json.dumps({"frames": [{"index": 0, "caption": "a"}, {"index": 0, "caption": "b"}]})
    captions, problems = parse_captions(dupes, 1)
    assert captions == {} and any("twice" in p for p in problems)
    typed = json.dumps({"frames": [{"index": "0", "caption": "a"}, {"index": 1, "tags": "x"}]})
    captions, problems = parse_captions(typed, 2)
    assert not captions and len(problems) == 3
    _none, problems = parse_captions(json.dumps([1, 2]), 2)
    assert problems == ['the answer must be a JSON object {"frames": [...]}']


# --------------------------------------------------------------------------------------------
# cost control: frames per minute and perceptual-hash dedup
# --------------------------------------------------------------------------------------------


def _frame(time_s: float, phash: int, keyframe: bool = False, rgb: float = 0.0) -> BudgetFrame:
    return BudgetFrame(time_s, phash, keyframe, time_s, (rgb, rgb, rgb))


def test_spread_picks_evenly() -> None:
    assert spread(10, 3) == [1, 5, 8]
    assert spread(3, 5) == [0, 1, 2] and spread(4, 0) == []


def test_frame_budget_caps_each_minute_keyframes_first() -> None:
    budget: FrameBudget[float] = FrameBudget(max_per_minute=4)
    rng = np.random.default_rng(1)
    hashes = [int(h) for h in rng.integers(0, 2**63, size=40)]
    decisions = []
    for i in range(40):  # 80 s at one frame every 2 s; a keyframe every 10 s
        decisions += budget.offer(_frame(2.0 * i, hashes[i], keyframe=i % 5 == 0))
    decisions += budget.finish()
    assert [d.frame.time_s for d in decisions] == [2.0 * i for i in range(40)]
    first = [d for d in decisions if d.frame.time_s < 60]
    sent = [d.frame for d in first if d.action == "send"]
    assert len(sent) == 4 and all(f.keyframe for f in sent)  # 6 keyframes in minute 0 → 4
    second = [d for d in decisions if d.frame.time_s >= 60]
    sent2 = [d.frame for d in second if d.action == "send"]
    assert len(sent2) == 4 and sum(f.keyframe for f in sent2) == 2  # 2 keyframes + 2 spread
    assert {d.action for d in decisions} == {"send", "over_budget"}


def test_frame_budget_dedups_by_hash_and_colour_across_shots() -> None:
    budget: FrameBudget[float] = FrameBudget(max_per_minute=10)
    a, b = 0x0F0F_0F0F_0F0F_0F0F, 0x7777_0000_FFFF_1234
    frames = [
        _frame(0.0, a, True, rgb=100.0),
        _frame(10.0, b, True, rgb=100.0),
        _frame(20.0, a ^ 0b111, True, rgb=110.0),  # same picture (3 bits, similar colour)
        _frame(30.0, a, True, rgb=200.0),  # same structure, another colour: not a duplicate
        _frame(70.0, b ^ 1, True, rgb=95.0),  # next minute, repeats the frame at 10 s
    ]
    decisions = [d for f in frames for d in budget.offer(f)] + budget.finish()
    actions = [(d.frame.time_s, d.action, d.same_as_s) for d in decisions]
    assert actions == [
        (0.0, "send", None),
        (10.0, "send", None),
        (20.0, "duplicate", 0.0),
        (30.0, "send", None),
        (70.0, "duplicate", 10.0),
    ]


# --------------------------------------------------------------------------------------------
# the captioner against the fake endpoint (real HTTP, real openai client)
# --------------------------------------------------------------------------------------------


def test_batch_is_one_request_with_downscaled_images(tmp_path: Path, fake_vision) -> None:
    settings = vlm_settings(tmp_path, fake_vision, vision_max_side_px=512)
    frames = [CaptionFrame(float(i), _solid(c)) for i, c in enumerate(["red", "green", "blue"])]
    result = captioner(settings).caption(frames)
    assert not result.error and result.requests == 1 and result.images == 3
    assert [result.captions[i].caption for i in range(3)] == [
        describe(_solid(c))[0] for c in ("red", "green", "blue")
    ]
    assert fake_vision.image_sizes == [(512, 288)] * 3
    body = fake_vision.requests[0]
    assert body["model"] == "fake-vision" and body["response_format"] == {"type": "json_object"}
    assert 0 < result.image_bytes < 3 * 80_000


def test_endpoint_without_response_format_support(tmp_path: Path, fake_vision) -> None:
    fake_vision.reset("reject_formats")
    cap = captioner(vlm_settings(tmp_path, fake_vision))
    result = cap.caption([CaptionFrame(0.0, _solid("blue", 320, 240))])
    assert result.captions[0].caption == "a sailing boat on a blue sea"
    assert [r.get("response_format") for r in fake_vision.requests] == [
        {"type": "json_object"},
        None,
    ]
    cap.caption([CaptionFrame(0.0, _solid("red", 320, 240))])  # remembered: no second 400
    assert fake_vision.requests[-1].get("response_format") is None


@pytest.mark.parametrize("fault", ["invalid_json", "wrong_indexes", "half", "wrong_shape"])
def test_bad_reply_gets_one_repair_for_the_missing_frames(
    tmp_path: Path, fake_vision, fault: str
) -> None:
    fake_vision.reset(fault, "good")
    frames = [CaptionFrame(float(i), _solid(c, 320, 240)) for i, c in enumerate(["red", "green"])]
    result = captioner(vlm_settings(tmp_path, fake_vision)).caption(frames)
    assert not result.error and result.requests == 2
    assert result.captions[0].caption.startswith("a red apple")
    assert result.captions[1].caption.startswith("a goalkeeper")
    repair_images = len(fake_vision.image_sizes) - 2
    expected = {"invalid_json": 2, "wrong_indexes": 2, "half": 1, "wrong_shape": 2}[fault]
    assert repair_images == expected  # only the frames still missing are sent again
    repair = fake_vision.requests[1]["messages"]
    assert repair[-1]["role"] == "user" and "invalid" in repair[-1]["content"]


def test_still_bad_after_the_repair_leaves_frames_without_caption(
    tmp_path: Path, fake_vision
) -> None:
    fake_vision.reset("half", "invalid_json")
    frames = [CaptionFrame(float(i), _solid("red", 320, 240)) for i in range(4)]
    result = captioner(vlm_settings(tmp_path, fake_vision)).caption(frames)
    assert sorted(result.captions) == [0, 1] and result.requests == 2
    assert "2 frame(s) without a caption after one repair" in result.error


@pytest.mark.parametrize("fault", ["error500", "slow"])
def test_endpoint_errors_and_timeouts_never_raise(tmp_path: Path, fake_vision, fault: str) -> None:
    fake_vision.reset(fault)
    fake_vision.slow_s = 2.0
    settings = vlm_settings(tmp_path, fake_vision, vision_timeout_s=0.5, vision_retries=1)
    result = captioner(settings).caption([CaptionFrame(0.0, _solid("red", 320, 240))])
    assert result.captions == {}
    assert ("HTTP 500" if fault == "error500" else "timed out after 0.5 s") in result.error
    assert len(fake_vision.requests) == 2  # the openai client's own retry


# --------------------------------------------------------------------------------------------
# indexing → search, partial faults, rebuild, status
# --------------------------------------------------------------------------------------------


def _index(settings: Settings, video: Path, messages: list[str] | None = None):
    from indexer.service import IndexService

    engine = Engine(settings)
    service = IndexService(engine)
    seen = messages if messages is not None else []
    return engine, service, service.index_file(video, on_progress=lambda _f, m: seen.append(m))


@pytest.mark.slow
def test_index_and_search_by_what_the_frames_show(
    tmp_path: Path, fake_vision, colour_video: Path
) -> None:
    settings = vlm_settings(tmp_path / "home", fake_vision, vision_frames_per_request=4)
    messages: list[str] = []
    engine, service, outcome = _index(settings, colour_video, messages)
    assert outcome.action == "indexed", outcome.message
    batches = [m for m in messages if m.startswith("describing frames: batch")]
    assert len(batches) == len(fake_vision.requests)  # the progress bar moves per batch
    assert outcome.sources["visual"] == "vlm:fake-vision"
    requests = len(fake_vision.requests)
    images = fake_vision.images_received()
    assert requests >= 2 and images <= 4 * requests  # batched: several frames per request
    assert all(max(size) <= 1024 for size in fake_vision.image_sizes)
    assert max(max(size) for size in fake_vision.image_sizes) == 1024  # 1280 → 1024
    segments = engine.catalog.segments(outcome.video_id, [Modality.VISUAL])
    assert segments and all(s.source == "vlm:fake-vision" and s.thumbnail for s in segments)
    for seg in segments:  # the caption matches the colour shown at that time
        colour = ("red", "green", "blue")[min(2, int(seg.frame_time_s // SHOT_S))]
        assert seg.text.startswith(describe(_solid(colour))[0]), (seg.frame_time_s, seg.text)
    assert "0 missing" in outcome.message and f"{images} images sent" in outcome.message

    from scenespark.search.engine import SearchEngine

    search = SearchEngine(engine)
    for query, (lo, hi) in {
        "a goalkeeper diving": (SHOT_S, 2 * SHOT_S),
        "a red apple on a table": (0.0, SHOT_S),
        "boat on the sea": (2 * SHOT_S, 3 * SHOT_S),
    }.items():
        hits = search.search(SearchRequest(query=query, top_k=3)).results
        assert hits, query
        top = hits[0]
        assert lo - 0.5 <= top.start_s and top.end_s <= hi + 0.5, (query, top)
        assert query.split()[-1] in top.evidence.visual_labels or query.split()[1] in (
            top.evidence.visual_labels
        )

    status = service.library_status()
    vision = status["vision"]
    assert vision["model"] == "fake-vision" and vision["host"].startswith("127.0.0.1:")
    assert vision["frames_missing"] == 0 and 0 < vision["frames_captioned"] <= len(segments)
    assert vision["requests"] == requests and vision["images"] == images
    assert "sk-secret-key" not in json.dumps(status)

    # unchanged: nothing sent again
    again = service.index_file(colour_video)
    assert again.action == "skipped" and len(fake_vision.requests) == requests


@pytest.mark.slow
def test_a_500_mid_video_then_rebuild_completes_only_the_gaps(
    tmp_path: Path, fake_vision, colour_video: Path
) -> None:
    settings = vlm_settings(
        tmp_path / "home", fake_vision, vision_frames_per_request=2, vision_concurrency=1
    )
    fake_vision.reset("good", "error500", "good")
    engine, service, outcome = _index(settings, colour_video)
    assert outcome.action == "indexed"
    usage = engine.catalog.captions.usage("fake-vision", outcome.video_id)
    assert usage.frames_missing == 2 and usage.frames_captioned >= 2
    assert f"{usage.frames_missing} missing" in outcome.message
    assert "index rebuild --modality visual" in outcome.message
    first_images = fake_vision.images_received()
    video = engine.catalog.require_video(outcome.video_id)
    assert Modality.VISUAL in service.stale_modalities(video)  # gaps make the modality stale
    segments_before = engine.catalog.segments(outcome.video_id, [Modality.VISUAL])

    fake_vision.reset("good")
    (rebuilt,) = service.rebuild([outcome.video_id], [Modality.VISUAL])
    assert rebuilt.action == "reindexed"
    assert fake_vision.images_received() == 2 and len(fake_vision.requests) == 1
    after = engine.catalog.captions.usage("fake-vision", outcome.video_id)
    assert after.frames_missing == 0
    assert after.frames_captioned == usage.frames_captioned + 2
    assert after.images == first_images + 2  # the ledger adds up what was sent
    segments_after = engine.catalog.segments(outcome.video_id, [Modality.VISUAL])
    assert len(segments_after) > len(segments_before)
    assert service.stale_modalities(engine.catalog.require_video(outcome.video_id)) == []


@pytest.mark.slow
def test_a_dead_endpoint_is_given_up_and_indexing_still_succeeds(
    tmp_path: Path, fake_vision, colour_video: Path
) -> None:
    settings = vlm_settings(
        tmp_path / "home",
        fake_vision,
        vision_frames_per_request=1,
        vision_concurrency=1,
        ocr_model="rapidocr",
    )
    fake_vision.reset("error500")
    engine, _service, outcome = _index(settings, colour_video)
    assert outcome.action == "indexed"
    assert outcome.counts.get("visual") == 0
    usage = engine.catalog.captions.usage("fake-vision", outcome.video_id)
    assert usage.frames_missing >= 4 and usage.frames_captioned == 0
    assert len(fake_vision.requests) == 3  # three failed batches in a row, then no more
    assert "HTTP 500" in outcome.message


@pytest.mark.slow
def test_health_reports_the_vision_model_without_the_key(
    tmp_path: Path, fake_vision, colour_video: Path
) -> None:
    from litestar.testing import TestClient

    from server.app import create_app

    settings = vlm_settings(tmp_path / "home", fake_vision, vision_frames_per_request=8)
    engine, _service, _outcome = _index(settings, colour_video)
    with TestClient(create_app(settings, engine=engine, start_workers=False)) as client:
        response = client.get("/api/v1/health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert "sk-secret-key" not in response.text
    vision = body["vision"]
    assert vision["model"] == "fake-vision" and vision["host"].startswith("127.0.0.1:")
    assert vision["frames_missing"] == 0 and vision["frames_captioned"] > 0
    assert vision["requests"] == len(fake_vision.requests)
    assert vision["images"] == fake_vision.images_received()
    visual = {m["modality"]: m for m in body["models"]}["visual"]
    assert visual["backend"] == "vision-llm" and visual["name"] == "fake-vision"


def test_caption_ledger_keeps_what_was_paid_for(tmp_path: Path) -> None:
    from scenespark.store.catalog import Catalog
    from scenespark.store.catalog.captions import StoredCaption
    from scenespark.types import Video

    with Catalog(tmp_path / "catalog.db") as catalog:
        catalog.upsert_video(Video(video_id="v1", path="/media/v1.mp4"))
        ledger = catalog.captions
        ledger.save(
            "v1",
            "m",
            [
                StoredCaption(1000, 0xABC, "captioned", "a red apple", ["apple"]),
                StoredCaption(3000, 0xDEF, "missing", error="HTTP 500"),
                StoredCaption(5000, 0x123, "missing", error="timeout"),
            ],
        )
        # a later failure never erases a caption; a later success fills a gap
        ledger.save("v1", "m", [StoredCaption(1000, 0xABC, "missing", error="HTTP 500")])
        ledger.save("v1", "m", [StoredCaption(3000, 0xDEF, "captioned", "a boat", ["boat"])])
        rows = {r.time_ms: r for r in ledger.of_video("v1", "m")}
        assert rows[1000].caption == "a red apple" and rows[1000].tags == ["apple"]
        assert rows[3000].status == "captioned" and rows[3000].phash == 0xDEF
        assert rows[5000].status == "missing" and rows[5000].error == "timeout"
        ledger.add_usage("v1", "m", "127.0.0.1:9", requests=2, images=5, image_bytes=900)
        ledger.add_usage("v1", "m", "127.0.0.1:9", requests=1, images=1, image_bytes=100)
        usage = ledger.usage("m")
        assert (usage.frames_captioned, usage.frames_missing) == (2, 1)
        assert (usage.requests, usage.images, usage.image_bytes) == (3, 6, 1000)
        assert usage.hosts == ("127.0.0.1:9",) and ledger.usage("other").requests == 0
        ledger.keep_only("v1", "m", [1000])  # frames no longer sampled leave the ledger
        assert [r.time_ms for r in ledger.of_video("v1", "m")] == [1000]
        catalog.delete_video("v1")
        assert ledger.usage("m") == type(usage)()  # removed with the video


# --------------------------------------------------------------------------------------------
# highlights: captions are evidence; keyframes optionally go to the LLM planner
# --------------------------------------------------------------------------------------------

GOAL_CAPTION = "a goalkeeper diving on a green football pitch | goalkeeper, football, pitch"


def _caption_candidates(home: Path) -> list:
    from scenespark.highlights.candidates import Candidate

    thumbs = home / "media" / "thumbs" / "v1"
    thumbs.mkdir(parents=True, exist_ok=True)
    out = []
    for i, (colour, caption) in enumerate(
        [("green", GOAL_CAPTION), ("blue", "a sailing boat on a blue sea | boat, sea")]
    ):
        Image.fromarray(_solid(colour, 160, 90)).save(thumbs / f"{i}.jpg", quality=80)
        out.append(
            Candidate(
                candidate_id=f"c{i + 1}",
                video_id="v1",
                start_s=10.0 * i,
                end_s=10.0 * i + 8.0,
                score=0.9 - 0.2 * i,
                modality_scores={"visual": 0.9 - 0.2 * i},
                visual_labels=caption,
                focus_s=10.0 * i + 1.0,
                keyframe=f"media/thumbs/v1/{i}.jpg",
            )
        )
    return out


def test_deterministic_planner_uses_captions_like_any_evidence() -> None:
    from scenespark.highlights.candidates import BoundaryIndex, Candidate
    from scenespark.highlights.planner import plan_highlight
    from scenespark.types import HighlightRequest

    goal = Candidate(
        candidate_id="c1",
        video_id="v1",
        start_s=0.0,
        end_s=8.0,
        score=0.9,
        modality_scores={"visual": 0.9},
        visual_labels=GOAL_CAPTION,
    )
    plan = plan_highlight(
        HighlightRequest(prompt="a 6-second highlight of the goalkeeper"),
        [goal],
        {"v1": BoundaryIndex.empty("v1", 60.0)},
        llm=None,
    )
    (clip,) = plan.clips
    assert clip.title == "A goalkeeper diving on a green football pitch"
    assert "goalkeeper" in clip.tags and "football" in clip.tags
    assert clip.reason.startswith("matched visual") and "goalkeeper diving" in clip.reason
    apple = goal.model_copy(update={"visual_labels": "a red apple on a wooden table | apple"})
    plan = plan_highlight(
        HighlightRequest(prompt="a 6-second highlight of the kitchen"),
        [apple],
        {"v1": BoundaryIndex.empty("v1", 60.0)},
        llm=None,
    )
    (clip,) = plan.clips
    assert "apple" in clip.tags and "table" in clip.tags
    assert all(len(tag.split()) <= 3 for tag in clip.tags)  # a caption's words, not the caption


def test_llm_planner_sees_captions_and_optionally_keyframes(tmp_path: Path) -> None:
    from scenespark.highlights.llm import LLMPlanner
    from scenespark.types import HighlightRequest
    from tests.fake_openai import FakeOpenAI

    fake = FakeOpenAI().start()
    try:
        request = HighlightRequest(prompt="a 10-second highlight of the goalkeeper")
        cands = _caption_candidates(tmp_path)
        base = {"home": tmp_path, "llm_base_url": fake.base_url, "llm_retries": 0}
        LLMPlanner(Settings(**base)).choose(request, cands, target_duration_s=10.0)
        (body,) = fake.requests
        user = body["messages"][1]["content"]
        assert isinstance(user, str) and "a goalkeeper diving on a green football pitch" in user
        assert "image_url" not in json.dumps(body)  # keyframes are opt-in

        fake.reset("good")
        planner = LLMPlanner(Settings(**base, llm_send_keyframes=True))
        plan = planner.choose(request, cands, target_duration_s=10.0)
        assert plan.clips
        parts = fake.requests[0]["messages"][1]["content"]
        assert parts[0]["type"] == "text" and GOAL_CAPTION.split(" |")[0] in parts[0]["text"]
        named = [p["text"] for p in parts if p["type"] == "text"][1:]
        assert named == ["Keyframe of candidate c1:", "Keyframe of candidate c2:"]
        images = [p["image_url"]["url"] for p in parts if p["type"] == "image_url"]
        decoded = [
            np.asarray(Image.open(io.BytesIO(base64.b64decode(u.split(",", 1)[1])))) for u in images
        ]
        from tests.fake_vision import dominant_colour

        assert [dominant_colour(img) for img in decoded] == ["green", "blue"]

        fake.reset("error500", "good")  # an endpoint that fails with images: asked without them
        plan = planner.choose(request, cands, target_duration_s=10.0)
        assert plan.clips and len(fake.requests) == 2
        assert isinstance(fake.requests[1]["messages"][1]["content"], str)
    finally:
        fake.stop()


# --------------------------------------------------------------------------------------------
# the README's CLIP checkpoint example, as a user runs it
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_readme_clip_checkpoint_example(tmp_path: Path, colour_video: Path) -> None:
    """The README's recipe: SCENESPARK_CLIP_MODEL + SCENESPARK_CLIP_PRETRAINED pointing at a file
    saved with ``torch.save({"state_dict": ...})``. The weights are a randomly initialised
    open_clip ViT-S-32 (no real CLIP weights are reachable offline): this checks the wiring
    (resolution, loading, indexing into the CLIP space), not retrieval quality."""
    import os
    import sys

    import open_clip
    import torch

    torch.manual_seed(0)
    checkpoint = tmp_path / "vit-s-32-random.pt"
    torch.save({"state_dict": open_clip.create_model("ViT-S-32").state_dict()}, checkpoint)
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "SCENESPARK_HOME": str(tmp_path / "home"),
        "SCENESPARK_VISUAL_BACKEND": "clip",
        "SCENESPARK_CLIP_MODEL": "ViT-S-32",
        "SCENESPARK_CLIP_PRETRAINED": str(checkpoint),
        "SCENESPARK_OCR_MODEL": "none",
    }

    def scenespark(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "server.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    models = scenespark("models")
    assert f"visual  open_clip: ViT-S-32:{checkpoint.resolve()}, 384-d" in models
    scenespark("index", "add", str(colour_video))
    status = json.loads(scenespark("index", "status", "--json"))
    (video,) = status["videos"]
    assert video["counts"]["visual"] >= 3  # at least a frame per shot, as CLIP vectors
    assert video["models"]["visual"].startswith(f"open_clip:ViT-S-32:{checkpoint.resolve()}@fp:")


@pytest.mark.slow
def test_cli_reports_gaps_and_rebuild_fills_them(
    tmp_path: Path, fake_vision, colour_video: Path
) -> None:
    """`scenespark index add` with a 500 mid-video says how many frames are missing;
    `index status` shows the vision model, host (no key) and counts; `index rebuild --modality
    visual` sends only the missing frames."""
    import os
    import sys

    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "SCENESPARK_HOME": str(tmp_path / "home"),
        "SCENESPARK_VISUAL_BACKEND": "vlm",
        "SCENESPARK_LLM_BASE_URL": fake_vision.base_url.replace("http://", "http://me:pw@"),
        "SCENESPARK_LLM_MODEL": fake_vision.model,
        "SCENESPARK_LLM_API_KEY": "sk-secret-key",
        "SCENESPARK_VISION_RETRIES": "0",
        "SCENESPARK_VISION_FRAMES_PER_REQUEST": "2",
        "SCENESPARK_VISION_CONCURRENCY": "1",
        "SCENESPARK_OCR_MODEL": "none",
    }

    def scenespark(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "server.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        output = done.stdout + done.stderr
        assert "sk-secret-key" not in output and "pw@" not in output
        return output

    fake_vision.reset("good", "error500", "good")
    added = scenespark("index", "add", str(colour_video))
    assert re.search(r"vision: \d+ frames described, 2 missing", added), added
    assert "HTTP 500" in added and "index rebuild --modality visual" in added
    status = scenespark("index", "status")
    line = next(x for x in status.splitlines() if x.startswith("vision LLM:"))
    host = fake_vision.base_url.split("//")[1].split("/")[0]
    assert line.startswith(f"vision LLM: fake-vision at {host}: ") and ", 2 missing;" in line
    assert "visual  vision-llm: fake-vision" in status

    fake_vision.reset("good")
    rebuilt = scenespark("index", "rebuild", "--modality", "visual")
    assert fake_vision.images_received() == 2 and len(fake_vision.requests) == 1
    assert ", 0 missing" in rebuilt
    status = scenespark("index", "status")
    assert ", 0 missing;" in next(x for x in status.splitlines() if x.startswith("vision LLM:"))
