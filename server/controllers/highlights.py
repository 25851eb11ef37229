"""``/api/v1/highlights``: prompt-driven highlight reels, run as background jobs."""

from __future__ import annotations

from typing import ClassVar

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from scenespark.errors import ConflictError, NotFoundError, ValidationFailedError
from scenespark.highlights.explicit import check_spans
from scenespark.highlights.prompt_parse import require_material
from scenespark.types import AnyJob, HighlightJob, HighlightRequest, JobStatus
from server.controllers.schemas import JobRef, JobView, ReplanRequest
from server.problems import problem_docs
from server.runtime import HIGHLIGHT, ServerRuntime


def job_ref(job: AnyJob) -> JobRef:
    prefix = "/api/v1/highlights/" if job.kind == HIGHLIGHT else "/api/v1/jobs/"
    return JobRef(request_id=job.request_id, status=job.status, url=prefix + job.request_id)


def check_highlight_request(request: HighlightRequest, runtime: ServerRuntime) -> None:
    """Refuse well-formed but impossible requests (422) and unknown videos (404)."""
    if request.min_clip_s > request.max_clip_s:
        raise ValidationFailedError(
            f"min_clip_s ({request.min_clip_s:g}) is larger than "
            f"max_clip_s ({request.max_clip_s:g})"
        )
    target = request.target_duration_s
    if target is not None and target * (1.0 + request.tolerance) < request.min_clip_s:
        raise ValidationFailedError(
            f"target_duration_s ({target:g}) is shorter than one clip of min_clip_s "
            f"({request.min_clip_s:g})"
        )
    both = set(request.locked_clip_ids) & set(request.excluded_clip_ids)
    if both:
        raise ValidationFailedError(f"clips both locked and excluded: {', '.join(sorted(both))}")
    require_material(request)
    for video_id in request.video_ids or []:
        runtime.engine.catalog.require_video(video_id)
    if request.clips:  # a re-cut: every span inside a known video
        catalog = runtime.engine.catalog
        ids = sorted({span.video_id for span in request.clips})
        check_spans(request.clips, {vid: catalog.require_video(vid) for vid in ids})


def highlight_job(runtime: ServerRuntime, request_id: str) -> HighlightJob:
    job = runtime.get_job(request_id)
    if not isinstance(job, HighlightJob):
        raise NotFoundError(f"no highlight job with id {request_id!r}")
    return job


class HighlightController(Controller):
    path = "/api/v1/highlights"
    tags: ClassVar[list[str]] = ["highlights"]

    @post(
        status_code=202,
        sync_to_thread=True,
        summary="Start a highlight reel from a prompt",
        responses=problem_docs(404, 422, 429),
    )
    def create(
        self, data: JSONBody[HighlightRequest], runtime: NamedDependency[ServerRuntime]
    ) -> JobRef:
        """Queue a job that picks, trims and renders clips; poll the returned URL."""
        check_highlight_request(data, runtime)
        return job_ref(runtime.submit_highlight(data))

    @get(sync_to_thread=True, summary="Recent highlight jobs, newest first")
    def list_highlights(
        self,
        runtime: NamedDependency[ServerRuntime],
        limit: int = Parameter(default=20, ge=1, le=200),
    ) -> list[JobView]:
        jobs = runtime.engine.catalog.list_jobs(kind=HIGHLIGHT, limit=limit)
        return [JobView.of(job, runtime) for job in jobs]

    @get(
        "/{request_id:str}",
        sync_to_thread=True,
        summary="A highlight job and its clips",
        responses=problem_docs(404),
    )
    def get_highlight(
        self, request_id: FromPath[str], runtime: NamedDependency[ServerRuntime]
    ) -> JobView:
        """Status and progress; when done, the clips, ``reel_url``, ``srt_url`` and ``edl_url``."""
        return JobView.of(highlight_job(runtime, request_id), runtime)

    @post(
        "/{request_id:str}/replan",
        status_code=202,
        sync_to_thread=True,
        summary="Re-plan a highlight job: new duration, locked/excluded clips or explicit spans",
        responses=problem_docs(404, 409, 422, 429),
    )
    def replan(
        self,
        request_id: FromPath[str],
        data: JSONBody[ReplanRequest],
        runtime: NamedDependency[ServerRuntime],
    ) -> JobRef:
        parent = highlight_job(runtime, request_id)
        if parent.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            raise ConflictError(
                f"highlight job {request_id!r} is still {parent.status.value}",
                hint="re-plan once it has finished",
            )
        base = HighlightRequest.model_validate(parent.params)
        update = data.model_dump(exclude_none=True)
        if data.excluded_clip_ids is not None:
            update["excluded_clip_ids"] = sorted(
                set(base.excluded_clip_ids) | set(data.excluded_clip_ids)
            )
        merged = HighlightRequest.model_validate({**base.model_dump(), **update})
        if parent.result is not None and merged.locked_clip_ids:
            known = {clip.clip_id for clip in parent.result.clips}
            unknown = [c for c in merged.locked_clip_ids if c not in known]
            if unknown:
                raise ValidationFailedError(
                    f"locked clips that are not in job {request_id!r}: {', '.join(unknown)}"
                )
        check_highlight_request(merged, runtime)
        return job_ref(runtime.submit_highlight(merged, parent_request_id=request_id))
