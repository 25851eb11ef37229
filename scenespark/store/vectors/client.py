"""Opening Chroma: the embedded store in the data dir, or a Chroma server (scale-out)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from scenespark.config import Settings
from scenespark.errors import StoreError
from scenespark.store.vectors.records import one_line


def connect(settings: Settings) -> tuple[Any, str]:
    """(client, location): ``HttpClient`` when ``settings.chroma_url`` is set (checked with a
    heartbeat), else a ``PersistentClient`` on ``settings.chroma_dir``; telemetry off."""
    try:
        import chromadb
    except ImportError as exc:  # pragma: no cover - dependency of the package
        raise StoreError(f"chromadb is not installed: {exc}") from exc
    chroma_settings = chromadb.Settings(anonymized_telemetry=False, allow_reset=False)
    url = settings.chroma_url.strip()
    if url:
        parsed = urlparse(url if "://" in url else f"http://{url}")
        if not parsed.hostname:
            raise StoreError(f"SCENESPARK_CHROMA_URL {url!r} is not a URL like http://host:8000")
        ssl = parsed.scheme == "https"
        port = parsed.port or (443 if ssl else 8000)
        location = f"{parsed.scheme}://{parsed.hostname}:{port}"
        try:
            client = chromadb.HttpClient(
                host=parsed.hostname, port=port, ssl=ssl, settings=chroma_settings
            )
            client.heartbeat()
        except Exception as exc:
            raise StoreError(
                f"cannot reach the Chroma server at {location}: {one_line(exc)}"
            ) from exc
        return client, location
    path = settings.chroma_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings), str(path)
    except Exception as exc:
        raise StoreError(f"cannot open the Chroma store at {path}: {one_line(exc)}") from exc
