"""What container a file really is (ffprobe), and the file extension that goes with it.

Uploads are named by the server from this, never from the name the client sent: a video called
``holiday.html`` is stored as ``.mp4`` when ffprobe says it is MP4, and anything that is not a
video in a known container is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from scenespark.errors import MediaError
from scenespark.media.ffmpeg import run_tool

WEBM_VIDEO_CODECS = frozenset({"vp8", "vp9", "av1"})
WEBM_AUDIO_CODECS = frozenset({"opus", "vorbis"})
_SIMPLE_EXTENSIONS = {
    "avi": ".avi",
    "mpegts": ".ts",
    "mpeg": ".mpg",
    "flv": ".flv",
    "asf": ".wmv",
}


@dataclass(frozen=True)
class ContainerInfo:
    format_name: str  # ffprobe's, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    major_brand: str  # ISO-BMFF brand ("isom", "qt  ", ...), empty for other containers
    video_codecs: tuple[str, ...]  # real video streams (cover pictures excluded)
    audio_codecs: tuple[str, ...]
    duration_s: float


def probe_container(path: Path, *, timeout_s: float = 30.0) -> ContainerInfo:
    """The container and streams of ``path``; MediaError when ffprobe cannot read it."""
    proc = run_tool(
        ["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams", "--", path],
        timeout_s=timeout_s,
        what="ffprobe",
    )
    try:
        data = json.loads(proc.stdout.decode("utf-8", "replace") or "{}")
    except json.JSONDecodeError as exc:
        raise MediaError("ffprobe output unreadable") from exc
    fmt = data.get("format") or {}
    streams = data.get("streams") or []
    video = tuple(
        str(s.get("codec_name") or "")
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    )
    audio = tuple(str(s.get("codec_name") or "") for s in streams if s.get("codec_type") == "audio")
    try:
        duration_s = float(fmt.get("duration") or 0.0)
    except (TypeError, ValueError):
        duration_s = 0.0
    return ContainerInfo(
        format_name=str(fmt.get("format_name") or ""),
        major_brand=str((fmt.get("tags") or {}).get("major_brand") or "").strip(),
        video_codecs=video,
        audio_codecs=audio,
        duration_s=duration_s,
    )


def video_extension(info: ContainerInfo) -> str | None:
    """The extension for a video in this container (``.mp4``, ``.webm``...), None if unknown."""
    names = set(info.format_name.split(","))
    if "mp4" in names or "mov" in names:
        return ".mov" if info.major_brand.lower() == "qt" else ".mp4"
    if "matroska" in names or "webm" in names:
        webm = set(info.video_codecs) <= WEBM_VIDEO_CODECS and set(info.audio_codecs) <= (
            WEBM_AUDIO_CODECS
        )
        return ".webm" if webm else ".mkv"
    for name in names:
        if name in _SIMPLE_EXTENSIONS:
            return _SIMPLE_EXTENSIONS[name]
    return None


def require_video(info: ContainerInfo) -> str:
    """The extension for an uploaded video, or MediaError (422) saying why it is not one."""
    if not info.video_codecs:
        kind = "audio only" if info.audio_codecs else "no video stream"
        raise MediaError(f"the upload is not a video ({kind})")
    if info.duration_s <= 0:
        raise MediaError("the upload is not a video (no duration: a still image?)")
    extension = video_extension(info)
    if extension is None:
        raise MediaError(
            f"the upload is in a container SceneSpark does not take ({info.format_name or '?'})",
            hint="upload MP4, WebM, Matroska, QuickTime, AVI, MPEG-TS, MPEG-PS, FLV or WMV",
        )
    return extension
