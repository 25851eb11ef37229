"""The server's security layer, a file per idea.

* ``hosts``: the ``Host`` header must name this server (DNS rebinding) → 400.
* ``origins``: writes from another web origin are refused (cross-site request forgery) → 403/415.
* ``tokens``: ``SCENESPARK_API_TOKEN`` (Bearer header or session cookie) → 401.
* ``json_depth``: JSON bodies nested too deep are refused while they arrive → 400.
* ``headers``: CSP, ``X-Frame-Options``, ``Referrer-Policy``, ``nosniff`` on every response.

``security_middleware`` lists the middleware in the order they run; ``create_app`` wires them.
"""

from __future__ import annotations

from collections.abc import Callable

from litestar.middleware import ASGIMiddleware

from scenespark.config import Settings
from server.security.hosts import HostAllowListMiddleware
from server.security.json_depth import JsonDepthMiddleware
from server.security.origins import CrossOriginWriteMiddleware
from server.security.tokens import LocalClientCheck, TokenAuthMiddleware


def security_middleware(
    settings: Settings, is_local_client: LocalClientCheck | None = None
) -> list[ASGIMiddleware]:
    """Host check first, then cross-origin writes, then authentication, then JSON depth."""
    local: LocalClientCheck = is_local_client or _nobody
    return [
        HostAllowListMiddleware(settings),
        CrossOriginWriteMiddleware(settings, local),
        TokenAuthMiddleware(settings, local),
        JsonDepthMiddleware(),
    ]


def _nobody(_token: str | None) -> bool:
    return False


__all__: list[str | Callable[..., object]] = ["security_middleware"]
