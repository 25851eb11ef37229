"""The ffmpeg invocations behind :mod:`scenespark.render.reel`: probing sources, encoding one clip,
joining the reel. Each function runs one ffmpeg/ffprobe process (argument lists, no shell) and
raises :class:`RenderError` carrying ffmpeg's last stderr lines."""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from scenespark.errors import RenderError
from scenespark.media.ffmpeg import ffmpeg, run_tool, stderr_tail

AUDIO_RATE_HZ = 48_000
MAX_LONG_SIDE, MAX_SHORT_SIDE = 1280, 720
MAX_FPS = Fraction(60)
DEFAULT_FPS = Fraction(25)
VIDEO_CODEC_ARGS = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "21", "-pix_fmt", "yuv420p"]
# ffmpeg's AAC "fast" coder: 0.7 s CPU per minute of stereo instead of 1.8 s for the default
# "twoloop" (measured here), transparent enough at 160 kb/s for highlight reels.
AUDIO_CODEC_ARGS = [
    "-c:a",
    "aac",
    "-aac_coder",
    "fast",
    "-b:a",
    "160k",
    "-ar",
    str(AUDIO_RATE_HZ),
    "-ac",
    "2",
]
# Measured on 10 s of 720p speech (2 cores): dynaudnorm adds ~0.05 s CPU per clip to the encode,
# single-pass loudnorm ~0.3 s (it resamples to 192 kHz) — see bench/render_speed.py.
AUDIO_NORM_FILTERS = {
    "dynaudnorm": "dynaudnorm=f=250:g=15:m=10",
    "loudnorm": (
        f"loudnorm=I=-16:TP=-1.5:LRA=11,aresample={AUDIO_RATE_HZ},"
        "aformat=sample_fmts=fltp:channel_layouts=stereo"
    ),
}
DEFAULT_AUDIO_NORM = "dynaudnorm"


@dataclass(frozen=True, slots=True)
class SourceInfo:
    path: Path
    duration_s: float
    width: int
    height: int
    fps: Fraction
    video_codec: str
    has_audio: bool
    audio_codec: str = ""
    sample_rate: int = 0
    channels: int = 0


def _fraction(text: str | None) -> Fraction:
    try:
        value = Fraction(text or "0")
    except (ValueError, ZeroDivisionError):
        return Fraction(0)
    return value if value > 0 else Fraction(0)


def probe_source(path: Path, timeout_s: float) -> SourceInfo:
    """Stream layout of a source (no hashing): size, frame rate, codecs, audio."""
    proc = run_tool(
        ["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams", "--", path],
        timeout_s=min(timeout_s, 60.0),
        error_cls=RenderError,
        what=f"ffprobe {path.name}",
    )
    try:
        data = json.loads(proc.stdout.decode("utf-8", "replace") or "{}")
    except json.JSONDecodeError as exc:
        raise RenderError(f"cannot read source {path.name}: ffprobe output unreadable") from exc
    streams = data.get("streams") or []
    video = next((s for s in streams if s.get("codec_type") == "video" and s.get("width")), None)
    if video is None:
        raise RenderError(f"cannot render from {path.name}: it has no video stream")
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    fps = _fraction(video.get("avg_frame_rate")) or _fraction(video.get("r_frame_rate"))
    try:
        duration_s = float(
            (data.get("format") or {}).get("duration") or video.get("duration") or 0.0
        )
    except ValueError:
        duration_s = 0.0
    return SourceInfo(
        path=path,
        duration_s=duration_s,
        width=int(video.get("width") or 0),
        height=int(video.get("height") or 0),
        fps=fps,
        video_codec=str(video.get("codec_name", "")),
        has_audio=audio is not None,
        audio_codec=str(audio.get("codec_name", "")) if audio else "",
        sample_rate=int(audio.get("sample_rate") or 0) if audio else 0,
        channels=int(audio.get("channels") or 0) if audio else 0,
    )


