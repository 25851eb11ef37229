"""Jobs over HTTP against the real app (real catalog, stores, models, ffmpeg; the LLM endpoint is
the local fake HTTP server): queue limits (429 + Retry-After), DELETE to cancel, a job stuck in
planning stops at once on cancel and on server stop and does not resume forever, render
leftovers swept at start, "warming" health, index outcomes kept across restarts."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from scenespark.config import Settings
from scenespark.engine import Engine
from scenespark.types import JobStatus
from server.app import create_app
from tests.fake_openai import FakeOpenAI, fake_openai  # noqa: F401  (shared fixture)

JSON = {"content-type": "application/json"}


def _wait(client: TestClient, request_id: str, done: set[str], timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        job = client.get(f"/api/v1/jobs/{request_id}").json()
        if job["status"] in done or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def _wait_message(client: TestClient, request_id: str, text: str, timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        job = client.get(f"/api/v1/jobs/{request_id}").json()
        if text in job["message"] or job["status"] not in ("queued", "running"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


@pytest.fixture(scope="module")
def sj_library(tmp_path_factory: pytest.TempPathFactory, sample_video) -> Path:
    folder = tmp_path_factory.mktemp("sj_library")
    shutil.copyfile(sample_video.path, folder / "garden.mp4")
    (folder / "notes.txt").write_text("not a video")
    return folder


@pytest.fixture(scope="module")
def sj_home(tmp_path_factory: pytest.TempPathFactory, sj_library: Path) -> Path:
    """A data dir with the sample video indexed (once for the module)."""
    from indexer.service import IndexService

    home = tmp_path_factory.mktemp("sj") / "home"
    engine = Engine(Settings(home=home, library_roots=[sj_library]))
    try:
        outcome = IndexService(engine).index_file(sj_library / "garden.mp4")
        assert outcome.action == "indexed", outcome.message
    finally:
        engine.close()
    return home


@pytest.fixture
def sj_settings(sj_home: Path, sj_library: Path, fake_openai: FakeOpenAI) -> Iterator[Settings]:  # noqa: F811
    fake_openai.slow_s = 60.0  # the planner waits for an LLM that does not answer in time
    fake_openai.reset("slow")
    yield Settings(
        home=sj_home,
        library_roots=[sj_library],
        llm_base_url=fake_openai.base_url,
        llm_timeout_s=120.0,
        llm_retries=0,
        highlight_queue_limit=1,
    )


@pytest.mark.slow
def test_highlight_queue_limit_cancel_and_stop_while_planning(sj_settings: Settings) -> None:
    app = create_app(sj_settings, warm_up=False)
    body = {"prompt": "a 10-second highlight of the garden"}
    with TestClient(app) as client:
        first = client.post("/api/v1/highlights", json=body, headers=JSON)
        assert first.status_code == 202, first.text
        first_id = first.json()["request_id"]
        planning = _wait_message(client, first_id, "planning")
        assert planning["status"] == "running", planning

        second = client.post("/api/v1/highlights", json=body, headers=JSON)
        assert second.status_code == 202, second.text
        second_id = second.json()["request_id"]
        full = client.post("/api/v1/highlights", json=body, headers=JSON)
        assert full.status_code == 429, full.text
        assert full.headers["content-type"].startswith("application/problem+json")
        assert int(full.headers["retry-after"]) > 0
        # index jobs have a queue (and a pool) of their own
        indexing = client.post("/api/v1/videos", json={"path": "notes.txt"}, headers=JSON)
        assert indexing.status_code == 202, indexing.text

        cancelled = client.delete(f"/api/v1/jobs/{second_id}")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        assert client.delete(f"/api/v1/jobs/{second_id}").status_code == 409
        missing = client.delete("/api/v1/jobs/no-such-job")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")

        asked = time.monotonic()
        stopped = client.delete(f"/api/v1/jobs/{first_id}")
        assert stopped.status_code == 200, stopped.text
        assert stopped.json()["status"] == "cancelled", stopped.json()
        assert time.monotonic() - asked < 3.0  # not the 60 s the LLM would take

        third = client.post("/api/v1/highlights", json=body, headers=JSON)
        assert third.status_code == 202, third.text  # the queue has room again
        third_id = third.json()["request_id"]
        assert _wait_message(client, third_id, "planning")["status"] == "running"
        index_job = _wait(client, indexing.json()["job"]["request_id"], {"done", "failed"})
        assert index_job["status"] == "failed" and index_job["outcomes"], index_job
        shown = index_job["outcomes"][0]
        assert shown["path"] == "notes.txt" and str(sj_settings.home) not in shown["message"]
        asked = time.monotonic()
    # leaving the client stops the server: the job stuck in planning stops promptly
    assert time.monotonic() - asked < 5.0

    engine = Engine(sj_settings)
    try:
        job = engine.catalog.get_job(third_id)
        assert job is not None and job.status == JobStatus.QUEUED and job.interruptions == 1
        for request_id in (first_id, second_id):
            again = engine.catalog.get_job(request_id)
            assert again is not None and again.status == JobStatus.CANCELLED
        # the index job's outcome is kept in the catalog, not in the server's memory
        kept = engine.catalog.get_job(index_job["request_id"])
        assert kept is not None and [o.action for o in kept.outcomes] == ["failed"]
        # interrupted twice more: failed instead of resuming on every start
        job = job.model_copy(update={"interruptions": sj_settings.job_max_interruptions - 1})
        engine.catalog.save_job(job.model_copy(update={"status": JobStatus.RUNNING}))
    finally:
        engine.close()
    with TestClient(create_app(sj_settings, warm_up=False)) as client:
        failed = client.get(f"/api/v1/jobs/{third_id}").json()
        assert failed["status"] == "failed" and "not resumed" in failed["error"], failed


def test_leftovers_are_swept_at_start_and_jobs_without_workers_can_be_cancelled(
    tmp_path: Path,
) -> None:
    settings = Settings(home=tmp_path / "home", library_roots=[tmp_path])
    work = settings.media_dir / "highlights" / "r1" / ".render-abcdef0123"
    work.mkdir(parents=True)
    (work / "v000.mp4").write_bytes(b"x" * 1000)
    part = work.parent / ".reel.abcdef0123.part.mp4"
    part.write_bytes(b"x" * 1000)
    old = time.time() - 3600
    for path in (work, part):
        os.utime(path, (old, old))
    (tmp_path / "a.mp4").write_bytes(b"not a video")
    with TestClient(create_app(settings, start_workers=False)) as client:
        assert not work.exists() and not part.exists()
        queued = client.post("/api/v1/videos", json={"path": "a.mp4"}, headers=JSON)
        assert queued.status_code == 202, queued.text
        request_id = queued.json()["job"]["request_id"]
        cancelled = client.delete(f"/api/v1/jobs/{request_id}")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        assert client.delete(f"/api/v1/jobs/{request_id}").status_code == 409


@pytest.mark.slow
def test_health_answers_at_once_and_says_warming_until_models_load(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    with TestClient(create_app(settings, start_workers=False, warm_up=True)) as client:
        asked = time.monotonic()
        first = client.get("/api/v1/health")
        assert first.status_code == 200 and time.monotonic() - asked < 2.0
        assert first.json()["status"] == "warming"
        deadline = time.monotonic() + 180
        while client.get("/api/v1/health").json()["status"] == "warming":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert client.get("/api/v1/health").json()["status"] == "ok"
