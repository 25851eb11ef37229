"""``GET /api/v1/jobs``: background jobs (indexing and highlights)."""

from __future__ import annotations

from typing import ClassVar, Literal

from litestar import Controller, get
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
