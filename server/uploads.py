"""Uploads: stream a multipart ``file`` field to disk, check it is a video, store it safely.

The steps, each a function below:

1. ``receive_upload`` streams the body (``multipart.PushMultipartParser``) to a hidden ``.part``
   file in ``$SCENESPARK_HOME/uploads/``, hashing as it writes, so a large video never sits in
   memory. Going over ``SCENESPARK_MAX_UPLOAD_MB`` is 413, over ``SCENESPARK_UPLOAD_QUOTA_MB``
   (all uploads together) 507; the partial file is removed either way.
2. ``store_upload`` asks ffprobe what the file is. Not a video in a known container → 422 and
   the file is deleted. Otherwise the server names it: ``uploads/<content hash>/<clean
   stem><container extension>`` (a video called ``holiday.html`` is stored as ``.mp4``).
3. Duplicates are not kept: content already indexed (whose file still exists) or already
   uploaded resolves to that file and the new copy is deleted, so an upload never changes the
   path of an existing video.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from anyio import AsyncFile
from litestar import Request
from multipart import MultipartError, MultipartSegment, PushMultipartParser

from scenespark.config import Settings
from scenespark.errors import (
    InsufficientStorageError,
    InvalidInputError,
    MediaError,
    PayloadTooLargeError,
)
from scenespark.media.containers import probe_container, require_video
from scenespark.store.catalog import Catalog

FILE_FIELD = "file"
MAX_FIELD_BYTES = 64 * 1024
MAX_SEGMENTS = 16
MULTIPART_OVERHEAD_BYTES = 1024 * 1024  # headers and boundaries around the file
HASH_DIR_CHARS = 16  # = the video id (first 16 hex digits of the SHA-256)
PROBE_TIMEOUT_S = 30.0
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class SavedUpload:
    """A received upload: where it is now, what the client called it, its size and hash."""

    path: Path
    original_name: str
    size_bytes: int
    sha256: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    video_id: str | None = None  # set when the content is an already indexed video
    duplicate: bool = False  # the bytes were already here; the new copy was deleted


def upload_dir(settings: Settings) -> Path:
    return settings.home / "uploads"


def upload_limit_bytes(settings: Settings) -> int:
    return settings.max_upload_mb * 1024 * 1024


def request_body_limit_bytes(settings: Settings) -> int:
    """What Litestar may accept on the upload route: the file limit plus multipart framing."""
    return upload_limit_bytes(settings) + MULTIPART_OVERHEAD_BYTES


def uploads_size_bytes(settings: Settings) -> int:
    """Bytes stored under ``uploads/`` (finished uploads and transfers in progress)."""
    total = 0
    folder = upload_dir(settings)
    if folder.is_dir():
        for path in folder.rglob("*"):
            with contextlib.suppress(OSError):
                if path.is_file():
                    total += path.stat().st_size
    return total


def clean_stem(filename: str) -> str:
    """The client's file name without folders, extension or odd characters (for the title)."""
    base = Path(filename.replace("\\", "/")).name
    stem = _UNSAFE.sub("_", Path(base).stem).strip("._")
    return stem[:80] or "upload"


def _too_large(settings: Settings) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"the upload is larger than the limit of {settings.max_upload_mb} MB",
        hint="raise SCENESPARK_MAX_UPLOAD_MB, or index the file from a library root by path",
    )


def _over_quota(settings: Settings) -> InsufficientStorageError:
    return InsufficientStorageError(
        f"the uploads would exceed the quota of {settings.upload_quota_mb} MB",
        hint="remove uploaded videos, or raise SCENESPARK_UPLOAD_QUOTA_MB",
    )


# ---- step 1: receive -------------------------------------------------------------------------
@dataclass
class _Budget:
    """How many file bytes may still arrive, and which error going over it is."""

    limit_bytes: int
    quota_left_bytes: int | None

    @classmethod
    def of(cls, settings: Settings) -> _Budget:
        quota_left = None
        if settings.upload_quota_mb:
            quota_bytes = settings.upload_quota_mb * 1024 * 1024
            quota_left = max(0, quota_bytes - uploads_size_bytes(settings))
        return cls(upload_limit_bytes(settings), quota_left)

    def check(self, written: int, settings: Settings) -> None:
        if written > self.limit_bytes:
            raise _too_large(settings)
        if self.quota_left_bytes is not None and written > self.quota_left_bytes:
            raise _over_quota(settings)


@dataclass
class _Receiver:
    """Turns multipart events into a file on disk plus the small form fields."""

    partial: Path
    budget: _Budget
    settings: Settings
    written: int = 0
    original: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    handle: AsyncFile[bytes] | None = None
    current: MultipartSegment | None = None
    field_data: bytearray = field(default_factory=bytearray)

    async def on_segment(self, segment: MultipartSegment) -> None:
        self.current = segment
        self.field_data = bytearray()
        if segment.name == FILE_FIELD and segment.filename is not None:
            if self.handle is not None:
                raise InvalidInputError("upload one file per request")
            self.original = segment.filename or "upload"
            self.handle = await anyio.open_file(self.partial, "wb")

    async def on_data(self, chunk: bytes) -> None:
        if self._in_file():
            assert self.handle is not None
            self.written += len(chunk)
            self.budget.check(self.written, self.settings)
            self.digest.update(chunk)
            await self.handle.write(chunk)
            return
        self.field_data.extend(chunk)
        if len(self.field_data) > MAX_FIELD_BYTES:
            raise InvalidInputError("a form field other than 'file' is too large")

    def on_segment_end(self) -> None:
        if self.current is not None and self.current.name != FILE_FIELD:
            self.fields[self.current.name or ""] = self.field_data.decode("utf-8", "replace")
        self.current = None

    def _in_file(self) -> bool:
        return (
            self.current is not None and self.current.name == FILE_FIELD and self.handle is not None
        )

    async def close(self) -> None:
        if self.handle is not None:
            with contextlib.suppress(OSError):
                await self.handle.aclose()