def measure_duration(path: Path, timeout_s: float) -> float:
    proc = run_tool(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
            "--",
            path,
        ],
        timeout_s=min(timeout_s, 60.0),
        error_cls=RenderError,
        what=f"ffprobe {path.name}",
    )
    try:
        return float(proc.stdout.decode().strip())
    except ValueError as exc:
        raise RenderError(f"rendered file {path.name} has no readable duration") from exc


def output_size(width: int, height: int) -> tuple[int, int]:
    """The source size fitted into 1280x720 (720x1280 when portrait), even dimensions."""
    long_max, short_max = MAX_LONG_SIDE, MAX_SHORT_SIDE
    box_w, box_h = (long_max, short_max) if width >= height else (short_max, long_max)
    scale = min(1.0, box_w / max(1, width), box_h / max(1, height))
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def output_fps(fps: Fraction) -> Fraction:
    if fps <= 0:
        return DEFAULT_FPS
    return min(fps.limit_denominator(1001), MAX_FPS)


def _fit(size: tuple[int, int]) -> str:
    w, h = size
    return (
        f"scale={w}:{h}:force_original_aspect_ratio=decrease,"
        f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1"
    )


def _thumb_scale(size: tuple[int, int], side: int) -> str:
    w, h = size
    return f"scale={side}:-2" if w >= h else f"scale=-2:{side}"


def tee_escape(path: Path) -> str:
    """A file name for the tee muxer's slave list (escape its special characters)."""
    out = str(path)
    for char in ("\\", "'", "|", "[", "]"):
        out = out.replace(char, "\\" + char)
    return out


def encode_clip(
    info: SourceInfo,
    *,
    start_s: float,
    frames: int,
    samples: int,
    size: tuple[int, int],
    fps: Fraction,
    audio_norm: str,
    clip_out: Path,
    video_out: Path,
    audio_out: Path,
    thumb_out: Path,
    thumb_side: int,
    timeout_s: float,
    what: str,
) -> None:
    """One encode of one clip: the clip mp4 plus (tee) its video-only copy, its PCM audio and the
    middle-frame thumbnail. Exactly ``frames`` video frames and ``samples`` audio samples."""
    read_s = frames / fps + Fraction(1, 4)  # a little extra input so the fps filter sees the end
    inputs: list[str | Path] = [
        "-ss",
        f"{start_s:.6f}",
        "-t",
        f"{float(read_s):.6f}",
        "-i",
        info.path,
    ]
    if info.has_audio:
        norm = AUDIO_NORM_FILTERS.get(audio_norm, "") if audio_norm else ""
        if audio_norm and not norm:
            raise RenderError(f"unknown audio normalisation filter {audio_norm!r}")
        chain = ["asetpts=PTS-STARTPTS", f"aresample={AUDIO_RATE_HZ}:async=1"]
        chain += ["aformat=sample_fmts=fltp:channel_layouts=stereo"]
        audio_src = "[0:a:0]" + ",".join([*chain, *([norm] if norm else []), "apad"])
    else:
        inputs += ["-f", "lavfi", "-i", f"anullsrc=r={AUDIO_RATE_HZ}:cl=stereo"]
        audio_src = "[1:a]anull"
    graph = (
        f"[0:v:0]setpts=PTS-STARTPTS,{_fit(size)},fps={fps},tpad=stop_mode=clone:stop=-1,"
        f"trim=end_frame={frames},split=2[v][t];"
        f"[t]select=eq(n\\,{frames // 2}),{_thumb_scale(size, thumb_side)}[th];"
        f"{audio_src},atrim=end_sample={samples},asplit=2[a1][a2]"
    )
    tee = (
        f"[f=mp4:movflags=+faststart]{tee_escape(clip_out)}|[f=mp4:select=v]{tee_escape(video_out)}"
    )
    args: list[str | Path] = [
        *inputs,
        "-filter_complex", graph,
        "-map", "[v]", "-map", "[a1]", *VIDEO_CODEC_ARGS, *AUDIO_CODEC_ARGS,
        "-fps_mode", "passthrough", "-f", "tee", tee,
        "-map", "[a2]", "-c:a", "pcm_s16le", "-f", "wav", audio_out,
        "-map", "[th]", "-frames:v", "1", "-q:v", "3", "-update", "1", "-f", "image2", thumb_out,
    ]  # fmt: skip
    proc = ffmpeg(args, timeout_s=timeout_s, error_cls=RenderError, what=what)
    # ffmpeg exits 0 when a truncated source yields no frames; the middle-frame thumbnail is the
    # witness that the clip really has video.
    if not thumb_out.is_file() or thumb_out.stat().st_size == 0:
        tail = stderr_tail(proc.stderr)
        raise RenderError(
            f"{what}: no video could be decoded from {info.path.name} at {start_s:.2f} s "
            f"(truncated or corrupt source?)" + (f": {tail}" if tail else "")
        )


