"""``/api/v1/videos``: add (by path or upload), list, show and remove indexed videos."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import anyio
from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException, ValidationException
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
)
from litestar.params import FromPath
from pydantic import ValidationError

from scenespark.errors import PayloadTooLargeError
from scenespark.types import AnyJob, Modality
from server.controllers.highlights import job_ref
from server.controllers.schemas import (
    AddVideoRequest,
    AddVideoResponse,
    JobView,
    Transcript,
    TranscriptSentence,
    VideoList,
    VideoView,
)
from server.paths import display_path, resolve_library_path, resolve_local_path
from server.problems import problem_docs
from server.runtime import INDEX, LOCAL_TOKEN_HEADER, ServerRuntime
from server.uploads import delete_uploaded_file, receive_upload, store_upload

MAX_JSON_BYTES = 64 * 1024


@dataclass
class AddVideoOperation(Operation):
    """Documents the two bodies ``POST /api/v1/videos`` accepts (JSON path or upload)."""

    def __post_init__(self) -> None:
        path_body = Reference(ref="#/components/schemas/AddVideoRequest")  # pydantic's schema
        upload_body = Schema(
            type=OpenAPIType.OBJECT,
            required=["file"],
            properties={
                "file": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY),
                "force": Schema(type=OpenAPIType.BOOLEAN, default=False),
            },
        )
        self.request_body = RequestBody(
            required=True,
            description="JSON `{path}` of a file in a library root, or a multipart upload "
            "(field `file`, at most SCENESPARK_MAX_UPLOAD_MB)",
            content={
                "application/json": OpenAPIMediaType(schema=path_body),
                "multipart/form-data": OpenAPIMediaType(schema=upload_body),
            },
        )


async def _json_body(request: Request) -> AddVideoRequest:
    announced = request.content_length
    if announced is not None and announced > MAX_JSON_BYTES:
        raise PayloadTooLargeError(f"a JSON body may have at most {MAX_JSON_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_JSON_BYTES:
            raise PayloadTooLargeError(f"a JSON body may have at most {MAX_JSON_BYTES} bytes")
    try:
        return AddVideoRequest.model_validate_json(bytes(body))
    except ValidationError as exc:
        extra = [
            {"key": ".".join(str(p) for p in err["loc"]), "message": err["msg"], "source": "body"}
            for err in exc.errors()
        ]
        raise ValidationException("invalid body", extra=extra) from None


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


class VideoController(Controller):
    path = "/api/v1/videos"
    tags: ClassVar[list[str]] = ["videos"]

    @post(
        status_code=202,
        summary="Index a video: a path in a library root, or an upload",
        operation_class=AddVideoOperation,
        responses=problem_docs(403, 404, 413, 415, 422, 429, 507),
    )
    async def add(
        self, request: Request, runtime: NamedDependency[ServerRuntime]
    ) -> AddVideoResponse:
        """Queue an indexing job; poll ``GET /api/v1/jobs/{request_id}``.

        Paths must resolve (symlinks followed) inside SCENESPARK_LIBRARY_ROOTS (else 403).
        Uploads are streamed to the data dir and limited to SCENESPARK_MAX_UPLOAD_MB (else 413).
        """
        media_type, _ = request.content_type
        settings = runtime.settings
        if media_type == RequestEncodingType.MULTI_PART:
            received = await receive_upload(request, settings)
            saved = await anyio.to_thread.run_sync(
                store_upload, received, settings, runtime.engine.catalog
            )
            try:
                job = await anyio.to_thread.run_sync(
                    lambda: runtime.submit_index(
                        saved.path,
                        force=_flag(saved.fields.get("force")),
                        source="upload",
                        original_name=saved.original_name,
                    )
                )
            except BaseException:
                if not saved.duplicate:
                    delete_uploaded_file(saved.path, settings)
                raise
            shown = display_path(saved.path, settings)
            return AddVideoResponse(video_id=saved.video_id, path=shown, job=job_ref(job))
        if media_type in ("application/json", "") or media_type.endswith("+json"):
            data = await _json_body(request)

            local = runtime.is_local_client(request.headers.get(LOCAL_TOKEN_HEADER))

            def submit() -> tuple[Path, str | None, AnyJob]:
                if local:
                    real = resolve_local_path(data.path)
                else:
                    real = resolve_library_path(data.path, settings)
                known = runtime.engine.catalog.find_video_by_path(str(real))
                return (
                    real,
                    known.video_id if known else None,
                    runtime.submit_index(real, force=data.force),
                )

            real, video_id, job = await anyio.to_thread.run_sync(submit)
            return AddVideoResponse(video_id=video_id, path=str(real), job=job_ref(job))
        raise ClientException(
            status_code=415,
            detail=f"send JSON {{'path': ...}} or a multipart upload, not {media_type!r}",
        )

    @get(sync_to_thread=True, summary="Indexed videos and running index jobs")
    def list_videos(self, runtime: NamedDependency[ServerRuntime]) -> VideoList:
        videos = [VideoView.of(v) for v in runtime.engine.catalog.list_videos()]
        jobs = [JobView.of(job, runtime) for job in runtime.active_jobs(INDEX)]
        return VideoList(videos=videos, jobs=jobs)

    @get(
        "/{video_id:str}",
        sync_to_thread=True,
        summary="One indexed video",
        responses=problem_docs(404),
    )
    def get_video(
        self, video_id: FromPath[str], runtime: NamedDependency[ServerRuntime]
    ) -> VideoView:
        return VideoView.of(runtime.engine.catalog.require_video(video_id))

    @get(
        "/{video_id:str}/transcript",
        sync_to_thread=True,
        summary="A video's speech as sentences with word timings",
        responses=problem_docs(404),
    )
    def transcript(
        self, video_id: FromPath[str], runtime: NamedDependency[ServerRuntime]
    ) -> Transcript:
        catalog = runtime.engine.catalog
        catalog.require_video(video_id)
        return Transcript(
            video_id=video_id,
            sentences=[
                TranscriptSentence(start_s=s.start_s, end_s=s.end_s, text=s.text, words=s.words)
                for s in catalog.segments(video_id, [Modality.SPEECH])
            ],
        )

    @delete(
        "/{video_id:str}",
        status_code=204,
        sync_to_thread=True,
        summary="Remove a video",
        responses=problem_docs(404),
    )
    def remove(self, video_id: FromPath[str], runtime: NamedDependency[ServerRuntime]) -> None:
        """Remove the video's vectors, segments and thumbnails; an uploaded file is deleted too."""
        video = runtime.engine.catalog.require_video(video_id)
        runtime.index_service.remove(video_id)
        delete_uploaded_file(Path(video.path), runtime.settings)
