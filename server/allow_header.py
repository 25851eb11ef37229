"""A complete ``Allow`` header on ``OPTIONS`` answers.

Litestar builds one automatic OPTIONS handler per route object, and when handlers of one path sit
in different controllers methods or routers its ``Allow`` lists only some of them (e.g.
``OPTIONS, POST`` for a path that also answers GET). This ``before_send`` hook rewrites ``Allow``
from every route registered for the matched path template.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope


def allowed_methods(app: object, path_template: str) -> set[str]:
    methods: set[str] = set()
    for route in getattr(app, "routes", []):
        if path_template in (getattr(route, "path", None), getattr(route, "path_format", None)):
            methods |= set(getattr(route, "methods", ()))
    return methods


async def complete_allow_header(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    headers = MutableScopeHeaders.from_message(message)
    if "allow" not in headers:
        return
    methods = allowed_methods(scope.get("app"), str(scope.get("path_template") or ""))
    if methods:
        headers["Allow"] = ", ".join(sorted(methods | {"OPTIONS"}))
