"""``/media``: generated files (thumbnails, clips, reels, SRT, EDL) and source videos.

Both routes honour HTTP Range requests so browsers can seek in videos.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar

import anyio
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter
from litestar.response import Response, Stream

from scenespark.errors import NotFoundError
from server.media import file_response
from server.paths import MAX_PATH_BYTES, display_path, resolve_media_file
from server.problems import problem_docs
from server.runtime import ServerRuntime


class MediaController(Controller):
    path = "/media"
    tags: ClassVar[list[str]] = ["media"]

    @get(
        "/files/{file_path:path}",
        summary="A generated media file (Range supported)",
        responses=problem_docs(403, 404, 416),
    )
    async def media_file(
        self,
        file_path: Annotated[str, Parameter(max_length=MAX_PATH_BYTES)],
        request: Request,
        runtime: NamedDependency[ServerRuntime],
    ) -> Response | Stream:
        """A file under the data dir's ``media/`` folder; paths escaping it get 403."""
        real = await anyio.to_thread.run_sync(resolve_media_file, file_path, runtime.settings)
        return file_response(request, real)

    @get(
        "/videos/{video_id:str}",
        summary="The source file of an indexed video (Range supported)",
        responses=problem_docs(404, 416),
    )
    async def source_video(
        self, video_id: FromPath[str], request: Request, runtime: NamedDependency[ServerRuntime]
    ) -> Response | Stream:
        def locate() -> Path:
            path = Path(runtime.engine.catalog.require_video(video_id).path)
            if not path.is_file():
                shown = display_path(path, runtime.settings)
                raise NotFoundError(f"the source file of video {video_id!r} is gone: {shown}")
            return path

        path = await anyio.to_thread.run_sync(locate)
        return file_response(request, path, filename=path.name)