def _concat_list(paths: list[Path], list_path: Path) -> Path:
    lines = ["ffconcat version 1.0"]
    for path in paths:
        quoted = str(path.resolve()).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
    list_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return list_path


def concat_reel(
    video_parts: list[Path], audio_parts: list[Path], work: Path, out: Path, *, timeout_s: float
) -> None:
    """Reel = video streams concatenated by stream copy + PCM audio concatenated → AAC once."""
    vlist = _concat_list(video_parts, work / "video.ffconcat")
    alist = _concat_list(audio_parts, work / "audio.ffconcat")
    args: list[str | Path] = [
        "-f", "concat", "-safe", "0", "-i", vlist,
        "-f", "concat", "-safe", "0", "-i", alist,
        "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", *AUDIO_CODEC_ARGS,
        "-movflags", "+faststart", "-f", "mp4", out,
    ]  # fmt: skip
    ffmpeg(args, timeout_s=timeout_s, error_cls=RenderError, what="ffmpeg (reel)")


def crossfade_reel(
    video_parts: list[Path],
    audio_parts: list[Path],
    durations_s: list[float],
    crossfade_s: float,
    out: Path,
    *,
    timeout_s: float,
) -> None:
    """Reel with ``xfade``/``acrossfade`` transitions (one more video encode)."""
    inputs: list[str | Path] = []
    for video, audio in zip(video_parts, audio_parts, strict=True):
        inputs += ["-i", video, "-i", audio]
    parts = [f"[{2 * i}:v]settb=AVTB,setpts=PTS-STARTPTS[v{i}]" for i in range(len(video_parts))]
    v_prev, a_prev, length_s = "[v0]", f"[{1}:a]", durations_s[0]
    cf_samples = round(crossfade_s * AUDIO_RATE_HZ)
    for i in range(1, len(video_parts)):
        offset_s = length_s - crossfade_s
        v_out, a_out = f"[vx{i}]", f"[ax{i}]"
        parts.append(
            f"{v_prev}[v{i}]xfade=transition=fade:duration={crossfade_s:.6f}:offset={offset_s:.6f}{v_out}"
        )
        parts.append(f"{a_prev}[{2 * i + 1}:a]acrossfade=ns={cf_samples}:c1=tri:c2=tri{a_out}")
        v_prev, a_prev = v_out, a_out
        length_s = offset_s + durations_s[i]
    args: list[str | Path] = [
        *inputs, "-filter_complex", ";".join(parts), "-map", v_prev, "-map", a_prev,
        *VIDEO_CODEC_ARGS, *AUDIO_CODEC_ARGS, "-movflags", "+faststart", "-f", "mp4", out,
    ]  # fmt: skip
    ffmpeg(args, timeout_s=timeout_s, error_cls=RenderError, what="ffmpeg (crossfade reel)")


