"""``/api/v1/clips/subtitle_clipper``: compatibility with the original SceneSpark API."""

from __future__ import annotations

from typing import ClassVar

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from scenespark.types import HighlightRequest
from server.controllers.highlights import check_highlight_request, highlight_job, job_ref
from server.controllers.schemas import (
    JobRef,
    SubtitleClip,
    SubtitleClipperRequest,
    SubtitleClipperStatus,
)
from server.problems import problem_docs
from server.runtime import ServerRuntime

DEFAULT_PROMPT = "the most important moments"


class SubtitleClipperController(Controller):
    path = "/api/v1/clips/subtitle_clipper"
    tags: ClassVar[list[str]] = ["compatibility"]

    @post(
        status_code=202,
        sync_to_thread=True,
        summary="Cut the key moments of one video",
        responses=problem_docs(404, 422, 429),
    )
    def create(
        self, data: JSONBody[SubtitleClipperRequest], runtime: NamedDependency[ServerRuntime]
    ) -> JobRef:
        """A highlight job restricted to ``video_id``; poll ``GET .../{request_id}``."""
        prompt = (data.prompt or "").strip() or DEFAULT_PROMPT
        request = HighlightRequest(prompt=prompt, video_ids=[data.video_id])
        check_highlight_request(request, runtime)
        job = runtime.submit_highlight(request, compat="subtitle_clipper")
        ref = job_ref(job)
        return ref.model_copy(update={"url": f"{self.path}/{job.request_id}"})

    @get(
        "/{request_id:str}",
        sync_to_thread=True,
        summary="Status and clips of a clipper job",
        responses=problem_docs(404),
    )
    def status(
        self, request_id: FromPath[str], runtime: NamedDependency[ServerRuntime]
    ) -> SubtitleClipperStatus:
        job = highlight_job(runtime, request_id)
        clips = [SubtitleClip.of(c) for c in job.result.clips] if job.result is not None else []
        return SubtitleClipperStatus(
            request_id=job.request_id,
            status=job.status,
            progress=job.progress,
            error=job.error,
            clips=clips,
        )
