"""``/api/v1/session``: trade the API token for an HttpOnly session cookie (web page, media).

``<video>`` and ``<img>`` loads cannot send an ``Authorization`` header, so the page POSTs the
token once and the browser then sends the cookie (an HMAC of the token, ``SameSite=Strict``).
"""

from __future__ import annotations

from typing import ClassVar

from litestar import Controller, Request, Response, delete, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from pydantic import BaseModel, Field

from scenespark.errors import AuthenticationError
from server.problems import problem_docs
from server.runtime import ServerRuntime
from server.security.tokens import (
    api_token,
    cleared_session_cookie,
    session_cookie,
    token_matches,
)


class SessionRequest(BaseModel):
    token: str = Field(min_length=1, max_length=4096, description="SCENESPARK_API_TOKEN")


class SessionController(Controller):
    path = "/api/v1/session"
    tags: ClassVar[list[str]] = ["system"]

    @post(
        status_code=204,
        summary="Start a browser session: the API token in, an HttpOnly cookie out",
        responses=problem_docs(400, 401, 403, 413, 415),
    )
    async def open_session(
        self,
        data: JSONBody[SessionRequest],
        request: Request,
        runtime: NamedDependency[ServerRuntime],
    ) -> Response[None]:
        """204 with ``Set-Cookie`` when the token is right (or when the server needs none)."""
        settings = runtime.settings
        if not api_token(settings):
            return Response(None, status_code=204)
        if not token_matches(data.token.strip(), settings):
            raise AuthenticationError("the API token is wrong")
        secure = request.url.scheme == "https"
        return Response(None, status_code=204, cookies=[session_cookie(settings, secure=secure)])

    @delete(
        status_code=204,
        summary="End the browser session (clears the cookie)",
        responses=problem_docs(403),
    )
    async def close_session(self) -> Response[None]:
        return Response(None, status_code=204, cookies=[cleared_session_cookie()])
