"""What a running server holds: the Engine, the writer lock, the job runner and the services.

Built on startup (never at import), torn down on shutdown. Jobs run on one ``JobRunner`` with a
pool and a queue limit per kind (index, highlight) whose state lives in the SQLite catalog, so a
restart resumes or fails them, never loses them; index jobs keep their per-file outcomes there. Everything here is blocking: the app calls it from worker threads.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scenespark.config import Settings
from scenespark.engine import Engine
from scenespark.errors import MediaError, NotFoundError
from scenespark.jobs.leftovers import sweep_leftovers
from scenespark.jobs.progress import ProgressFn
from scenespark.jobs.runner import cancel_stored_job, with_job_output
from scenespark.jobs.writer_lock import WriterLock, publish_server, withdraw_server
from scenespark.types import (
    AnyJob,
    HighlightRequest,
    HighlightResult,
    IndexFileOutcome,
    JobKind,
    JobStatus,
    new_job,
)
from server.uploads import delete_uploaded_file
from server.urls import result_with_urls

if TYPE_CHECKING:
    from indexer.service import IndexService
    from scenespark.highlights.service import HighlightService
    from scenespark.jobs.runner import JobRunner

log = logging.getLogger("scenespark.server")
warmup_log = logging.getLogger("scenespark.server.warmup")  # `serve` shows its INFO lines

JobFn = Callable[[AnyJob, ProgressFn], object]

INDEX: JobKind = "index"
HIGHLIGHT: JobKind = "highlight"

# A secret only processes that can read the data dir know: the ``scenespark`` CLI sends it in
# this header to hand local paths to the running server without library-root checks.
LOCAL_TOKEN_NAME = "server.token"
STOP_GRACE_S = 30.0
CANCEL_WAIT_S = 5.0  # DELETE /api/v1/jobs/{id} waits this long for a running job to stop
LOCAL_TOKEN_HEADER = "X-SceneSpark-Token"
WARM_UP_SWITCH_INTERVAL_S = 0.001


def public_url(settings: Settings) -> str:
    host = settings.host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


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
        self.swept: list[Path] = []
        self._services_guard = threading.Lock()
        self.local_token = secrets.token_urlsafe(32)
        self._stopping = threading.Event()
        self._warmup: threading.Thread | None = None
        self._warm = threading.Event()  # set once the models a search needs are loaded

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Open the stores, take the writer lock, sweep what killed renders and uploads left,
        publish the URL, start and recover jobs."""
        self.lock.acquire()  # ConflictError with a clear message when another process owns it
        try:
            if self._engine is None:
                self._engine = Engine(self.settings, background_keywords=True)
            _ = self.engine.catalog  # open (and migrate) the catalog now, not on first request
            self.swept = sweep_leftovers(self.settings.home)
            if self.swept:
                log.warning(
                    "removed %d leftover(s) of interrupted renders/uploads", len(self.swept)
                )
            if self.start_workers:
                from scenespark.jobs.runner import JobRunner

                self.runner = JobRunner(
                    self.engine.catalog,
                    workers={
                        INDEX: self.settings.workers,
                        HIGHLIGHT: self.settings.highlight_workers,
                    },
                    queue_limits={
                        INDEX: self.settings.index_queue_limit,
                        HIGHLIGHT: self.settings.highlight_queue_limit,
                    },
                    max_interruptions=self.settings.job_max_interruptions,
                    retry_after_s={INDEX: 30, HIGHLIGHT: 10},
                )
                self.recovered = self.runner.recover(self.resolve_job)
                if self.recovered:
                    log.warning("resumed %d interrupted job(s)", len(self.recovered))
            self._write_token()
            publish_server(self.settings, public_url(self.settings))
        except BaseException:
            self.stop()
            raise

    def warm_up(self) -> None:
        """Load what a search needs in the background; ``/health`` says "warming" until it is
        ready, and answers at once meanwhile.

        A search needs the text model, the text vector space and the keyword index, plus the
        CLIP model when CLIP is the visual backend. The image tagger (and a VLM) only index:
        search reads the labels they left, so they load with the first index job instead of
        competing with the first search for the cores (and holding torch in memory).
        """

        def load() -> None:
            started = time.perf_counter()
            timings: list[str] = []
            interval = sys.getswitchinterval()
            # the warm-up holds the GIL for seconds of imports: hand it to request threads
            # (health) after 1 ms instead of 5 while it runs
            sys.setswitchinterval(min(interval, WARM_UP_SWITCH_INTERVAL_S))
            try:
                for name, step in self.warm_up_steps():
                    if self._stopping.is_set():
                        return
                    t0 = time.perf_counter()
                    try:
                        step()
                    except Exception as exc:  # a missing model shows in /health and on use
                        log.warning("could not preload %s: %s", name, exc)
                    timings.append(f"{name} {time.perf_counter() - t0:.2f} s")
            finally:
                sys.setswitchinterval(interval)
                self._warm.set()
                warmup_log.info(
                    "ready for searches %.2f s after the warm-up started (%s)",
                    time.perf_counter() - started,
                    ", ".join(timings) or "nothing loaded",
                )

        # Not a daemon: a model half-loaded while the interpreter exits aborts the process.
        self._warmup = threading.Thread(target=load, name="scenespark-warmup")
        self._warmup.start()

    def warm_up_steps(self) -> list[tuple[str, Callable[[], object]]]:
        """(name, loader) of what a search needs, in the order a first search uses them."""
        engine = self.engine
        steps: list[tuple[str, Callable[[], object]]] = [
            ("text model", engine.models.text),
            ("text vectors", engine.text_space),
            ("keyword index", engine.keywords.index),
            ("first query", self._first_text_query),
        ]
        try:
            clip = engine.models.visual_kind() == "clip"
        except Exception as exc:  # shown by /health; searches without visual still work
            log.warning("could not resolve the visual model: %s", exc)
            clip = False
        if clip:
            steps += [("CLIP model", engine.models.visual), ("CLIP vectors", engine.clip_space)]
        return steps

    def _first_text_query(self) -> None:
        """One nearest-neighbour read per text collection, as a library-wide search makes:
        Chroma reads each HNSW index from disk on its first query (~0.1 s at 10 h), a cost no
        user search should pay."""
        engine = self.engine
        if engine.catalog.active_run_ids():
            vector = engine.models.text().embed_query("warm-up")
            engine.vectors.nearest(engine.text_space(), vector, top_k=1)

    @property
    def warming(self) -> bool:
        """True while the background warm-up is loading models."""
        return self._warmup is not None and not self._warm.is_set()

    def stop(self) -> None:
        """Stop taking jobs and ask the running ones to stop at their next stop point.

        Queued jobs stay queued in the catalog; stopped jobs go back to the queue with one more
        interruption (a job interrupted ``job_max_interruptions`` times fails). The next start
        resumes them (``recover``). A job that ignores the request for ``STOP_GRACE_S`` keeps
        the stores open and the writer lock held until the process exits.
        """
        self._stopping.set()
        unfinished: list[str] = []
        if self.runner is not None:
            try:
                unfinished = self.runner.stop(STOP_GRACE_S)
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
    def submit(self, kind: JobKind, prompt: str, params: dict[str, Any]) -> AnyJob:
        fn = self._index_job if kind == INDEX else self._highlight_job
        if self.runner is not None:
            return self.runner.submit(kind, prompt, params, fn)
        # No workers (tests, read-only mode): the job waits in the catalog and is picked up by
        # the next server that starts with workers (recover()).
        job = new_job(
            kind,
            request_id=uuid.uuid4().hex,
            prompt=prompt,
            params=params,
            message="queued (no workers in this server)",
        )
        self.engine.catalog.save_job(job)
        return job

    def submit_index(
        self, path: Path, *, force: bool = False, source: str = "path", original_name: str = ""
    ) -> AnyJob:
        params: dict[str, Any] = {"path": str(path), "force": force, "source": source}
        if original_name:
            params["original_name"] = original_name
        label = Path(original_name.replace("\\", "/")).name if original_name else path.name
        return self.submit(INDEX, label or path.name, params)

    def submit_highlight(self, request: HighlightRequest, **extra: Any) -> AnyJob:
        params = request.model_dump(mode="json")
        params.update({k: v for k, v in extra.items() if v is not None})
        return self.submit(HIGHLIGHT, request.prompt, params)

    def get_job(self, request_id: str) -> AnyJob | None:
        if self.runner is not None:
            job = self.runner.get(request_id)
            if job is not None:
                return job
        return self.engine.catalog.get_job(request_id)

    def cancel_job(self, request_id: str, wait_s: float = CANCEL_WAIT_S) -> AnyJob:
        """Cancel a queued or running job and wait up to ``wait_s`` for a running one to stop.

        NotFoundError for an unknown id, ConflictError for a finished job.
        """
        if self.runner is not None:
            job = self.runner.cancel(request_id)
            if job.status == JobStatus.RUNNING:
                job = self.runner.wait(request_id, timeout_s=wait_s)
            return job
        return cancel_stored_job(self.engine.catalog, request_id)

    def active_jobs(self, kind: str) -> list[AnyJob]:
        return self.engine.catalog.list_jobs(
            kind=kind, statuses=[JobStatus.QUEUED, JobStatus.RUNNING], limit=200
        )

    def resolve_job(self, job: AnyJob) -> JobFn | None:
        """The function that (re-)runs a recovered job, or None when it cannot be resumed."""
        if job.kind == INDEX:
            return self._index_job if job.params.get("path") else None
        if job.kind == HIGHLIGHT:
            return self._highlight_job if job.params.get("prompt") else None
        return None

    def _index_job(self, job: AnyJob, report: ProgressFn) -> list[IndexFileOutcome]:
        report(0.0, "starting")
        path = Path(str(job.params.get("path", "")))
        if not path.is_file():
            raise NotFoundError(f"the file to index is gone: {path.name}")
        outcome = self.index_service.index_file(
            path, force=bool(job.params.get("force")), on_progress=report
        )
        record = IndexFileOutcome(
            path=str(path),
            video_id=outcome.video_id,
            action=outcome.action,
            message=outcome.message,
        )
        if outcome.action == "failed":
            if job.params.get("source") == "upload":  # a rejected upload is not kept
                delete_uploaded_file(path, self.settings)
            raise with_job_output(
                MediaError(outcome.message or f"could not index {path.name}"), [record]
            )
        note = f": {outcome.message}" if outcome.message else ""
        report(1.0, f"{outcome.action} video {outcome.video_id}{note}")
        return [record]

    def _highlight_job(self, job: AnyJob, report: ProgressFn) -> HighlightResult | None:
        report(0.0, "starting")
        should_stop = self.runner.stop_check(job.request_id) if self.runner else None
        result = self.highlight_service.run_job(job, report, should_stop=should_stop)
        return result_with_urls(result) if result is not None else None
