"""Token authentication: ``SCENESPARK_API_TOKEN`` as a Bearer header or a session cookie.

When the setting is empty, authentication is off (the server then refuses to listen on a
non-loopback address, see ``server.commands``). When set, every request needs one of:

* ``Authorization: Bearer <token>``;
* the session cookie set by ``POST /api/v1/session`` (for the web page and ``<video>``/``<img>``
  loads, which cannot send headers): its value is an HMAC of the token, never the token;
* the local CLI token (``X-SceneSpark-Token``, see ``server.runtime``), which proves the client
  can read the data dir.

Open without a token: ``GET /api/v1/health``, the page shell ``/`` and ``/static/``, and
``/api/v1/session`` itself. Tokens are compared with ``hmac.compare_digest``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from litestar.datastructures import Cookie, Headers
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from scenespark.config import Settings
from scenespark.errors import AuthenticationError
from server.runtime import LOCAL_TOKEN_HEADER

SESSION_COOKIE = "scenespark_session"
SESSION_PATH = "/api/v1/session"
HEALTH_PATH = "/api/v1/health"
_SESSION_CONTEXT = b"scenespark-session-v1"
LocalClientCheck = Callable[[str | None], bool]

__all__ = ["LOCAL_TOKEN_HEADER", "SESSION_COOKIE", "TokenAuthMiddleware"]


def api_token(settings: Settings) -> str:
    return settings.api_token.get_secret_value().strip()


def session_value(token: str) -> str:
    """The cookie value for ``token``: HMAC-SHA256 keyed by the token (the token never leaves)."""
    return hmac.new(token.encode(), _SESSION_CONTEXT, hashlib.sha256).hexdigest()


def token_matches(given: str, settings: Settings) -> bool:
    expected = api_token(settings)
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def bearer_token_valid(headers: Headers, settings: Settings) -> bool:
    scheme, _, value = (headers.get("authorization") or "").strip().partition(" ")
    return scheme.lower() == "bearer" and token_matches(value.strip(), settings)


def session_cookie_valid(headers: Headers, settings: Settings) -> bool:
    expected = api_token(settings)
    if not expected:
        return False
    wanted = session_value(expected).encode()
    for header in headers.getall("cookie", []):
        for part in header.split(";"):
            name, _, value = part.strip().partition("=")
            if name == SESSION_COOKIE and hmac.compare_digest(value.strip().encode(), wanted):
                return True
    return False


def session_cookie(settings: Settings, *, secure: bool = False) -> Cookie:
    """The session cookie; ``secure`` (sent over HTTPS only) when the page came over HTTPS."""
    return Cookie(
        key=SESSION_COOKIE,
        value=session_value(api_token(settings)),
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure,
    )


def cleared_session_cookie() -> Cookie:
    return Cookie(
        key=SESSION_COOKIE, value="", path="/", httponly=True, samesite="strict", max_age=0
    )


def is_open_route(method: str, path: str) -> bool:
    """Routes that answer without a token: health, the page shell and its assets, the session."""
    if path == SESSION_PATH:
        return True
    if method not in ("GET", "HEAD"):
        return False
    return path in ("/", HEALTH_PATH) or path.startswith("/static/")


class TokenAuthMiddleware(ASGIMiddleware):
    def __init__(self, settings: Settings, is_local_client: LocalClientCheck) -> None:
        self.settings = settings
        self.is_local_client = is_local_client

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if api_token(self.settings) and not is_open_route(
            str(scope.get("method", "GET")).upper(), str(scope.get("path", ""))
        ):
            self.check(Headers.from_scope(scope))
        await next_app(scope, receive, send)

    def check(self, headers: Headers) -> None:
        if bearer_token_valid(headers, self.settings):
            return
        if session_cookie_valid(headers, self.settings):
            return
        if self.is_local_client(headers.get(LOCAL_TOKEN_HEADER)):
            return
        given = "authorization" in headers
        raise AuthenticationError(
            "the API token is wrong" if given else "this server needs its API token",
            hint="send Authorization: Bearer <SCENESPARK_API_TOKEN>, "
            "or POST it to /api/v1/session for a session cookie",
        )
