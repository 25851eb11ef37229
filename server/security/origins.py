"""Cross-origin write protection (CSRF): only this server's own pages may change state.

Browsers let any web page send "simple" cross-origin requests (form posts, ``text/plain`` or
multipart bodies) without asking first, so for every write (POST, PUT, PATCH, DELETE):

* a foreign ``Origin`` header, or ``Sec-Fetch-Site: cross-site``/``same-site``, is 403;
* a body must be ``application/json`` (which a foreign page cannot send without a CORS
  preflight, and this server answers none) → else 415;
* a multipart upload must also prove where it comes from: a valid Bearer token, the local CLI
  token, or a same-origin ``Origin`` → else 403.

A write without a body and without ``Origin`` (curl, the CLI) passes; auth is checked after.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from litestar.datastructures import Headers
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from scenespark.config import Settings
from scenespark.errors import ForbiddenRequestError, UnsupportedMediaTypeError
from server.security.hosts import host_name
from server.security.tokens import LOCAL_TOKEN_HEADER, LocalClientCheck, bearer_token_valid

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FOREIGN_FETCH_SITES = frozenset({"cross-site", "same-site"})


def _has_body(headers: Headers) -> bool:
    length = headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in headers


def _media_type(headers: Headers) -> str:
    return (headers.get("content-type") or "").split(";", 1)[0].strip().lower()


def is_json_type(media_type: str) -> bool:
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _explicit_port(netloc: str) -> str | None:
    tail = netloc.rsplit("]", 1)[-1]
    return tail.rsplit(":", 1)[1] if ":" in tail else None


def same_origin(origin: str, headers: Headers, scheme: str) -> bool:
    """``Origin`` names the host and port the request was sent to (its ``Host`` header).

    Behind a TLS proxy the server sees ``http`` and a ``Host`` without a port while the page's
    origin is ``https://name``: a ``Host`` without a port matches the origin's default port.
    """
    parts = urlsplit(origin.strip())
    host = (headers.get("host") or "").strip().lower()
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    if host_name(parts.netloc) != host_name(host):
        return False
    origin_default = "443" if parts.scheme == "https" else "80"
    origin_port = _explicit_port(parts.netloc) or origin_default
    host_port = _explicit_port(host)
    if host_port is None:
        return origin_port == origin_default
    return origin_port == host_port and (parts.scheme == scheme or scheme not in ("http", "https"))


class CrossOriginWriteMiddleware(ASGIMiddleware):
    def __init__(self, settings: Settings, is_local_client: LocalClientCheck) -> None:
        self.settings = settings
        self.is_local_client = is_local_client

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope.get("method", "GET").upper() in WRITE_METHODS:
            self.check_write(Headers.from_scope(scope), str(scope.get("scheme") or "http"))
        await next_app(scope, receive, send)

    def check_write(self, headers: Headers, scheme: str) -> None:
        origin = headers.get("origin")
        own_origin = origin is not None and same_origin(origin, headers, scheme)
        if origin is not None and not own_origin:
            raise ForbiddenRequestError(
                f"writes from another web origin ({origin[:100]!r}) are refused"
            )
        fetch_site = (headers.get("sec-fetch-site") or "").strip().lower()
        if fetch_site in FOREIGN_FETCH_SITES:
            raise ForbiddenRequestError(f"writes from a {fetch_site} page are refused")
        if not _has_body(headers):
            return
        media_type = _media_type(headers)
        if is_json_type(media_type):
            return
        if media_type == "multipart/form-data":
            if own_origin or self._proves_client(headers):
                return
            raise ForbiddenRequestError(
                "a multipart upload needs an Authorization: Bearer token (or the page's own Origin)"
            )
        raise UnsupportedMediaTypeError(
            f"send the body as application/json, not {media_type or 'an untyped body'!r}"
        )

    def _proves_client(self, headers: Headers) -> bool:
        if self.is_local_client(headers.get(LOCAL_TOKEN_HEADER)):
            return True
        return bool(self.settings.api_token.get_secret_value()) and bearer_token_valid(
            headers, self.settings
        )
