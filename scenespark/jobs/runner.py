"""Background jobs: a bounded pool of worker threads running highlight (or index) jobs, with
every state change persisted in the SQLite catalog so that jobs survive a restart.

A job function is ``fn(job, report) -> HighlightResult | None``; ``report(fraction, message)``
records progress (persisted at most ~4 times a second). Status goes queued → running → done or
failed; failures carry a one-line ``error``. At start-up, :meth:`JobRunner.recover` re-queues the
jobs a dead process left queued or running when a function can be resolved for them and marks
the others failed — a job is never lost silently.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Literal, Protocol

from scenespark.errors import ConflictError, NotFoundError, SceneSparkError
from scenespark.types import HighlightJob, HighlightResult, JobStatus, utc_now

log = logging.getLogger(__name__)

ReportFn = Callable[[float, str], None]
JobFn = Callable[[HighlightJob, ReportFn], HighlightResult | None]
JobKind = Literal["highlight", "index"]

INTERRUPTED_MESSAGE = "interrupted by a server restart"
PROGRESS_MIN_INTERVAL_S = 0.25  # at most ~4 progress writes per second per job
MAX_ERROR_CHARS = 500
_RECOVER_LIMIT = 100_000


class JobStore(Protocol):
    """The part of :class:`scenespark.store.catalog.Catalog` the runner uses."""

    def save_job(self, job: HighlightJob) -> None: ...

    def get_job(self, request_id: str) -> HighlightJob | None: ...

    def list_jobs(
        self, kind: str | None = None, statuses: list[JobStatus] | None = None, limit: int = 50
    ) -> list[HighlightJob]: ...


def error_line(exc: BaseException) -> str:
    """The one-line ``error`` of a failed job."""
    if isinstance(exc, SceneSparkError):
        text = exc.one_line()
    else:
        detail = " ".join(str(exc).split())
        text = f"internal error: {type(exc).__name__}" + (f": {detail}" if detail else "")
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


class JobRunner:
    """Runs job functions on ``workers`` threads; thread safe."""

    def __init__(self, catalog: JobStore, *, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.catalog = catalog
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scenespark-job")
        self._lock = threading.RLock()  # guards _jobs, _done and catalog writes
        self._jobs: dict[str, HighlightJob] = {}  # jobs of this runner not finished yet
        self._done: dict[str, threading.Event] = {}
        self._last_write: dict[str, float] = {}
        self._futures: dict[str, Future[None]] = {}
        self._closed = False
        self._running = 0
        self.max_running_seen = 0  # observability (and tests): peak concurrent jobs

    # ------------------------------------------------------------------ public API
    def submit(self, kind: JobKind, prompt: str, params: dict, fn: JobFn) -> HighlightJob:
        """Create a queued job (persisted), schedule it, and return it."""
        job = HighlightJob(
            request_id=uuid.uuid4().hex,
            kind=kind,
            prompt=prompt,
            params=dict(params),
            status=JobStatus.QUEUED,
        )
        self._enqueue(job, fn)
        return job.model_copy(deep=True)

    def get(self, request_id: str) -> HighlightJob | None:
        """The latest state of a job (in memory while it runs, else from the catalog)."""
        with self._lock:
            job = self._jobs.get(request_id)
            if job is not None:
                return job.model_copy(deep=True)
        return self.catalog.get_job(request_id)

    def wait(self, request_id: str, timeout_s: float | None = None) -> HighlightJob:
        """Block until the job finished (or ``timeout_s`` passed); return its state."""
        with self._lock:
            event = self._done.get(request_id)
        if event is not None:
            event.wait(timeout_s)
        job = self.get(request_id)
        if job is None:
            raise NotFoundError(f"no job with request id {request_id!r}")
        return job

    def recover(self, resolver: Callable[[HighlightJob], JobFn | None]) -> list[str]:
        """Start-up: resume (re-queue) or fail the jobs a dead process left queued/running.

        ``resolver`` returns the function to run a job again, or None when it cannot be resumed;
        those jobs fail with "interrupted by a server restart". Returns the resumed request ids.
        """
        with self._lock:
            mine = set(self._jobs)
        stale = self.catalog.list_jobs(
            statuses=[JobStatus.QUEUED, JobStatus.RUNNING], limit=_RECOVER_LIMIT
        )
        resumed: list[str] = []
        for job in sorted(stale, key=lambda j: j.created_at):  # oldest first, as submitted
            if job.request_id in mine:
                continue
            try:
                fn = resolver(job)
            except Exception:  # a broken resolver must not lose the job either
                log.exception("job resolver failed for %s", job.request_id)
                fn = None
            if fn is None:
                failed = job.model_copy(
                    update={
                        "status": JobStatus.FAILED,
                        "error": INTERRUPTED_MESSAGE,
                        "message": INTERRUPTED_MESSAGE,
                        "finished_at": utc_now(),
                    }
                )
                with self._lock:
                    self.catalog.save_job(failed)
                continue
            was_running = job.status == JobStatus.RUNNING
            requeued = job.model_copy(
                update={
                    "status": JobStatus.QUEUED,
                    "progress": 0.0,
                    "error": "",
                    "result": None,
                    "finished_at": None,
                    "message": "resumed after a server restart" if was_running else job.message,
                }
            )
            self._enqueue(requeued, fn)
            resumed.append(job.request_id)
        return resumed

    def active(self) -> list[HighlightJob]:
        """Jobs of this runner that are queued or running."""
        with self._lock:
            return [job.model_copy(deep=True) for job in self._jobs.values()]

    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting jobs. ``wait=True`` finishes queued and running jobs first; with
        ``wait=False`` queued jobs are dropped from this process but stay queued in the catalog
        (the next start-up's :meth:`recover` resumes them)."""
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
        with self._lock:  # jobs cancelled before they started: release their waiters
            for request_id, future in list(self._futures.items()):
                if future.cancelled():
                    self._jobs.pop(request_id, None)
                    self._futures.pop(request_id, None)
                    event = self._done.pop(request_id, None)
                    if event is not None:
                        event.set()

    def __enter__(self) -> JobRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown(wait=True)

    # ------------------------------------------------------------------ internals
    def _enqueue(self, job: HighlightJob, fn: JobFn) -> None:
        with self._lock:
            if self._closed:
                raise ConflictError("the job runner is shut down; no new jobs are accepted")
            self.catalog.save_job(job)
            self._jobs[job.request_id] = job
            self._done[job.request_id] = threading.Event()
            self._futures[job.request_id] = self._pool.submit(self._run, job.request_id, fn)

    def _update(self, request_id: str, *, persist: bool, **changes: object) -> HighlightJob:
        with self._lock:
            job = self._jobs[request_id].model_copy(update=changes)
            self._jobs[request_id] = job
            if persist:
                self.catalog.save_job(job)
                self._last_write[request_id] = time.monotonic()
            return job

    def _reporter(self, request_id: str) -> ReportFn:
        def report(fraction: float, message: str = "") -> None:
            try:
                value = min(1.0, max(0.0, float(fraction)))
            except (TypeError, ValueError):
                return
            with self._lock:
                if request_id not in self._jobs:
                    return
                due = (
                    time.monotonic() - self._last_write.get(request_id, 0.0)
                    >= PROGRESS_MIN_INTERVAL_S
                )
                try:
                    self._update(
                        request_id, persist=due, progress=value, message=str(message)[:300]
                    )
                except SceneSparkError:  # a busy catalog must not kill the job over progress
                    log.warning("could not persist progress of job %s", request_id, exc_info=True)

        return report

    def _run(self, request_id: str, fn: JobFn) -> None:
        with self._lock:
            self._running += 1
            self.max_running_seen = max(self.max_running_seen, self._running)
        try:
            job = self._update(
                request_id, persist=True, status=JobStatus.RUNNING, message="running"
            )
            try:
                result = fn(job.model_copy(deep=True), self._reporter(request_id))
            except Exception as exc:
                line = error_line(exc)
                if isinstance(exc, SceneSparkError):
                    log.info("job %s failed: %s", request_id, line)
                else:
                    log.exception("job %s failed with an unexpected error", request_id)
                self._update(
                    request_id,
                    persist=True,
                    status=JobStatus.FAILED,
                    error=line,
                    message="failed",
                    finished_at=utc_now(),
                )
            else:
                if result is not None and not isinstance(result, HighlightResult):
                    result = HighlightResult.model_validate(result)
                self._update(
                    request_id,
                    persist=True,
                    status=JobStatus.DONE,
                    progress=1.0,
                    result=result,
                    error="",
                    message="done",
                    finished_at=utc_now(),
                )
        except Exception:  # the catalog failed while recording the outcome: keep the log
            log.exception("job %s: could not record its outcome", request_id)
        finally:
            with self._lock:
                self._running -= 1
                self._jobs.pop(request_id, None)
                self._last_write.pop(request_id, None)
                self._futures.pop(request_id, None)
                event = self._done.pop(request_id, None)
            if event is not None:
                event.set()
