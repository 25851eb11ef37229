"""Background jobs: bounded pools of worker threads running index and highlight jobs, with
every state change persisted in the SQLite catalog so that jobs survive a restart.

A job function is ``fn(job, report) -> output`` (a ``HighlightResult`` for a highlight job, a
list of ``IndexFileOutcome`` for an index job, or None); ``report(fraction, message)`` records
progress (persisted at most ~4 times a second) and raises :class:`JobStopped` once the job was
asked to stop, so every progress report is a stop point. Longer waits inside a job poll
:meth:`JobRunner.stop_check`.

Status goes queued → running → done, failed or cancelled. Each kind of job may get its own pool
(``workers={"index": 2, "highlight": 1}``), so highlights never starve indexing, and its own
queue limit (:class:`QueueFullError`, HTTP 429, when full). :meth:`JobRunner.cancel` cancels a
queued or running job. :meth:`JobRunner.stop` (server stop) asks running jobs to stop: they go
back to the queue, counting one interruption; at start-up :meth:`JobRunner.recover` resumes the
jobs a stopped or dead process left queued or running, counts a crash as an interruption too,
and fails a job interrupted ``max_interruptions`` times — a job is never lost silently and never
resumes forever. Cancelled jobs are finished: never resumed.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from scenespark.errors import ConflictError, NotFoundError, QueueFullError, SceneSparkError
from scenespark.jobs.progress import JobStopped, ProgressFn, StopCheck, StopToken
from scenespark.types import AnyJob, Job, JobKind, JobStatus, new_job, utc_now

log = logging.getLogger(__name__)

JobFn = Callable[[AnyJob, ProgressFn], object]

INTERRUPTED_MESSAGE = "interrupted by a server restart"
RESUME_MESSAGE = "interrupted by a server stop; resumes on the next start"
CANCELLED = "cancelled"
SERVER_STOPPING = "server stopping"
PROGRESS_MIN_INTERVAL_S = 0.25  # at most ~4 progress writes per second per job
MAX_ERROR_CHARS = 500
DEFAULT_RETRY_AFTER_S = 30
SHARED_POOL = "*"
_RECOVER_LIMIT = 100_000


class JobStore(Protocol):
    """The part of :class:`scenespark.store.catalog.Catalog` the runner uses."""

    def save_job(self, job: Job) -> None: ...

    def get_job(self, request_id: str) -> AnyJob | None: ...

    def list_jobs(
        self, kind: str | None = None, statuses: list[JobStatus] | None = None, limit: int = 50
    ) -> list[AnyJob]: ...


def error_line(exc: BaseException) -> str:
    """The one-line ``error`` of a failed job."""
    if isinstance(exc, SceneSparkError):
        text = exc.one_line()
    else:
        detail = " ".join(str(exc).split())
        text = f"internal error: {type(exc).__name__}" + (f": {detail}" if detail else "")
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def cancel_stored_job(catalog: JobStore, request_id: str) -> AnyJob:
    """Cancel a job that no runner of this process runs (queued in the catalog only).

    NotFoundError for an unknown id; ConflictError when it has finished.
    """
    stored = catalog.get_job(request_id)
    if stored is None:
        raise NotFoundError(f"no job with id {request_id!r}")
    if stored.finished:
        raise ConflictError(f"job {request_id} has already finished ({stored.status})")
    cancelled = stored.model_copy(
        update={"status": JobStatus.CANCELLED, "message": CANCELLED, "finished_at": utc_now()}
    )
    catalog.save_job(cancelled)
    return cancelled


def with_job_output(exc: SceneSparkError, output: object) -> SceneSparkError:
    """Attach what a failing job did produce (e.g. the per-file outcomes of an index job) to
    the error it raises; the runner records both."""
    exc.job_output = output  # type: ignore[attr-defined]
    return exc


class JobRunner:
    """Runs job functions on worker threads (one pool, or one pool per kind); thread safe."""

    def __init__(
        self,
        catalog: JobStore,
        *,
        workers: int | Mapping[str, int] = 1,
        queue_limits: Mapping[str, int] | None = None,
        max_interruptions: int = 3,
        retry_after_s: Mapping[str, int] | None = None,
    ) -> None:
        sizes = {SHARED_POOL: workers} if isinstance(workers, int) else dict(workers)
        for name, size in sizes.items():
            if size < 1:
                raise ValueError(f"workers must be >= 1, got {size} for {name!r}")
        self.catalog = catalog
        self.workers = sum(sizes.values())
        self.queue_limits = dict(queue_limits or {})
        self.max_interruptions = max(1, max_interruptions)
        self.retry_after_s = dict(retry_after_s or {})
        self._pools = {
            name: ThreadPoolExecutor(max_workers=size, thread_name_prefix=f"scenespark-{name}")
            for name, size in sizes.items()
        }
        self._lock = threading.RLock()  # guards the dicts below and catalog writes
        self._jobs: dict[str, AnyJob] = {}  # jobs of this runner not finished yet
        self._done: dict[str, threading.Event] = {}
        self._tokens: dict[str, StopToken] = {}
        self._last_write: dict[str, float] = {}
        self._futures: dict[str, Future[None]] = {}
        self._closed = False
        self._running = 0
        self.max_running_seen = 0  # observability (and tests): peak concurrent jobs

    # ------------------------------------------------------------------ public API
    def submit(self, kind: JobKind, prompt: str, params: dict, fn: JobFn) -> AnyJob:
        """Create a queued job (persisted), schedule it, and return it.

        Raises :class:`QueueFullError` when ``kind`` has ``queue_limits[kind]`` jobs waiting.
        """
        job = new_job(
            kind,
            request_id=uuid.uuid4().hex,
            prompt=prompt,
            params=dict(params),
            status=JobStatus.QUEUED,
        )
        with self._lock:
            limit = self.queue_limits.get(kind)
            if limit is not None and self.queued_count(kind) >= limit:
                raise QueueFullError(
                    f"{limit} {kind} job(s) are already waiting; try again later",
                    retry_after_s=self.retry_after_s.get(kind, DEFAULT_RETRY_AFTER_S),
                )
            self._enqueue(job, fn)
        return job.model_copy(deep=True)

    def queued_count(self, kind: str) -> int:
        with self._lock:
            return sum(
                1 for j in self._jobs.values() if j.kind == kind and j.status == JobStatus.QUEUED
            )

    def get(self, request_id: str) -> AnyJob | None:
        """The latest state of a job (in memory while it runs, else from the catalog)."""
        with self._lock:
            job = self._jobs.get(request_id)
            if job is not None:
                return job.model_copy(deep=True)
        return self.catalog.get_job(request_id)

    def wait(self, request_id: str, timeout_s: float | None = None) -> AnyJob:
        """Block until the job finished (or ``timeout_s`` passed); return its state."""
        with self._lock:
            event = self._done.get(request_id)
        if event is not None:
            event.wait(timeout_s)
        job = self.get(request_id)
        if job is None:
            raise NotFoundError(f"no job with request id {request_id!r}")
        return job

    def stop_check(self, request_id: str) -> StopCheck:
        """The stop flag of a job of this runner, for waits that cannot report progress."""
        with self._lock:
            token = self._tokens.get(request_id)
        return token if token is not None else _never

    def cancel(self, request_id: str) -> AnyJob:
        """Cancel a queued or running job; returns its state right after the request.

        A queued job is cancelled at once; a running one is asked to stop and becomes
        ``cancelled`` at its next stop point (:meth:`wait` for it). Unknown → NotFoundError;
        already finished → ConflictError.
        """
        with self._lock:
            job = self._jobs.get(request_id)
            if job is not None:
                self._tokens[request_id].request(CANCELLED)
                future = self._futures.get(request_id)
                if job.status == JobStatus.QUEUED and future is not None and future.cancel():
                    self._finish_cancelled(request_id)
                    return self._released(request_id)
                return self._update(request_id, persist=False, message="cancelling").model_copy(
                    deep=True
                )
            return cancel_stored_job(self.catalog, request_id)

    def recover(self, resolver: Callable[[AnyJob], JobFn | None]) -> list[str]:
        """Start-up: resume (re-queue) or fail the jobs a dead process left queued/running.

        ``resolver`` returns the function to run a job again, or None when it cannot be resumed;
        those jobs fail with "interrupted by a server restart". A job left running by a dead
        process counts one interruption; one interrupted ``max_interruptions`` times fails.
        Returns the resumed request ids.
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
            was_running = job.status == JobStatus.RUNNING
            interruptions = job.interruptions + (1 if was_running else 0)
            try:
                fn = resolver(job)
            except Exception:  # a broken resolver must not lose the job either
                log.exception("job resolver failed for %s", job.request_id)
                fn = None
            if fn is None or interruptions >= self.max_interruptions:
                reason = (
                    INTERRUPTED_MESSAGE
                    if fn is None
                    else f"{INTERRUPTED_MESSAGE} {interruptions} times; not resumed again"
                )
                failed = job.model_copy(
                    update={
                        "status": JobStatus.FAILED,
                        "error": reason,
                        "message": reason,
                        "interruptions": interruptions,
                        "finished_at": utc_now(),
                    }
                )
                with self._lock:
                    self.catalog.save_job(failed)
                continue
            requeued = job.with_output(None).model_copy(
                update={
                    "status": JobStatus.QUEUED,
                    "progress": 0.0,
                    "error": "",
                    "interruptions": interruptions,
                    "finished_at": None,
                    "message": "resumed after a server restart" if was_running else job.message,
                }
            )
            with self._lock:
                self._enqueue(requeued, fn)
            resumed.append(job.request_id)
        return resumed

    def active(self) -> list[AnyJob]:
        """Jobs of this runner that are queued or running."""
        with self._lock:
            return [job.model_copy(deep=True) for job in self._jobs.values()]

    def stop(self, grace_s: float) -> list[str]:
        """Server stop: take no more jobs, drop the queued ones from this process (they stay
        queued in the catalog), ask the running ones to stop (they go back to the queue with one
        more interruption) and wait up to ``grace_s`` for them. Returns the ids still running.
        """
        with self._lock:
            for token in self._tokens.values():
                token.request(SERVER_STOPPING)
        self.shutdown(wait=False)  # releases the jobs that had not started
        with self._lock:
            started = list(self._jobs)  # running, or picked by a worker just now
        deadline = time.monotonic() + grace_s
        unfinished: list[str] = []
        for request_id in started:
            job = self.wait(request_id, timeout_s=max(0.0, deadline - time.monotonic()))
            if job.status == JobStatus.RUNNING:
                unfinished.append(request_id)
        return unfinished

    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting jobs. ``wait=True`` finishes queued and running jobs first; with
        ``wait=False`` queued jobs are dropped from this process but stay queued in the catalog
        (the next start-up's :meth:`recover` resumes them)."""
        with self._lock:
            self._closed = True
        for pool in self._pools.values():
            pool.shutdown(wait=False, cancel_futures=not wait)
        if wait:
            for pool in self._pools.values():
                pool.shutdown(wait=True)
        with self._lock:  # jobs cancelled before they started: release their waiters
            for request_id, future in list(self._futures.items()):
                if future.cancelled():
                    self._released(request_id)

    def __enter__(self) -> JobRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown(wait=True)

    # ------------------------------------------------------------------ internals
    def _pool_for(self, kind: str) -> ThreadPoolExecutor:
        pool = self._pools.get(kind) or self._pools.get(SHARED_POOL)
        if pool is None:
            raise ConflictError(f"this server runs no {kind} jobs")
        return pool

    def _enqueue(self, job: AnyJob, fn: JobFn) -> None:
        with self._lock:
            if self._closed:
                raise ConflictError("the job runner is shut down; no new jobs are accepted")
            pool = self._pool_for(job.kind)
            self.catalog.save_job(job)
            self._jobs[job.request_id] = job
            self._done[job.request_id] = threading.Event()
            self._tokens[job.request_id] = StopToken()
            self._futures[job.request_id] = pool.submit(self._run, job.request_id, fn)

    def _update(self, request_id: str, *, persist: bool, **changes: object) -> AnyJob:
        with self._lock:
            job = self._jobs[request_id].model_copy(update=changes)
            self._jobs[request_id] = job
            if persist:
                self.catalog.save_job(job)
                self._last_write[request_id] = time.monotonic()
            return job

    def _released(self, request_id: str) -> AnyJob:
        """Forget a job of this runner and wake its waiters; returns its last state."""
        with self._lock:
            job = self._jobs.pop(request_id, None)
            self._last_write.pop(request_id, None)
            self._futures.pop(request_id, None)
            self._tokens.pop(request_id, None)
            event = self._done.pop(request_id, None)
        if event is not None:
            event.set()
        return job.model_copy(deep=True) if job is not None else self.get(request_id)  # type: ignore[return-value]

    def _finish_cancelled(self, request_id: str) -> None:
        self._update(
            request_id,
            persist=True,
            status=JobStatus.CANCELLED,
            message=CANCELLED,
            finished_at=utc_now(),
        )

    def _finish_stopped(self, request_id: str, reason: str) -> None:
        if reason == CANCELLED:
            self._finish_cancelled(request_id)
            return
        job = self._jobs[request_id]
        interruptions = job.interruptions + 1
        if interruptions >= self.max_interruptions:
            line = f"interrupted by server stops {interruptions} times; not resumed again"
            self._update(
                request_id,
                persist=True,
                status=JobStatus.FAILED,
                error=line,
                message=line,
                interruptions=interruptions,
                finished_at=utc_now(),
            )
            return
        self._update(  # back to the queue: the next start resumes it
            request_id,
            persist=True,
            status=JobStatus.QUEUED,
            progress=0.0,
            error="",
            message=RESUME_MESSAGE,
            interruptions=interruptions,
            finished_at=None,
        )

    def _reporter(self, request_id: str, token: StopToken) -> ProgressFn:
        def report(fraction: float, message: str = "") -> None:
            token.raise_if_set()
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
            token = self._tokens[request_id]
        try:
            if token.is_set():  # cancelled, or the server stops, before it started
                if token.reason == CANCELLED:
                    self._finish_cancelled(request_id)
                return  # server stopping: it stays queued in the catalog, not interrupted
            job = self._update(
                request_id, persist=True, status=JobStatus.RUNNING, message="running"
            )
            try:
                output = fn(job.model_copy(deep=True), self._reporter(request_id, token))
            except JobStopped as stop:
                log.info("job %s stopped: %s", request_id, stop.reason)
                self._finish_stopped(request_id, token.reason or stop.reason)
            except Exception as exc:
                if token.is_set():  # e.g. a subprocess killed on the way out
                    self._finish_stopped(request_id, token.reason)
                    return
                line = error_line(exc)
                partial = getattr(exc, "job_output", None)
                if partial is not None:
                    with self._lock:
                        self._jobs[request_id] = self._jobs[request_id].with_output(partial)
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
                with self._lock:
                    finished = self._jobs[request_id].with_output(output)
                    self._jobs[request_id] = finished
                self._update(
                    request_id,
                    persist=True,
                    status=JobStatus.DONE,
                    progress=1.0,
                    error="",
                    message="done",
                    finished_at=utc_now(),
                )
        except Exception:  # the catalog failed while recording the outcome: keep the log
            log.exception("job %s: could not record its outcome", request_id)
        finally:
            with self._lock:
                self._running -= 1
            self._released(request_id)


def _never() -> bool:
    return False
