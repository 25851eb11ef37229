"""JobRunner with the real SQLite catalog: lifecycle, progress, failures, bounded concurrency and
recovery after a simulated restart (a new runner on the same database)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from scenespark.errors import (
    ConflictError,
    MediaError,
    NotFoundError,
    QueueFullError,
    RenderError,
)
from scenespark.jobs.leftovers import sweep_leftovers
from scenespark.jobs.progress import JobStopped, ProgressFn, StopToken, run_stoppable
from scenespark.jobs.runner import (
    INTERRUPTED_MESSAGE,
    JobRunner,
    error_line,
    with_job_output,
)
from scenespark.store.catalog import Catalog
from scenespark.types import (
    Clip,
    HighlightJob,
    HighlightResult,
    IndexFileOutcome,
    IndexJob,
    JobStatus,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def rj_db(tmp_path: Path) -> Path:
    return tmp_path / "catalog.db"


@pytest.fixture
def rj_catalog(rj_db: Path):
    catalog = Catalog(rj_db)
    yield catalog
    catalog.close()


def _result(job: HighlightJob) -> HighlightResult:
    clip = Clip(clip_id="c1", video_id="v1", start_s=1.0, end_s=3.5, title=job.prompt)
    return HighlightResult(
        title=job.prompt, clips=[clip], duration_s=2.5, reel_path="media/x/reel.mp4"
    )


def test_job_lifecycle_is_persisted(rj_catalog: Catalog) -> None:
    started = threading.Event()
    release = threading.Event()

    def fn(job: HighlightJob, report: ProgressFn) -> HighlightResult:
        started.set()
        assert release.wait(10)
        report(0.5, "half way")
        return _result(job)

    with JobRunner(rj_catalog, workers=1) as runner:
        job = runner.submit("highlight", "the goals", {"target_duration_s": 30}, fn)
        assert len(job.request_id) == 32
        stored = rj_catalog.get_job(job.request_id)
        assert stored is not None and stored.status in (JobStatus.QUEUED, JobStatus.RUNNING)
        assert stored.params == {"target_duration_s": 30}
        assert started.wait(10)
        running = rj_catalog.get_job(job.request_id)
        assert running is not None and running.status == JobStatus.RUNNING
        release.set()
        final = runner.wait(job.request_id, timeout_s=10)
    assert final.status == JobStatus.DONE
    assert final.progress == 1.0 and final.error == ""
    assert final.finished_at is not None and final.finished_at >= final.created_at
    stored = rj_catalog.get_job(job.request_id)
    assert stored is not None and stored.status == JobStatus.DONE
    assert stored.result is not None and stored.result.clips[0].clip_id == "c1"
    assert stored.result.title == "the goals"


def test_progress_is_visible_and_throttled(rj_catalog: Catalog) -> None:
    checkpoint = threading.Event()
    resume = threading.Event()
    writes: list[float] = []
    original_save = rj_catalog.save_job

    def counting_save(job: HighlightJob) -> None:
        writes.append(time.monotonic())
        original_save(job)

    rj_catalog.save_job = counting_save  # type: ignore[method-assign]  # count real writes

    def fn(job: HighlightJob, report: ProgressFn) -> None:
        report(0.3, "rendering clip 1")
        time.sleep(0.3)
        report(0.4, "rendering clip 2")  # 0.3 s after the last write: persisted
        checkpoint.set()
        assert resume.wait(10)
        for i in range(500):  # a chatty job: these must not become 500 writes
            report(0.4 + 0.5 * i / 500, "tick")
        return None

    with JobRunner(rj_catalog, workers=1) as runner:
        job = runner.submit("highlight", "p", {}, fn)
        assert checkpoint.wait(10)
        live = runner.get(job.request_id)
        assert live is not None and live.progress == pytest.approx(0.4)
        assert live.message == "rendering clip 2"
        stored = rj_catalog.get_job(job.request_id)
        assert stored is not None and stored.progress == pytest.approx(0.4)
        resume.set()
        final = runner.wait(job.request_id, timeout_s=10)
    assert final.status == JobStatus.DONE and final.result is None
    # submit + running + 1-2 progress writes + a few ticks + done; far fewer than 500.
    assert len(writes) < 12


def test_failure_messages(rj_catalog: Catalog) -> None:
    def render_fails(job: HighlightJob, report: ProgressFn) -> None:
        raise RenderError("ffmpeg (reel) failed (exit 1): moov atom not found\nsecond line")

    def bug(job: HighlightJob, report: ProgressFn) -> None:
        raise KeyError("video_id")

    with JobRunner(rj_catalog, workers=2) as runner:
        a = runner.submit("highlight", "a", {}, render_fails)
        b = runner.submit("highlight", "b", {}, bug)
        fa = runner.wait(a.request_id, timeout_s=10)
        fb = runner.wait(b.request_id, timeout_s=10)
    assert fa.status == JobStatus.FAILED
    assert fa.error == "ffmpeg (reel) failed (exit 1): moov atom not found second line"
    assert "\n" not in fa.error and fa.finished_at is not None
    assert fb.status == JobStatus.FAILED
    assert fb.error == "internal error: KeyError: 'video_id'"
    stored = rj_catalog.get_job(b.request_id)
    assert stored is not None and stored.error == fb.error


def test_error_line_is_bounded() -> None:
    line = error_line(ValueError("x" * 5000))
    assert line.startswith("internal error: ValueError: x") and len(line) <= 500


def test_bounded_concurrency(rj_catalog: Catalog) -> None:
    lock = threading.Lock()
    running = 0
    peak = 0

    def fn(job: HighlightJob, report: ProgressFn) -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.15)
        with lock:
            running -= 1

    with JobRunner(rj_catalog, workers=2) as runner:
        jobs = [runner.submit("highlight", f"p{i}", {}, fn) for i in range(6)]
        queued_now = [rj_catalog.get_job(j.request_id) for j in jobs]
        assert sum(1 for j in queued_now if j and j.status == JobStatus.QUEUED) >= 3
        finals = [runner.wait(j.request_id, timeout_s=20) for j in jobs]
    assert all(f.status == JobStatus.DONE for f in finals)
    assert peak == 2
    assert runner.max_running_seen == 2


def test_submit_after_shutdown_is_refused(rj_catalog: Catalog) -> None:
    runner = JobRunner(rj_catalog, workers=1)
    runner.shutdown()
    with pytest.raises(ConflictError):
        runner.submit("highlight", "late", {}, lambda job, report: None)


def test_recovery_after_restart(rj_db: Path) -> None:
    """A process dies with one job running and two queued: the next start resumes the jobs
    whose function can be resolved and fails the other with a clear message."""
    first_catalog = Catalog(rj_db)
    block = threading.Event()
    started = threading.Event()

    def stuck(job: HighlightJob, report: ProgressFn) -> None:
        started.set()
        report(0.6, "rendering")
        block.wait(30)

    dead = JobRunner(first_catalog, workers=1)
    running = dead.submit("highlight", "resumable running", {"n": 1}, stuck)
    assert started.wait(10)
    queued_ok = dead.submit("highlight", "resumable queued", {"n": 2}, stuck)
    queued_lost = dead.submit("index", "not resumable", {"n": 3}, stuck)
    # The "process dies": its catalog is closed first, so nothing more gets written by it.
    dead.shutdown(wait=False)
    first_catalog.close()
    block.set()

    catalog = Catalog(rj_db)
    before = {j.request_id: j.status for j in catalog.list_jobs(limit=10)}
    assert before[running.request_id] == JobStatus.RUNNING
    assert before[queued_ok.request_id] == before[queued_lost.request_id] == JobStatus.QUEUED

    seen: list[str] = []

    def finish(job: HighlightJob, report: ProgressFn) -> HighlightResult:
        seen.append(job.request_id)
        return _result(job)

    def resolver(job: HighlightJob):
        return finish if job.kind == "highlight" else None

    runner = JobRunner(catalog, workers=1)
    resumed = runner.recover(resolver)
    assert sorted(resumed) == sorted([running.request_id, queued_ok.request_id])
    for request_id in resumed:
        assert runner.wait(request_id, timeout_s=10).status == JobStatus.DONE
    runner.shutdown()
    assert sorted(seen) == sorted(resumed)
    lost = catalog.get_job(queued_lost.request_id)
    assert lost is not None and lost.status == JobStatus.FAILED
    assert lost.error == INTERRUPTED_MESSAGE and lost.finished_at is not None
    again = catalog.get_job(running.request_id)
    assert again is not None and again.params == {"n": 1} and again.result is not None
    # Nothing is left queued or running, and a second recovery finds nothing to do.
    assert catalog.list_jobs(statuses=[JobStatus.QUEUED, JobStatus.RUNNING]) == []
    second = JobRunner(catalog, workers=1)
    assert second.recover(resolver) == []
    second.shutdown()
    catalog.close()


# --------------------------------------------------------------------------------------------
# pools, queue limits, cancel, stop, interruptions (issue 10), index jobs of their own (issue 11)
# --------------------------------------------------------------------------------------------


def _blocker(started: threading.Event, release: threading.Event):
    def fn(job, report: ProgressFn) -> None:
        started.set()
        while not release.wait(0.05):
            report(0.5, "working")  # every report is a stop point

    return fn


def test_index_jobs_run_while_every_highlight_worker_is_busy(rj_catalog: Catalog) -> None:
    started, release = threading.Event(), threading.Event()
    runner = JobRunner(rj_catalog, workers={"index": 1, "highlight": 1})
    try:
        busy = [
            runner.submit("highlight", f"h{i}", {}, _blocker(started, release)) for i in range(2)
        ]
        assert started.wait(10)
        index_jobs = [
            runner.submit("index", f"file{i}.mp4", {}, lambda job, report: []) for i in range(5)
        ]
        for job in index_jobs:
            assert runner.wait(job.request_id, timeout_s=10).status == JobStatus.DONE
        assert runner.get(busy[0].request_id).status == JobStatus.RUNNING
        assert runner.get(busy[1].request_id).status == JobStatus.QUEUED
    finally:
        release.set()
        runner.shutdown()


def test_a_full_queue_is_refused_with_a_retry_hint(rj_catalog: Catalog) -> None:
    started, release = threading.Event(), threading.Event()
    runner = JobRunner(
        rj_catalog,
        workers={"index": 1, "highlight": 1},
        queue_limits={"highlight": 1},
        retry_after_s={"highlight": 7},
    )
    try:
        runner.submit("highlight", "running", {}, _blocker(started, release))
        assert started.wait(10)
        runner.submit("highlight", "waiting", {}, _blocker(started, release))
        with pytest.raises(QueueFullError) as refused:
            runner.submit("highlight", "one too many", {}, _blocker(started, release))
        assert refused.value.status == 429
        assert refused.value.http_headers() == {"Retry-After": "7"}
        # another kind has its own queue
        assert runner.submit("index", "f.mp4", {}, lambda job, report: []).kind == "index"
    finally:
        release.set()
        runner.shutdown()


def test_cancel_a_queued_and_a_running_job(rj_catalog: Catalog) -> None:
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []
    runner = JobRunner(rj_catalog, workers={"index": 1, "highlight": 1})
    try:
        running = runner.submit("highlight", "running", {}, _blocker(started, release))
        assert started.wait(10)
        queued = runner.submit("highlight", "queued", {}, lambda job, report: ran.append("x"))

        assert runner.cancel(queued.request_id).status == JobStatus.CANCELLED
        asked = time.monotonic()
        runner.cancel(running.request_id)
        stopped = runner.wait(running.request_id, timeout_s=10)
        assert stopped.status == JobStatus.CANCELLED and time.monotonic() - asked < 2.0
        assert stopped.finished_at is not None
        for request_id in (queued.request_id, running.request_id):
            stored = rj_catalog.get_job(request_id)
            assert stored is not None and stored.status == JobStatus.CANCELLED
        with pytest.raises(ConflictError):
            runner.cancel(running.request_id)  # finished: nothing to cancel
        with pytest.raises(NotFoundError):
            runner.cancel("no-such-job")
    finally:
        release.set()
        runner.shutdown()
    assert ran == []  # the cancelled queued job never ran
    # cancelled jobs are finished: a restart resumes neither
    again = JobRunner(rj_catalog, workers=1)
    assert again.recover(lambda job: lambda j, r: None) == []
    again.shutdown()


def test_a_job_stopped_by_server_stops_resumes_then_fails_after_the_limit(rj_db: Path) -> None:
    """A server stop puts a running job back in the queue; one interrupted ``max_interruptions``
    times (stops or crashes) fails instead of resuming on every start."""
    catalog = Catalog(rj_db)
    release = threading.Event()
    request_id = ""
    for attempt in range(1, 4):
        started = threading.Event()
        runner = JobRunner(catalog, workers=1, max_interruptions=3)
        if attempt == 1:
            request_id = runner.submit(
                "highlight", "slow", {}, _blocker(started, release)
            ).request_id
        else:
            blocker = _blocker(started, release)
            assert runner.recover(lambda job, fn=blocker: fn) == [request_id]
        assert started.wait(10)
        asked = time.monotonic()
        assert runner.stop(grace_s=10) == []
        assert time.monotonic() - asked < 2.0
        job = catalog.get_job(request_id)
        assert job is not None and job.interruptions == attempt
        if attempt < 3:
            assert job.status == JobStatus.QUEUED and "resumes" in job.message
        else:
            assert job.status == JobStatus.FAILED and "3 times" in job.error
    last = JobRunner(catalog, workers=1, max_interruptions=3)
    assert last.recover(lambda job: _blocker(threading.Event(), release)) == []
    last.shutdown()
    catalog.close()


def test_a_crash_while_running_counts_as_an_interruption(rj_catalog: Catalog) -> None:
    stuck = HighlightJob(
        request_id="crashed", prompt="p", status=JobStatus.RUNNING, interruptions=2
    )
    rj_catalog.save_job(stuck)
    runner = JobRunner(rj_catalog, workers=1, max_interruptions=3)
    assert runner.recover(lambda job: lambda j, r: None) == []
    runner.shutdown()
    failed = rj_catalog.get_job("crashed")
    assert failed is not None and failed.status == JobStatus.FAILED and failed.interruptions == 3


def test_index_jobs_keep_their_per_file_outcomes(rj_db: Path) -> None:
    catalog = Catalog(rj_db)
    outcome = IndexFileOutcome(path="/v/a.mp4", video_id="abc", action="indexed", message="")

    def fails(job, report: ProgressFn) -> None:
        bad = IndexFileOutcome(path="/v/b.txt", action="failed", message="not a video")
        raise with_job_output(MediaError("not a video"), [bad])

    with JobRunner(catalog, workers={"index": 1}) as runner:
        ok = runner.submit("index", "a.mp4", {"path": "/v/a.mp4"}, lambda job, report: [outcome])
        bad = runner.submit("index", "b.txt", {"path": "/v/b.txt"}, fails)
        runner.wait(ok.request_id, 10)
        runner.wait(bad.request_id, 10)
    catalog.close()
    reopened = Catalog(rj_db)  # a restart: outcomes come from the catalog, not from memory
    done = reopened.get_job(ok.request_id)
    assert isinstance(done, IndexJob) and done.status == JobStatus.DONE
    assert done.outcomes == [outcome] and done.video_id == "abc"
    failed = reopened.get_job(bad.request_id)
    assert isinstance(failed, IndexJob) and failed.status == JobStatus.FAILED
    assert [o.action for o in failed.outcomes] == ["failed"] and "not a video" in failed.error
    reopened.close()


def test_run_stoppable_ends_a_blocking_wait_at_once() -> None:
    token = StopToken()
    threading.Timer(0.2, token.request, args=("cancelled",)).start()
    asked = time.monotonic()
    with pytest.raises(JobStopped) as stopped:
        run_stoppable(lambda: time.sleep(30), token, name="test")
    assert stopped.value.reason == "cancelled"
    assert time.monotonic() - asked < 1.5
    assert run_stoppable(lambda: 42, token.__class__()) == 42
    with pytest.raises(ValueError):
        run_stoppable(lambda: int("x"), StopToken())  # the call's own error comes through


def test_leftovers_of_killed_renders_and_uploads_are_swept(tmp_path: Path) -> None:
    home = tmp_path / "home"
    reel_dir = home / "media" / "highlights" / "r1"
    work = reel_dir / ".render-0123456789"
    work.mkdir(parents=True)
    (work / "v000.mp4").write_bytes(b"x")
    part = reel_dir / ".reel.0123456789.part.mp4"
    part.write_bytes(b"x" * 100)
    upload = home / "uploads" / ".deadbeef.part"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"x")
    keep = [reel_dir / "reel.mp4", home / "chroma" / ".x.part", home / "uploads" / "a.part.mp4"]
    for path in keep:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"keep")
    fresh = reel_dir / ".render-fresh00000"  # a render still running in another process
    fresh.mkdir()
    old = time.time() - 3600
    for path in [work, part, upload, *keep]:
        os.utime(path, (old, old))

    removed = sweep_leftovers(home)
    assert sorted(removed) == sorted([work, part, upload])
    assert not work.exists() and not part.exists() and not upload.exists()
    assert all(path.exists() for path in keep) and fresh.exists()


def test_a_server_stop_leaves_queued_jobs_queued_and_runs_nothing_after(
    rj_catalog: Catalog,
) -> None:
    started, release = threading.Event(), threading.Event()
    ran_after_stop: list[str] = []
    stopped = threading.Event()

    def late(job, report: ProgressFn) -> None:
        if stopped.is_set():
            ran_after_stop.append(job.request_id)

    runner = JobRunner(rj_catalog, workers=1)
    running = runner.submit("highlight", "running", {}, _blocker(started, release))
    assert started.wait(10)
    queued = [runner.submit("highlight", f"q{i}", {}, late) for i in range(3)]
    assert runner.stop(grace_s=10) == []
    stopped.set()
    time.sleep(0.3)
    assert ran_after_stop == []
    first = rj_catalog.get_job(running.request_id)
    assert first is not None and first.status == JobStatus.QUEUED and first.interruptions == 1
    for job in queued:
        again = rj_catalog.get_job(job.request_id)
        assert again is not None and again.status == JobStatus.QUEUED and again.interruptions == 0
