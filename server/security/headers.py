"""Security headers on every response (a ``before_send`` hook, so 404s and errors get them too).

Pages get a strict Content Security Policy (scripts, styles, media from this origin only; ``data:``
and ``blob:`` images for the favicon and generated previews). Everything under ``/media/`` is
served with ``Content-Security-Policy: sandbox``: even if a browser rendered a file as a page, it
would run in an opaque origin with no scripts. The offline API index at ``/schema`` keeps its
inline ``<style>``.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

PAGE_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SCHEMA_CSP = PAGE_CSP + "; style-src 'self' 'unsafe-inline'"
MEDIA_CSP = "sandbox"

COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def csp_for(path: str) -> str:
    if path.startswith("/media/"):
        return MEDIA_CSP
    if path == "/schema" or path.startswith("/schema/"):
        return SCHEMA_CSP
    return PAGE_CSP


async def add_security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in COMMON_HEADERS.items():
        headers[name] = value
    headers["Content-Security-Policy"] = csp_for(str(scope.get("path", "")))
