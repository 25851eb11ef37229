"""Refuse to serve a token-less API beyond this machine.

``serve --host 0.0.0.0`` without ``SCENESPARK_API_TOKEN`` would let anyone on the network list,
download and delete the library, so it does not start.
"""

from __future__ import annotations

import ipaddress

from scenespark.config import Settings
from scenespark.errors import ConfigError
from server.security.tokens import api_token


def is_loopback(host: str) -> bool:
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings, host: str) -> None:
    """ConfigError (exit 2) when ``host`` is not a loopback address and no API token is set."""
    if is_loopback(host) or api_token(settings):
        return
    raise ConfigError(
        f"refusing to serve on {host} without an API token: anyone who can reach it could "
        "read and delete the library",
        hint="set SCENESPARK_API_TOKEN, or serve on 127.0.0.1",
    )


def exposure_notes(settings: Settings, host: str) -> list[str]:
    """Hints worth a line at start-up (e.g. a wildcard bind answering only loopback names)."""
    from server.security.hosts import WILDCARD_BINDS

    if host.strip() in WILDCARD_BINDS and not settings.allowed_hosts:
        return [
            f"note: listening on {host}, but only localhost names are accepted in the Host "
            "header; set SCENESPARK_ALLOWED_HOSTS to the names or addresses clients use"
        ]
    return []
