"""A nesting-depth limit for JSON bodies, checked before any parser sees them.

Deeply nested JSON (``[[[[...]]]]`` 5,000 levels) makes recursive parsers and validators raise
``RecursionError``. The guard wraps ``receive``, collects an ``application/json`` body and, at
its last chunk, measures the depth (brackets outside strings), so a too-deep body is a 400 before
any parser sees it. Body size stays limited by Litestar's ``request_max_body_size`` (413).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import anyio
from litestar.datastructures import Headers
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from scenespark.errors import InvalidInputError
from server.security.origins import is_json_type

MAX_JSON_DEPTH = 32
_ESCAPE = re.compile(rb"\\.", re.DOTALL)  # a backslash and the byte it escapes
_NOT_STRUCTURE = bytes(sorted(set(range(256)) - set(b'[]{}"')))
_STRING = re.compile(rb'"[^"]*"')  # once escapes are gone, a string has no quote inside
_INNERMOST_PAIR = re.compile(rb"\[\]|\{\}")


def nesting_depth(body: bytes, limit: int) -> int:
    """The bracket depth of a JSON text (strings ignored), counted up to ``limit + 1``.

    C-speed passes only: escapes are dropped, then every byte but brackets and quotes, then the
    strings; innermost pairs are then removed one level per pass, at most ``limit + 1`` passes.
    """
    structure = _ESCAPE.sub(b"", body).translate(None, _NOT_STRUCTURE)
    brackets = _STRING.sub(b"", structure).replace(b'"', b"")
    depth = 0
    while brackets and depth <= limit:
        brackets, removed = _INNERMOST_PAIR.subn(b"", brackets)
        if not removed:  # unbalanced (malformed JSON): count what is left open
            return depth + len(brackets)
        depth += 1
    return depth


@dataclass
class JsonDepthScanner:
    """Collects a JSON body chunk by chunk; ``finish`` returns its depth (bounded above).

    Cheap first: the number of ``[``/``{`` bytes bounds the depth, so a body with at most
    ``limit`` of them (nearly every request) is never measured exactly.
    """

    limit: int = MAX_JSON_DEPTH
    opens: int = 0
    body: bytearray = field(default_factory=bytearray)

    def feed(self, chunk: bytes) -> None:
        self.opens += chunk.count(b"[") + chunk.count(b"{")
        self.body.extend(chunk)

    @property
    def needs_measuring(self) -> bool:
        return self.opens > self.limit

    def finish(self) -> int:
        """The depth, bounded above; blocking for big bracket-rich bodies (see
        ``needs_measuring``): call it off the event loop then."""
        if not self.needs_measuring:
            return self.opens
        return nesting_depth(bytes(self.body), self.limit)


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
            if message["type"] == "http.request":
                scanner.feed(message.get("body", b""))
                if not message.get("more_body", False):
                    depth = (
                        await anyio.to_thread.run_sync(scanner.finish)
                        if scanner.needs_measuring
                        else scanner.finish()
                    )
                    if depth > MAX_JSON_DEPTH:
                        raise too_deep()
            return message

        await next_app(scope, guarded_receive, send)
