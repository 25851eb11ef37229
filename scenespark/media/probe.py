"""Probing media files (ffprobe) and expanding user-given paths into video files.

``probe_media`` accepts anything ffmpeg can decode that has a video stream with at least one
decodable frame — including very short videos (a 0.5 s clip is a valid video). It refuses, with
one-line :class:`MediaError` messages: missing files, folders, empty files, non-media files,
corrupt/truncated files, audio-only files and files whose duration is unknown.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from scenespark.errors import MediaError
from scenespark.media.ffmpeg import run_tool
from scenespark.types import MediaInfo

VIDEO_EXTENSIONS: frozenset[str] = frozenset(
    {".mp4", ".mkv", ".mov", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".ts", ".wmv", ".flv"}
)
HASH_CHUNK_BYTES = 1 << 20


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's content, streamed in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _rate(value: str | None) -> float:
    if not value or "/" not in value:
        try:
            return float(value or 0.0)
        except ValueError:
            return 0.0
    num, _, den = value.partition("/")
    try:
        return float(num) / float(den) if float(den) else 0.0
    except ValueError:
        return 0.0


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _ffprobe_json(args: list[str], path: Path, timeout_s: float) -> dict[str, Any]:
    proc = run_tool(
        ["ffprobe", "-v", "error", "-of", "json", *args, "--", path],
        timeout_s=timeout_s,
        what=f"ffprobe {path.name}",
    )
    try:
        return json.loads(proc.stdout.decode("utf-8", "replace") or "{}")
    except json.JSONDecodeError as exc:
        raise MediaError(f"not a readable media file: {path} (ffprobe output unreadable)") from exc


def _check_file(path: Path) -> int:
    if not path.exists():
        raise MediaError(f"no such file: {path}")
    if path.is_dir():
        raise MediaError(f"is a folder, not a video file: {path}")
    size = path.stat().st_size
    if size == 0:
        raise MediaError(f"empty file (0 bytes): {path}")
    return size


def _first_frame_decodes(path: Path, timeout_s: float) -> bool:
    """True when the first video frame decodes."""
    try:
        data = _ffprobe_json(
            [
                "-select_streams",
                "v:0",
                "-read_intervals",
                "%+#1",
                "-show_entries",
                "frame=pts_time",
            ],
            path,
            timeout_s,
        )
    except MediaError:
        return False
    return bool(data.get("frames"))


def _last_packet_time_s(path: Path, from_s: float, timeout_s: float) -> float | None:
    """Time of the last video packet at or after ``from_s`` (no decoding), None if none."""
    try:
        data = _ffprobe_json(
            [
                "-select_streams",
                "v:0",
                "-read_intervals",
                f"{max(0.0, from_s):.3f}%",
                "-show_entries",
                "packet=pts_time,dts_time",
            ],
            path,
            timeout_s,
        )
    except MediaError:
        return None
    times = [_float(p.get("pts_time", p.get("dts_time"))) for p in data.get("packets", [])]
    return max(times) if times else None


def quick_probe(path: Path, *, timeout_s: float = 30.0) -> tuple[float, float]:
    """(fps, duration_s) of the first video stream, without hashing or decode checks."""
    path = Path(path)
    _check_file(path)
    data = _ffprobe_json(
        ["-show_format", "-show_streams", "-select_streams", "v:0"], path, timeout_s
    )
    streams = data.get("streams") or []
    if not streams:
        raise MediaError(f"no video stream in {path}")
    v = streams[0]
    fps = _rate(v.get("avg_frame_rate")) or _rate(v.get("r_frame_rate"))
    duration_s = _float((data.get("format") or {}).get("duration")) or _float(v.get("duration"))
    return fps, duration_s


def probe_media(path: Path, *, timeout_s: float = 30.0, check_decode: bool = True) -> MediaInfo:
    """Probe a video file: duration, fps, size, audio, codecs and content hash.

    With ``check_decode`` one frame at the start and one near the declared end must decode, which
    catches truncated files whose header still announces the full duration.
    """
    path = Path(path)
    size = _check_file(path)
    try:
        data = _ffprobe_json(["-show_format", "-show_streams"], path, timeout_s)
    except MediaError as exc:
        detail = str(exc).split(": ", 1)[-1]
        raise MediaError(
            f"not a readable video (corrupt, truncated or not media): {path}: {detail}"
        ) from exc
    streams = data.get("streams") or []
    fmt = data.get("format") or {}
    if not streams:
        raise MediaError(f"not a media file (no audio or video streams): {path}")
    video = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    if not video:
        if audio:
            raise MediaError(f"audio-only file (no video stream): {path}")
        raise MediaError(f"no video stream in {path}")
    v = video[0]
    duration_s = _float(fmt.get("duration")) or _float(v.get("duration"))
    if duration_s <= 0:
        raise MediaError(f"video duration unknown (truncated or still image?): {path}")
    fps = _rate(v.get("avg_frame_rate")) or _rate(v.get("r_frame_rate"))
    width, height = int(v.get("width") or 0), int(v.get("height") or 0)
    if width <= 0 or height <= 0:
        raise MediaError(f"video stream has no picture size (corrupt?): {path}")
    rotation_deg = stream_rotation_deg(v)
    if rotation_deg in (90, 270):
        width, height = height, width
    if check_decode:
        if not _first_frame_decodes(path, timeout_s):
            raise MediaError(f"no decodable video frames (corrupt or truncated): {path}")
        start_s = _float(v.get("start_time")) or _float(fmt.get("start_time"))
        if duration_s >= 3.0:
            end_point = start_s + duration_s - 2.0
            last = _last_packet_time_s(path, end_point, timeout_s)
            if last is None or last < end_point:
                raise MediaError(
                    f"truncated video: data stops before the declared {duration_s:.1f} s: {path}"
                )
    return MediaInfo(
        path=str(path),
        content_sha256=sha256_file(path),
        size_bytes=size,
        duration_s=duration_s,
        fps=fps,
        width=width,
        height=height,
        has_audio=bool(audio),
        video_codec=str(v.get("codec_name") or ""),
        audio_codec=str(audio[0].get("codec_name") or "") if audio else "",
        rotation_deg=rotation_deg,
    )


def stream_rotation_deg(stream: dict) -> int:
    """Display rotation of an ffprobe video stream (display matrix or legacy ``rotate`` tag),
    counter-clockwise, normalised to 0/90/180/270 (phone videos: 90 or 270)."""
    value: object = None
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            value = side["rotation"]
            break
    if value is None:
        value = (stream.get("tags") or {}).get("rotate")
        if value is not None:
            value = -_float(value)  # the tag is clockwise
    return normalise_rotation(_float(value))


def normalise_rotation(degrees: float) -> int:
    """Nearest multiple of 90 in [0, 360)."""
    return round(degrees / 90.0) % 4 * 90


# ------------------------------------------------------------------------------------------
# Expanding paths
# ------------------------------------------------------------------------------------------


def is_video_name(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS


def collect_video_files(paths: list[Path], recursive: bool = False) -> tuple[list[Path], list[str]]:
    """Expand files and folders into video files; returns (files, one-line problems).

    Files given explicitly are kept whatever their extension (probing judges them); folders are
    expanded by video extension (hidden entries skipped), recursively when asked. Symlinks are
    followed, but a folder already on the current walk (a symlink loop) is skipped with a problem
    line. The result is sorted and deduplicated by resolved path.
    """
    found: dict[Path, Path] = {}
    problems: list[str] = []
    walked: set[Path] = set()

    def add(file: Path) -> None:
        try:
            key = file.resolve(strict=True)
        except (OSError, RuntimeError):
            problems.append(f"broken symlink or unreadable file: {file}")
            return
        # Of several paths to one file, keep the real path when seen, else the first one.
        if key not in found or file.absolute() == key:
            found[key] = file

    def walk(folder: Path, ancestors: frozenset[Path]) -> int:
        walked.add(folder.resolve())
        count = 0
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            problems.append(f"cannot read folder {folder}: {exc.strerror or exc}")
            return 0
        for entry in entries:
            if entry.name.startswith("."):
                continue
            child = Path(entry.path)
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
                is_file = entry.is_file(follow_symlinks=True)
            except OSError:
                is_dir = is_file = False
            if is_dir:
                if not recursive:
                    continue
                try:
                    real = child.resolve(strict=True)
                except (OSError, RuntimeError):
                    problems.append(f"symlink loop at {child} skipped")
                    continue
                if real in ancestors:
                    problems.append(f"symlink loop at {child} skipped")
                    continue
                if real in walked:  # reached twice through symlinks: already listed
                    continue
                count += walk(child, ancestors | {real})
            elif is_file:
                if is_video_name(child):
                    add(child)
                    count += 1
            elif entry.is_symlink():
                try:
                    child.resolve(strict=True)
                    problems.append(f"unreadable entry: {child}")
                except RuntimeError:
                    problems.append(f"symlink loop at {child} skipped")
                except OSError:
                    problems.append(f"broken symlink: {child}")
        return count

    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            real = path.resolve()
            if walk(path, frozenset({real})) == 0:
                where = " (recursively)" if recursive else ""
                problems.append(f"no videos in folder {path}{where}")
        elif path.is_file():
            add(path)
        elif path.is_symlink():
            problems.append(f"broken symlink: {path}")
        else:
            problems.append(f"no such file: {path}")
    files = sorted(found.values(), key=lambda p: str(p))
    return files, problems