# --------------------------------------------------------------------------------------------
# Stream-copy mode
# --------------------------------------------------------------------------------------------


def cut_copy(
    info: SourceInfo, start_s: float, duration_s: float, out: Path, *, timeout_s: float, what: str
) -> None:
    args: list[str | Path] = [
        "-ss", f"{start_s:.6f}", "-i", info.path, "-t", f"{duration_s:.6f}",
        "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy", "-movflags", "+faststart", "-f", "mp4", out,
    ]  # fmt: skip
    ffmpeg(args, timeout_s=timeout_s, error_cls=RenderError, what=what)


def thumbnail_at(source: Path, time_s: float, out: Path, side: int, timeout_s: float) -> None:
    args: list[str | Path] = [
        "-ss", f"{max(0.0, time_s):.6f}", "-i", source, "-frames:v", "1",
        "-vf", f"scale='min({side},iw)':'min({side},ih)':force_original_aspect_ratio=decrease",
        "-q:v", "3", "-update", "1", "-f", "image2", out,
    ]  # fmt: skip
    ffmpeg(args, timeout_s=timeout_s, error_cls=RenderError, what="ffmpeg (thumbnail)")


def compatible(infos: list[SourceInfo]) -> bool:
    """True when stream-copied clips of these sources can be concatenated without re-encoding."""
    keys = {
        (
            i.video_codec,
            i.width,
            i.height,
            i.fps,
            i.has_audio,
            i.audio_codec,
            i.sample_rate,
            i.channels,
        )
        for i in infos
    }
    return len(keys) == 1


def concat_copy(parts: list[Path], list_path: Path, out: Path, *, timeout_s: float) -> None:
    args: list[str | Path] = [
        "-f", "concat", "-safe", "0", "-i", _concat_list(parts, list_path),
        "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy", "-movflags", "+faststart", "-f", "mp4", out,
    ]  # fmt: skip
    ffmpeg(args, timeout_s=timeout_s, error_cls=RenderError, what="ffmpeg (reel copy)")


def reencode_concat(
    parts: list[Path],
    has_audio: list[bool],
    durations_s: list[float],
    size: tuple[int, int],
    fps: Fraction,
    out: Path,
    *,
    timeout_s: float,
) -> None:
    """Join clips of different formats: normalise each one and use the concat filter."""
    inputs: list[str | Path] = []
    for part in parts:
        inputs += ["-i", part]
    graph: list[str] = []
    labels: list[str] = []
    next_input = len(parts)
    for i, duration_s in enumerate(durations_s):
        graph.append(f"[{i}:v:0]setpts=PTS-STARTPTS,{_fit(size)},fps={fps}[v{i}]")
        if has_audio[i]:
            graph.append(
                f"[{i}:a:0]asetpts=PTS-STARTPTS,aresample={AUDIO_RATE_HZ}:async=1,"
                f"aformat=sample_fmts=fltp:channel_layouts=stereo[a{i}]"
            )
        else:
            inputs += [
                "-f",
                "lavfi",
                "-t",
                f"{duration_s:.6f}",
                "-i",
                f"anullsrc=r={AUDIO_RATE_HZ}:cl=stereo",
            ]
            graph.append(f"[{next_input}:a]aformat=sample_fmts=fltp:channel_layouts=stereo[a{i}]")
            next_input += 1
        labels.append(f"[v{i}][a{i}]")
    graph.append(f"{''.join(labels)}concat=n={len(parts)}:v=1:a=1[vout][aout]")
    args: list[str | Path] = [
        *inputs, "-filter_complex", ";".join(graph), "-map", "[vout]", "-map", "[aout]",
        *VIDEO_CODEC_ARGS, *AUDIO_CODEC_ARGS, "-movflags", "+faststart", "-f", "mp4", out,
    ]  # fmt: skip
    ffmpeg(args, timeout_s=timeout_s, error_cls=RenderError, what="ffmpeg (reel re-encode)")
