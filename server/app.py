"""``create_app(settings)``: the Litestar application (HTTP API, media, web page).

A thin shell over the library. Nothing heavy happens at import or in ``create_app``: the Engine,
the writer lock and the job runner are set up when the app starts (lifespan) and torn down when
it stops. Models load lazily on first use.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from litestar import Litestar, Router
from litestar.di import Provide
from litestar.static_files import create_static_files_router

from scenespark.config import Settings
from scenespark.engine import Engine
from scenespark.errors import SceneSparkError
from server.allow_header import complete_allow_header
from server.controllers.clips import SubtitleClipperController
from server.controllers.deps import provide_runtime
from server.controllers.health import HealthController, package_version
from server.controllers.highlights import HighlightController
from server.controllers.jobs import JobController
from server.controllers.media import MediaController
from server.controllers.pages import STATIC_DIR, PageController
from server.controllers.prompts import PromptController
from server.controllers.search import SearchController
from server.controllers.session import SessionController
from server.controllers.videos import VideoController
from server.openapi import openapi_config
from server.problems import EXCEPTION_HANDLERS
from server.runtime import ServerRuntime
from server.security import security_middleware
from server.security.headers import add_security_headers
from server.uploads import request_body_limit_bytes

log = logging.getLogger("scenespark.server")

JSON_BODY_LIMIT_BYTES = 4 * 1024 * 1024


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    start_workers: bool = True,
    warm_up: bool | None = None,
) -> Litestar:
    """Build the app. ``engine``: share an already open Engine (it is not closed on shutdown).

    ``start_workers=False`` runs no background jobs: submitted jobs stay queued in the catalog
    until a server with workers starts (used by tests and read-only deployments).
    ``warm_up`` loads the text model in the background after startup (default: with workers).
    """
    runtime = ServerRuntime(settings, engine=engine, start_workers=start_workers)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            await anyio.to_thread.run_sync(runtime.start)
        except SceneSparkError as exc:
            log.error("SceneSpark cannot start: %s", exc.one_line())
            raise
        app.state.runtime = runtime
        if start_workers if warm_up is None else warm_up:
            runtime.warm_up()
        try:
            yield
        finally:
            app.state.runtime = None
            await anyio.to_thread.run_sync(runtime.stop)

    # Uploads need a body limit of their own: every other route keeps a small one.
    videos = Router(
        path="/",
        route_handlers=[VideoController],
        request_max_body_size=request_body_limit_bytes(settings),
    )
    static = create_static_files_router(path="/static", directories=[STATIC_DIR], name="static")
    return Litestar(
        route_handlers=[
            HealthController,
            SessionController,
            SearchController,
            videos,
            JobController,
            HighlightController,
            PromptController,
            SubtitleClipperController,
            MediaController,
            PageController,
            static,
        ],
        dependencies={"runtime": Provide(provide_runtime, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=security_middleware(settings, runtime.is_local_client),
        before_send=[add_security_headers, complete_allow_header],
        lifespan=[lifespan],
        openapi_config=openapi_config(package_version()),
        request_max_body_size=JSON_BODY_LIMIT_BYTES,
        debug=False,
    )
