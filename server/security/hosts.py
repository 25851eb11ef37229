"""The ``Host`` allow-list: a request must name this server (defence against DNS rebinding).

A page on ``evil.example`` whose DNS name is re-pointed at 127.0.0.1 talks to the server with
``Host: evil.example``; refusing unknown names makes such requests fail. Names come from
``SCENESPARK_ALLOWED_HOSTS``; by default the loopback names and the bind address. Ports are
ignored (any port). ``*`` in the list turns the check off.
"""

from __future__ import annotations

import ipaddress

from litestar.datastructures import Headers
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from scenespark.config import Settings
from scenespark.errors import UnknownHostError

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_BINDS = ("0.0.0.0", "::", "")


def host_name(header: str) -> str:
    """The name part of a ``Host`` header value, lower case, without port or IPv6 brackets."""
    text = header.strip().lower()
    if text.startswith("["):  # [::1]:8000
        return text[1:].split("]", 1)[0]
    if text.count(":") == 1:
        text = text.split(":", 1)[0]
    return text.rstrip(".")


def _normal(name: str) -> str:
    name = host_name(name) if not _is_bare_ipv6(name) else name.strip().lower()
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name


def _is_bare_ipv6(name: str) -> bool:
    return name.count(":") > 1 and not name.startswith("[")


def allowed_host_names(settings: Settings) -> frozenset[str] | None:
    """The names this server answers to, or None when any name is allowed (``*``)."""
    names = [n for n in settings.allowed_hosts if n.strip()]
    if "*" in names:
        return None
    if not names:
        names = [*LOOPBACK_NAMES]
        if settings.host.strip() not in WILDCARD_BINDS:
            names.append(settings.host)
    return frozenset(_normal(n) for n in names)


def is_allowed_host(header: str | None, allowed: frozenset[str] | None) -> bool:
    if allowed is None:
        return True
    if not header:
        return False
    return _normal(header) in allowed


class HostAllowListMiddleware(ASGIMiddleware):
    def __init__(self, settings: Settings) -> None:
        self.allowed = allowed_host_names(settings)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        header = Headers.from_scope(scope).get("host")
        if not is_allowed_host(header, self.allowed):
            raise UnknownHostError(
                f"this server does not answer to the host name {host_name(header or '')!r}",
                hint="add it to SCENESPARK_ALLOWED_HOSTS (comma-separated) if it is yours",
            )
        await next_app(scope, receive, send)
