"""``/api/v1/jobs``: background jobs (indexing and highlights): list, look at, cancel.

``DELETE /api/v1/jobs/{request_id}`` cancels a queued job at once and asks a running one to stop
at its next stop point (waiting up to a few seconds for it): 200 with the job (``cancelled``, or
still ``running`` with the message "cancelling" when it has not stopped yet); 404 for an unknown
id; 409 for a job that has already finished (done, failed or cancelled: nothing to cancel).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from litestar import Controller, delete, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, Parameter

from scenespark.errors import NotFoundError
from server.controllers.schemas import JobView
from server.problems import problem_docs
from server.runtime import ServerRuntime


class JobController(Controller):
    path = "/api/v1/jobs"
    tags: ClassVar[list[str]] = ["jobs"]

    @get(sync_to_thread=True, summary="Recent jobs, newest first")
    def list_jobs(
        self,
        runtime: NamedDependency[ServerRuntime],
        kind: FromQuery[Literal["index", "highlight"] | None] = None,
        limit: int = Parameter(default=50, ge=1, le=500),
    ) -> list[JobView]:
        jobs = runtime.engine.catalog.list_jobs(kind=kind, limit=limit)
        return [JobView.of(job, runtime) for job in jobs]

    @get(
        "/{request_id:str}",
        sync_to_thread=True,
        summary="One job: status, progress, result",
        responses=problem_docs(404),
    )
    def get_job(
        self, request_id: FromPath[str], runtime: NamedDependency[ServerRuntime]
    ) -> JobView:
        job = runtime.get_job(request_id)
        if job is None:
            raise NotFoundError(f"no job with id {request_id!r}")
        return JobView.of(job, runtime)

    @delete(
        "/{request_id:str}",
        status_code=200,
        sync_to_thread=True,
        summary="Cancel a queued or running job",
        responses=problem_docs(404, 409),
    )
    def cancel_job(
        self, request_id: FromPath[str], runtime: NamedDependency[ServerRuntime]
    ) -> JobView:
        """A queued job is cancelled at once; a running one stops at its next stop point
        (between steps, between clips, or at once while it waits for the LLM). Cancelled jobs
        are never resumed. 409 when the job has already finished."""
        return JobView.of(runtime.cancel_job(request_id), runtime)
