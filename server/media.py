"""File responses with HTTP Range support (RFC 9110 §14).

Browsers seek in ``<video>`` elements with ``Range: bytes=a-b`` requests, so clips, reels and
source videos must answer 206 with the requested bytes. One range per request (a multi-range
request gets the whole file, which the RFC allows); an unsatisfiable range gets 416 with
``Content-Range: bytes */size``. Bodies are streamed in chunks, read off the event loop.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from email.utils import formatdate
from pathlib import Path

import anyio
from litestar import Request
from litestar.response import Response, Stream

from server.problems import problem_response

CHUNK_BYTES = 256 * 1024
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)

# The only media types files under /media/ are served with (never text/html or anything a browser
# would run): keyed by extension, which for uploads the server chose from the probed container.
SERVED_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".mov": "video/quicktime",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".flac": "audio/flac",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".srt": "text/plain; charset=utf-8",
    ".vtt": "text/plain; charset=utf-8",
    ".edl": "text/plain; charset=utf-8",
    ".fcpxml": "text/plain; charset=utf-8",
    ".otio": "application/json",
}
FALLBACK_TYPE = "application/octet-stream"


class RangeNotSatisfiable(Exception):
    pass


def media_type_for(path: Path) -> str:
    """The served media type: from the fixed allow-list, else ``application/octet-stream``."""
    return SERVED_TYPES.get(path.suffix.lower(), FALLBACK_TYPE)


def parse_range(header: str | None, size_bytes: int) -> tuple[int, int] | None:
    """The inclusive byte range ``(first, last)`` asked for, or None for the whole file.

    Raises RangeNotSatisfiable when the range is well formed but lies outside the file.
    Malformed or multi-range headers are ignored (the whole file is sent).
    """
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # suffix range: the last N bytes
        suffix = int(last_text)
        if suffix == 0 or size_bytes == 0:
            raise RangeNotSatisfiable
        return max(0, size_bytes - suffix), size_bytes - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # syntactically invalid: ignore
    if first >= size_bytes:
        raise RangeNotSatisfiable
    last = int(last_text) if last_text else size_bytes - 1
    return first, min(last, size_bytes - 1)


async def _read_span(path: Path, first: int, length: int) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as handle:
        await handle.seek(first)
        remaining = length
        while remaining > 0:
            chunk = await handle.read(min(CHUNK_BYTES, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


def file_response(
    request: Request, path: Path, *, filename: str | None = None
) -> Response | Stream:
    """Serve ``path`` honouring a ``Range`` header (200, 206 or 416)."""
    stat = path.stat()
    size_bytes = stat.st_size
    headers = {
        "Accept-Ranges": "bytes",
        "Last-Modified": formatdate(stat.st_mtime, usegmt=True),
        "ETag": f'"{stat.st_mtime_ns:x}-{size_bytes:x}"',
        "Cache-Control": "no-cache",
    }
    if filename:
        headers["Content-Disposition"] = f'inline; filename="{_header_safe(filename)}"'
    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if range_header and if_range and if_range.strip() != headers["ETag"]:
        range_header = None  # the client's copy is stale: send the whole file
    try:
        span = parse_range(range_header, size_bytes)
    except RangeNotSatisfiable:
        return problem_response(
            request,
            status=416,
            title="Range not satisfiable",
            detail=f"the file has {size_bytes} bytes; asked for {range_header}",
            headers={"Content-Range": f"bytes */{size_bytes}", "Accept-Ranges": "bytes"},
        )
    media_type = media_type_for(path)
    if span is None:
        first, last, status = 0, size_bytes - 1, 200
    else:
        (first, last), status = span, 206
        headers["Content-Range"] = f"bytes {first}-{last}/{size_bytes}"
    length = max(0, last - first + 1)
    headers["Content-Length"] = str(length)
    return Stream(
        content=_read_span(path, first, length),
        status_code=status,
        media_type=media_type,
        headers=headers,
    )


def _header_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._ -]+", "_", name)[:150]
