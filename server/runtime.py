"""What a running server holds: the Engine, the writer lock, the job runner and the services.

Built on startup (never at import), torn down on shutdown. Jobs (indexing and highlights) run on
one ``JobRunner`` whose state lives in the SQLite catalog, so a restart resumes or fails them,
never loses them. Everything here is blocking: the app calls it from worker threads.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scenespark.config import Settings
from scenespark.engine import Engine
from scenespark.errors import MediaError, NotFoundError
from scenespark.jobs.writer_lock import WriterLock, publish_server, withdraw_server
from scenespark.types import HighlightJob, HighlightRequest, HighlightResult, JobStatus
from server.urls import result_with_urls

if TYPE_CHECKING:
    from indexer.service import IndexService
    from scenespark.highlights.service import HighlightService
    from scenespark.jobs.runner import JobRunner

log = logging.getLogger("scenespark.server")

Report = Callable[[float, str], None]
JobFn = Callable[[HighlightJob, Report], HighlightResult | None]

INDEX = "index"
HIGHLIGHT = "highlight"

# A secret only processes that can read the data dir know: the ``scenespark`` CLI sends it in
# this header to hand local paths to the running server without library-root checks.
LOCAL_TOKEN_NAME = "server.token"
STOP_GRACE_S = 30.0
RESUME_MESSAGE = "interrupted by a server stop; resumes on the next start"
LOCAL_TOKEN_HEADER = "X-SceneSpark-Token"


def public_url(settings: Settings) -> str:
    host = settings.host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


class JobInterrupted(Exception):
    """Raised from a job's progress report when the server stops (not a SceneSparkError, so
    the indexer does not mark the video failed); the job resumes on the next start."""

    MESSAGE = "the server is stopping"


class ServerRuntime:
    def __init__(
        self, settings: Settings, *, engine: Engine | None = None, start_workers: bool = True
    ) -> None:
        self.settings = settings
        self._given_engine = engine
        self.start_workers = start_workers
        self._engine: Engine | None = engine
        self.lock = WriterLock(settings, role="server")
        self.runner: JobRunner | None = None
        self.recovered: list[str] = []
        self._services_guard = threading.Lock()
        self.local_token = secrets.token_urlsafe(32)
        # request_id -> (video_id, "indexed: ..."): the runner keeps neither params changes nor
        # the last message of a finished job, so the outcome of index jobs is kept here.
        self._index_outcomes: dict[str, tuple[str, str]] = {}
        self._stopping = threading.Event()
        self._warmup: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Open the stores, take the writer lock, publish the URL, start and recover jobs."""
        self.lock.acquire()  # ConflictError with a clear message when another process owns it
        try:
            if self._engine is None:
                self._engine = Engine(self.settings, background_keywords=True)
            _ = self.engine.catalog  # open (and migrate) the catalog now, not on first request
            if self.start_workers:
                from scenespark.jobs.runner import JobRunner

                self.runner = JobRunner(self.engine.catalog, workers=self.worker_count)
                self.recovered = self.runner.recover(self.resolve_job)
                if self.recovered:
                    log.warning("resumed %d interrupted job(s)", len(self.recovered))
            self._write_token()
            publish_server(self.settings, public_url(self.settings))
        except BaseException:
            self.stop()
            raise

    def warm_up(self) -> None:
        """Load the text model in the background so the first search is fast."""

        def load() -> None:
            if self._stopping.is_set():
                return
            try:
                self.engine.models.text()
            except Exception as exc:  # a missing model shows up in /health and on first use
                log.warning("could not preload the text model: %s", exc)

        # Not a daemon: a model half-loaded while the interpreter exits aborts the process.
        self._warmup = threading.Thread(target=load, name="scenespark-warmup")
        self._warmup.start()

    def stop(self) -> None:
        """Stop taking jobs and interrupt the running ones at their next progress report.

        Queued jobs stay queued in the catalog; interrupted jobs are put back in the queue. The
        next start resumes both (``recover``). A job that ignores the interruption for
        ``STOP_GRACE_S`` keeps the stores open and the writer lock held until the process exits.
        """
        self._stopping.set()
        unfinished: list[str] = []
        if self.runner is not None:
            try:
                unfinished = self._interrupt_jobs(self.runner)
            except Exception:
                log.exception("stopping the job runner failed")
            self.runner = None
        withdraw_server(self.settings)
        self._remove_token()
        if self._warmup is not None:
            self._warmup.join(timeout=STOP_GRACE_S)
        if unfinished:
            log.warning("%d job(s) did not stop in time: %s", len(unfinished), unfinished)
            return
        if self._engine is not None and self._given_engine is None:
            try:
                self.engine.close()
            except Exception:
                log.exception("closing the stores failed")
        self.lock.release()

    def _interrupt_jobs(self, runner: JobRunner) -> list[str]:
        running = [job.request_id for job in runner.active() if job.status == JobStatus.RUNNING]
        runner.shutdown(wait=False)  # queued jobs are dropped here and stay queued in the catalog
        deadline = time.monotonic() + STOP_GRACE_S
        unfinished: list[str] = []
        for request_id in running:
            job = runner.wait(request_id, timeout_s=max(0.0, deadline - time.monotonic()))
            if job.status == JobStatus.RUNNING:
                unfinished.append(request_id)
            elif job.status == JobStatus.FAILED and JobInterrupted.MESSAGE in job.error:
                self.engine.catalog.save_job(
                    job.model_copy(
                        update={
                            "status": JobStatus.QUEUED,
                            "progress": 0.0,
                            "error": "",
                            "message": RESUME_MESSAGE,
                            "finished_at": None,
                        }
                    )
                )
        return unfinished

    def _interruptible(self, report: Report) -> Report:
        def checked(fraction: float, message: str = "") -> None:
            if self._stopping.is_set():
                raise JobInterrupted(JobInterrupted.MESSAGE)
            report(fraction, message)

        return checked

    def is_local_client(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(token.encode(), self.local_token.encode())

    def _token_path(self) -> Path:
        return self.settings.home / LOCAL_TOKEN_NAME

    def _write_token(self) -> None:
        path = self._token_path()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(self.local_token)

    def _remove_token(self) -> None:
        path = self._token_path()
        with contextlib.suppress(OSError):
            if path.read_text() == self.local_token:
                path.unlink()

    @property
    def worker_count(self) -> int:
        """Job threads: highlight workers plus indexing workers, so one never starves the other."""
        if not self.start_workers:
            return 0
        return self.settings.highlight_workers + self.settings.workers

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("the server runtime has not started")
        return self._engine

    # ------------------------------------------------------------------ services
    @cached_property
    def index_service(self) -> IndexService:
        from indexer.service import IndexService

        with self._services_guard:
            return IndexService(self.engine)

    @cached_property
    def highlight_service(self) -> HighlightService:
        from scenespark.highlights.service import HighlightService

        with self._services_guard:
            return HighlightService(self.engine)

    @property
    def store_mode(self) -> str:
        return "http" if self.settings.chroma_url else "embedded"

    # ------------------------------------------------------------------ jobs
    def submit(self, kind: str, prompt: str, params: dict[str, Any]) -> HighlightJob:
        fn = self._index_job if kind == INDEX else self._highlight_job
        if self.runner is not None:
            return self.runner.submit(kind, prompt, params, fn)
        # No workers (tests, read-only mode): the job waits in the catalog and is picked up by
        # the next server that starts with workers (recover()).
        import uuid

        job = HighlightJob(
            request_id=uuid.uuid4().hex,
            kind=kind,
            prompt=prompt,
            params=params,  # type: ignore[arg-type]
            message="queued (no workers in this server)",
        )
        self.engine.catalog.save_job(job)
        return job

    def submit_index(
        self, path: Path, *, force: bool = False, source: str = "path", original_name: str = ""
    ) -> HighlightJob:
        params: dict[str, Any] = {"path": str(path), "force": force, "source": source}
        if original_name:
            params["original_name"] = original_name
        label = Path(original_name.replace("\\", "/")).name if original_name else path.name
        return self.submit(INDEX, label or path.name, params)

    def submit_highlight(self, request: HighlightRequest, **extra: Any) -> HighlightJob:
        params = request.model_dump(mode="json")
        params.update({k: v for k, v in extra.items() if v is not None})
        return self.submit(HIGHLIGHT, request.prompt, params)

    def get_job(self, request_id: str) -> HighlightJob | None:
        if self.runner is not None:
            job = self.runner.get(request_id)
            if job is not None:
                return job
        return self.engine.catalog.get_job(request_id)

    def active_jobs(self, kind: str) -> list[HighlightJob]:
        return self.engine.catalog.list_jobs(
            kind=kind, statuses=[JobStatus.QUEUED, JobStatus.RUNNING], limit=200
        )

    def resolve_job(self, job: HighlightJob) -> JobFn | None:
        """The function that (re-)runs a recovered job, or None when it cannot be resumed."""
        if job.kind == INDEX:
            return self._index_job if job.params.get("path") else None
        if job.kind == HIGHLIGHT:
            return self._highlight_job if job.params.get("prompt") else None
        return None

    def _index_job(self, job: HighlightJob, report: Report) -> HighlightResult | None:
        report = self._interruptible(report)
        report(0.0, "starting")
        path = Path(str(job.params.get("path", "")))
        if not path.is_file():
            raise NotFoundError(f"the file to index is gone: {path}")
        outcome = self.index_service.index_file(
            path, force=bool(job.params.get("force")), on_progress=report
        )
        if outcome.action == "failed":
            raise MediaError(outcome.message or f"could not index {path.name}")
        note = f": {outcome.message}" if outcome.message else ""
        summary = f"{outcome.action} video {outcome.video_id}{note}"
        with self._services_guard:
            self._index_outcomes[job.request_id] = (outcome.video_id, summary)
        report(1.0, summary)
        return None

    def index_outcome(self, job: HighlightJob) -> tuple[str | None, str]:
        """The video id and outcome line of an index job, as far as they are known."""
        with self._services_guard:
            known = self._index_outcomes.get(job.request_id)
        if known is not None:
            return known
        video_id = job.params.get("video_id")
        if not video_id and job.status == JobStatus.DONE and job.params.get("path"):
            video = self.engine.catalog.find_video_by_path(str(job.params["path"]))
            video_id = video.video_id if video is not None else None
        return video_id or None, ""

    def _highlight_job(self, job: HighlightJob, report: Report) -> HighlightResult | None:
        report = self._interruptible(report)
        report(0.0, "starting")
        result = self.highlight_service.run_job(job, report)
        return result_with_urls(result) if result is not None else None
