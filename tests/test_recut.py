"""Transcript re-cut API: GET /api/v1/videos/{id}/transcript (sentences with word timings) and
explicit ``clips`` on a highlight request or re-plan (validated, problem+json on bad input).
Real SQLite catalog; the app through Litestar's TestClient (workers off: jobs stay queued)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from scenespark.config import Settings
from scenespark.engine import Engine
from scenespark.types import (
    HighlightJob,
    HighlightResult,
    JobStatus,
    Modality,
    Segment,
    Video,
    VideoStatus,
    Word,
)
from server.app import create_app

SAME_ORIGIN = {"origin": "http://testserver.local"}
VIDEO_ID = "v0000000000000001"


def _words(start_s: float, text: str) -> list[Word]:
    return [
        Word(start_s=round(start_s + 0.4 * i, 3), end_s=round(start_s + 0.4 * i + 0.3, 3), text=t)
        for i, t in enumerate(text.split())
    ]


@pytest.fixture
def recut(tmp_path: Path) -> Iterator[tuple[TestClient, Engine]]:
    library = tmp_path / "library"
    library.mkdir()
    (library / "talk.mp4").write_bytes(b"not really a video")
    settings = Settings(home=tmp_path / "home", library_roots=[library])
    engine = Engine(settings)
    engine.catalog.upsert_video(
        Video(
            video_id=VIDEO_ID,
            path=str(library / "talk.mp4"),
            title="talk",
            duration_s=30.0,
            status=VideoStatus.READY,
        )
    )
    sentences = [(1.0, "Welcome to the launch."), (4.0, "The base model costs 899 dollars.")]
    segments = []
    for start_s, text in sentences:
        words = _words(start_s, text)
        segments.append(
            Segment(
                video_id=VIDEO_ID,
                modality=Modality.SPEECH,
                start_s=words[0].start_s,
                end_s=words[-1].end_s,
                text=text,
                words=words,
            )
        )
    run = engine.catalog.begin_run(VIDEO_ID, Modality.SPEECH, {"speech": "test"})
    engine.catalog.commit_run(VIDEO_ID, Modality.SPEECH, run, segments)
    app = create_app(settings, engine=engine, start_workers=False)
    try:
        with TestClient(app) as client:
            yield client, engine
    finally:
        engine.close()


def test_transcript_lists_sentences_with_word_timings(recut) -> None:
    client, _ = recut
    response = client.get(f"/api/v1/videos/{VIDEO_ID}/transcript")
    assert response.status_code == 200
    body = response.json()
    assert body["video_id"] == VIDEO_ID
    texts = [s["text"] for s in body["sentences"]]
    assert texts == ["Welcome to the launch.", "The base model costs 899 dollars."]
    second = body["sentences"][1]
    assert second["start_s"] == 4.0 and second["end_s"] == pytest.approx(6.3)
    assert [w["text"] for w in second["words"]][:3] == ["The", "base", "model"]
    assert second["words"][1]["start_s"] == pytest.approx(4.4)
    missing = client.get("/api/v1/videos/nope/transcript")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("clips", "status"),
    [
        # malformed bodies are 400 (schema), impossible ones 422, unknown videos 404
        ([{"video_id": VIDEO_ID, "start_s": 5.0, "end_s": 4.0}], 400),  # end before start
        ([{"video_id": VIDEO_ID, "start_s": -1.0, "end_s": 4.0}], 400),  # negative time
        ([{"video_id": VIDEO_ID, "start_s": "1", "end_s": 4.0}], 400),  # a string, not a number
        ([{"video_id": VIDEO_ID, "start_s": 25.0, "end_s": 31.0}], 422),  # past the video's end
        ([{"video_id": "unknown0", "start_s": 1.0, "end_s": 4.0}], 404),
        ([], 400),  # an empty list is not a re-cut
        ([{"video_id": VIDEO_ID, "start_s": 1.0, "end_s": 3.0}] * 1001, 400),  # over the bound
    ],
)
def test_bad_clips_are_problems(recut, clips: list, status: int) -> None:
    client, engine = recut
    response = client.post(
        "/api/v1/highlights", json={"prompt": "re-cut", "clips": clips}, headers=SAME_ORIGIN
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert engine.catalog.list_jobs(kind="highlight", limit=5) == []  # nothing queued


def test_explicit_clips_queue_a_job_and_a_replan(recut) -> None:
    client, engine = recut
    clips = [
        {"video_id": VIDEO_ID, "start_s": 4.0, "end_s": 6.4},
        {"video_id": VIDEO_ID, "start_s": 0.9, "end_s": 2.8},
    ]
    response = client.post(
        "/api/v1/highlights", json={"prompt": "re-cut", "clips": clips}, headers=SAME_ORIGIN
    )
    assert response.status_code == 202, response.text
    job = engine.catalog.get_job(response.json()["request_id"])
    assert job is not None and job.params["clips"] == clips  # the order is kept
    done = HighlightJob(
        request_id="done0001",
        prompt="launch",
        params={"prompt": "launch", "target_duration_s": 8.0},
        status=JobStatus.DONE,
        progress=1.0,
        result=HighlightResult(duration_s=8.0),
    )
    engine.catalog.save_job(done)
    replan = client.post(
        "/api/v1/highlights/done0001/replan", json={"clips": clips[:1]}, headers=SAME_ORIGIN
    )
    assert replan.status_code == 202, replan.text
    child = engine.catalog.get_job(replan.json()["request_id"])
    assert child is not None and child.params["clips"] == clips[:1]
    bad = client.post(
        "/api/v1/highlights/done0001/replan",
        json={"clips": [{"video_id": VIDEO_ID, "start_s": 3.0, "end_s": 3.1}]},
        headers=SAME_ORIGIN,
    )
    assert bad.status_code == 400  # shorter than a clip can be
