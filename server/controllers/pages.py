"""``GET /``: the web page (``server/static/index.html``); the rest of ``static/`` is at /static."""

from __future__ import annotations

from pathlib import Path

from litestar import Controller, get
from litestar.response import File

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


class PageController(Controller):
    path = "/"
    include_in_schema = False

    @get(sync_to_thread=False)
    def index(self) -> File:
        return File(
            STATIC_DIR / "index.html",
            media_type="text/html; charset=utf-8",
            content_disposition_type="inline",
        )