def _boundary(request: Request) -> bytes:
    _media_type, options = request.content_type
    boundary = options.get("boundary")
    if not boundary:
        raise InvalidInputError("multipart upload without a boundary in Content-Type")
    return boundary.encode("latin-1")


async def _feed(request: Request, boundary: bytes, receiver: _Receiver) -> None:
    with PushMultipartParser(boundary, max_segment_count=MAX_SEGMENTS) as parser:
        async for chunk in request.stream():
            for event in parser.parse(chunk):
                if isinstance(event, MultipartSegment):
                    await receiver.on_segment(event)
                elif event is None:
                    receiver.on_segment_end()
                else:
                    await receiver.on_data(event)
            if parser.closed:
                break


async def receive_upload(request: Request, settings: Settings) -> SavedUpload:
    """Stream the ``file`` field of a multipart request to a ``.part`` file in ``uploads/``."""
    boundary = _boundary(request)
    announced = request.content_length
    if announced is not None and announced > request_body_limit_bytes(settings):
        raise _too_large(settings)
    folder = upload_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    budget = await anyio.to_thread.run_sync(_Budget.of, settings)
    receiver = _Receiver(folder / f".{uuid.uuid4().hex}.part", budget, settings)
    try:
        await _feed(request, boundary, receiver)
        if receiver.handle is None:
            raise InvalidInputError(f"the multipart upload has no {FILE_FIELD!r} file field")
        await receiver.close()
        if receiver.written == 0:
            raise InvalidInputError("the uploaded file is empty")
    except MultipartError as exc:
        await _discard(receiver)
        raise InvalidInputError(f"malformed multipart body: {exc}") from exc
    except BaseException:
        await _discard(receiver)
        raise
    return SavedUpload(
        path=receiver.partial,
        original_name=receiver.original,
        size_bytes=receiver.written,
        sha256=receiver.digest.hexdigest(),
        fields=receiver.fields,
    )


async def _discard(receiver: _Receiver) -> None:
    await receiver.close()
    with contextlib.suppress(OSError):
        receiver.partial.unlink(missing_ok=True)


# ---- steps 2 and 3: check and store ----------------------------------------------------------
def _existing_copy(saved: SavedUpload, settings: Settings, catalog: Catalog) -> SavedUpload | None:
    """The file already holding these bytes: an indexed video's source, or an earlier upload."""
    video_id = saved.sha256[:HASH_DIR_CHARS]
    video = catalog.get_video(video_id)
    if video is not None and Path(video.path).is_file():
        return SavedUpload(
            path=Path(video.path),
            original_name=saved.original_name,
            size_bytes=saved.size_bytes,
            sha256=saved.sha256,
            fields=saved.fields,
            video_id=video_id,
            duplicate=True,
        )
    folder = upload_dir(settings) / video_id
    earlier = sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []
    if earlier:
        return SavedUpload(
            path=earlier[0],
            original_name=saved.original_name,
            size_bytes=saved.size_bytes,
            sha256=saved.sha256,
            fields=saved.fields,
            duplicate=True,
        )
    return None


def store_upload(saved: SavedUpload, settings: Settings, catalog: Catalog) -> SavedUpload:
    """Check a received ``.part`` file is a video and give it its server-made name.

    Blocking (ffprobe, file moves): call it off the event loop. The ``.part`` file is gone
    afterwards in every case: renamed, or deleted as a duplicate or a non-video.
    """
    try:
        try:
            info = probe_container(saved.path, timeout_s=PROBE_TIMEOUT_S)
        except MediaError as exc:  # ffprobe's own words name the server's path: not shown
            raise MediaError("the upload is not a readable video or audio file") from exc
        extension = require_video(info)
        existing = _existing_copy(saved, settings, catalog)
        if existing is not None:
            return existing
        final = upload_dir(settings) / saved.sha256[:HASH_DIR_CHARS]
        final.mkdir(parents=True, exist_ok=True)
        target = final / f"{clean_stem(saved.original_name)}{extension}"
        saved.path.rename(target)
        return SavedUpload(
            path=target,
            original_name=saved.original_name,
            size_bytes=saved.size_bytes,
            sha256=saved.sha256,
            fields=saved.fields,
        )
    finally:
        with contextlib.suppress(OSError):
            saved.path.unlink(missing_ok=True)


def delete_uploaded_file(path: Path, settings: Settings) -> None:
    """Remove an uploaded source file and its hash folder (no-op outside ``uploads/``)."""
    uploads = upload_dir(settings).resolve()
    with contextlib.suppress(OSError, ValueError):
        real = path.resolve()
        if not real.is_relative_to(uploads) or real == uploads:
            return
        real.unlink(missing_ok=True)
        parent = real.parent
        if parent != uploads and parent.is_relative_to(uploads) and not any(parent.iterdir()):
            shutil.rmtree(parent, ignore_errors=True)
