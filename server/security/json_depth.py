"""A nesting-depth limit for JSON bodies, checked while the bytes arrive.

Deeply nested JSON (``[[[[...]]]]`` 5,000 levels) makes recursive parsers and validators raise
``RecursionError``. The guard wraps ``receive`` and scans each chunk of an ``application/json``
body with a tiny state machine (brackets outside strings), so a too-deep body is a 400 before any
parser sees it. Body size stays limited by Litestar's ``request_max_body_size`` (413).
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.datastructures import Headers
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from scenespark.errors import InvalidInputError
from server.security.origins import is_json_type

MAX_JSON_DEPTH = 32
_OPEN, _CLOSE, _QUOTE, _BACKSLASH = frozenset(b"[{"), frozenset(b"]}"), ord('"'), ord("\\")


@dataclass
class JsonDepthScanner:
    """Tracks bracket depth across chunks; ``feed`` returns the deepest level seen so far."""

    depth: int = 0
    deepest: int = 0
    in_string: bool = False
    escaped: bool = False

    def feed(self, chunk: bytes) -> int:
        for byte in chunk:
            if self.in_string:
                if self.escaped:
                    self.escaped = False
                elif byte == _BACKSLASH:
                    self.escaped = True
                elif byte == _QUOTE:
                    self.in_string = False
            elif byte == _QUOTE:
                self.in_string = True
            elif byte in _OPEN:
                self.depth += 1
                self.deepest = max(self.deepest, self.depth)
            elif byte in _CLOSE:
                self.depth = max(0, self.depth - 1)
        return self.deepest


def too_deep() -> InvalidInputError:
    return InvalidInputError(f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels")


class JsonDepthMiddleware(ASGIMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        media_type = (Headers.from_scope(scope).get("content-type") or "").split(";", 1)[0]
        if not is_json_type(media_type.strip().lower()):
            await next_app(scope, receive, send)
            return
        scanner = JsonDepthScanner()

        async def guarded_receive() -> Message:
            message = await receive()
            body = message.get("body", b"") if message["type"] == "http.request" else b""
            if body and scanner.feed(body) > MAX_JSON_DEPTH:
                raise too_deep()
            return message

        await next_app(scope, guarded_receive, send)
