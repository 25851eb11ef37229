"""Streaming multipart uploads straight to disk, with a size limit.

The body is parsed as it arrives (``multipart.PushMultipartParser``) and the ``file`` field is
written to ``$SCENESPARK_HOME/uploads/`` under a sanitised, unique name, so a large video never
sits in memory. Going over ``max_upload_mb`` stops the transfer with a 413 problem and removes
the partial file.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from litestar import Request
from multipart import MultipartError, MultipartSegment, PushMultipartParser

from scenespark.config import Settings
from scenespark.errors import InvalidInputError, PayloadTooLargeError

FILE_FIELD = "file"
MAX_FIELD_BYTES = 64 * 1024
MULTIPART_OVERHEAD_BYTES = 1024 * 1024  # headers and boundaries around the file
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class SavedUpload:
    path: Path
    original_name: str
    size_bytes: int
    fields: dict[str, str] = field(default_factory=dict)


def upload_dir(settings: Settings) -> Path:
    return settings.home / "uploads"


def upload_limit_bytes(settings: Settings) -> int:
    return settings.max_upload_mb * 1024 * 1024


def request_body_limit_bytes(settings: Settings) -> int:
    """What Litestar may accept on the upload route: the file limit plus multipart framing."""
    return upload_limit_bytes(settings) + MULTIPART_OVERHEAD_BYTES


def safe_name(filename: str) -> str:
    """A file name without directories or odd characters, prefixed with a unique id."""
    base = Path(filename.replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = _UNSAFE.sub("_", stem).strip("._") or "upload"
    suffix = _UNSAFE.sub("", suffix)[:10]
    return f"{uuid.uuid4().hex[:12]}_{stem[:80]}{suffix}"


def _too_large(settings: Settings) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"the upload is larger than the limit of {settings.max_upload_mb} MB",
        hint="raise SCENESPARK_MAX_UPLOAD_MB, or index the file from a library root by path",
    )


async def receive_upload(request: Request, settings: Settings) -> SavedUpload:
    """Stream the ``file`` field of a multipart request to the uploads folder."""
    _media_type, options = request.content_type
    boundary = options.get("boundary")
    if not boundary:
        raise InvalidInputError("multipart upload without a boundary in Content-Type")
    limit = upload_limit_bytes(settings)
    announced = request.content_length
    if announced is not None and announced > request_body_limit_bytes(settings):
        raise _too_large(settings)

    folder = upload_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{uuid.uuid4().hex}.part"
    written = 0
    original = ""
    fields: dict[str, str] = {}
    handle = None
    current: MultipartSegment | None = None
    field_data = bytearray()
    try:
        with PushMultipartParser(boundary.encode("latin-1"), max_segment_count=16) as parser:
            async for chunk in request.stream():
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        current = event
                        field_data = bytearray()
                        if event.name == FILE_FIELD and event.filename is not None:
                            if handle is not None:
                                raise InvalidInputError("upload one file per request")
                            original = event.filename or "upload"
                            handle = await anyio.open_file(partial, "wb")
                    elif event is None:
                        if current is not None and current.name != FILE_FIELD:
                            fields[current.name or ""] = field_data.decode("utf-8", "replace")
                        current = None
                    elif current is not None and current.name == FILE_FIELD and handle is not None:
                        written += len(event)
                        if written > limit:
                            raise _too_large(settings)
                        await handle.write(event)
                    else:
                        field_data.extend(event)
                        if len(field_data) > MAX_FIELD_BYTES:
                            raise InvalidInputError("a form field other than 'file' is too large")
                if parser.closed:
                    break
        if handle is None:
            raise InvalidInputError(f"the multipart upload has no {FILE_FIELD!r} file field")
        await handle.aclose()
        handle = None
        if written == 0:
            raise InvalidInputError("the uploaded file is empty")
        final = folder / safe_name(original)
        partial.rename(final)
        return SavedUpload(path=final, original_name=original, size_bytes=written, fields=fields)
    except MultipartError as exc:
        raise InvalidInputError(f"malformed multipart body: {exc}") from exc
    finally:
        if handle is not None:
            with contextlib.suppress(OSError):
                await handle.aclose()
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
