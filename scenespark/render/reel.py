"""Rendering highlights with ffmpeg (DESIGN.md §7 step 5).

Frame-accurate mode (default): each clip is encoded ONCE (``-ss`` before ``-i``, H.264
``-preset veryfast`` + AAC), normalised to one size, frame rate and audio format, with per-clip
loudness normalisation. The same encode also writes, through the tee muxer, a video-only copy
of the clip and its audio as PCM, plus the clip's thumbnail (middle frame). The reel is then the
concatenation of those video streams (concat demuxer, stream copy: no second video encode) with
the PCM audio concatenated sample-exactly and encoded to AAC once. (Stream-copying the AAC of
the clip files instead would add 1024 priming samples per cut, so lip sync would drift ~21 ms
per clip.) Crossfades need a real transition, so ``crossfade_s > 0`` re-encodes the reel with
``xfade``/``acrossfade``.

Stream-copy mode cuts raw clips with ``-c copy`` (keyframe-aligned, not frame-exact); the reel
is a concat copy when all sources share one format, else it is re-encoded from the clips.

Every output is written under a temporary name in the output folder and renamed into place only
after the whole render succeeded; a failure leaves no file under a published name.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from fractions import Fraction
from pathlib import Path

from pydantic import BaseModel, Field

from scenespark.errors import InvalidInputError, NotFoundError, RenderError
from scenespark.render import ffmpeg_steps as steps
from scenespark.render.edit_lists import ReelEntry, reel_cues, srt_text
from scenespark.render.timelines import edl_text, fcp7_xml_text, otio_text
from scenespark.types import Clip, Segment

ProgressFn = Callable[[float, str], None]
# Two clip encodes at a time keep both cores busy (one x264 process leaves gaps while it decodes
# and muxes); more only adds memory.
DEFAULT_CLIP_WORKERS = min(2, os.cpu_count() or 1)
_SAFE_ID_RE = re.compile(r"[^A-Za-z0-9_-]+")


class RenderOutput(BaseModel):
    """What a render produced; every path is relative to the data dir (``home``)."""

    clips: list[Clip] = Field(default_factory=list)  # path and reel_start_s set
    reel_path: str = ""
    srt_path: str = ""
    edl_path: str = ""
    fcp7_xml_path: str = ""
    otio_path: str = ""
    thumbnails: list[str] = Field(default_factory=list)  # one per clip, same order
    reel_duration_s: float = 0.0  # measured with ffprobe
    width: int = 0
    height: int = 0
    fps: float = 0.0
    crossfade_s: float = 0.0  # the crossfade actually used (whole frames)
    stream_copy: bool = False
    warnings: list[str] = Field(default_factory=list)


class _Deadline:
    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.end = time.monotonic() + timeout_s

    def left(self) -> float:
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise RenderError(f"render timed out after {self.timeout_s:.0f} s")
        return remaining


def _relative(path: Path, home: Path) -> str:
    try:
        return path.resolve().relative_to(home.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def _stem(index: int, clip_id: str) -> str:
    safe = _SAFE_ID_RE.sub("-", clip_id).strip("-")[:48] or "clip"
    return f"clip_{index:03d}_{safe}"


def _plan_spans(
    clips: list[Clip], infos: dict[str, steps.SourceInfo], fps: Fraction
) -> tuple[list[tuple[float, int]], list[str]]:
    """(start_s, frames) per clip, clamped to its source; warnings for clamped clips."""
    spans: list[tuple[float, int]] = []
    warnings: list[str] = []
    for clip in clips:
        info = infos[clip.video_id]
        start_s = max(0.0, clip.start_s)
        end_s = clip.end_s
        if info.duration_s > 0 and end_s > info.duration_s:
            end_s = info.duration_s
            warnings.append(f"clip {clip.clip_id} ends after its source; cut at {end_s:.2f} s")
        frames = math.floor((end_s - start_s) * float(fps) + 0.5)
        if frames < 1:
            raise RenderError(
                f"clip {clip.clip_id} ({clip.start_s:.2f}-{clip.end_s:.2f} s) is empty within its "
                f"source ({info.duration_s:.2f} s long)"
            )
        spans.append((start_s, frames))
    return spans, warnings


def _run_parallel(
    task: Callable[[int], float], weights: list[int], workers: int, report: ProgressFn
) -> list[float]:
    """Run ``task(i)`` for every index on ``workers`` threads (each runs one ffmpeg process);
    results in index order. The first failure cancels what has not started and is raised."""
    results: list[float] = [0.0] * len(weights)
    done_weight, total = 0, max(1, sum(weights))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scenespark-render") as pool:
        futures = {pool.submit(task, i): i for i in range(len(weights))}
        try:
            for count, future in enumerate(as_completed(futures), start=1):
                i = futures[future]
                results[i] = future.result()
                done_weight += weights[i]
                report(done_weight / total, f"rendered clip {count} of {len(weights)}")
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return results


def render_highlight(
    clips: list[Clip],
    sources: dict[str, Path],
    out_dir: Path,
    *,
    home: Path,
    speech: dict[str, list[Segment]] | None = None,
    crossfade_s: float = 0.0,
    stream_copy: bool = False,
    loudnorm: bool = True,
    audio_filter: str = steps.DEFAULT_AUDIO_NORM,
    thumbnail_max_side: int = 320,
    title: str = "SceneSpark highlight",
    timeout_s: float = 600.0,
    on_progress: ProgressFn | None = None,
    clip_workers: int = DEFAULT_CLIP_WORKERS,
) -> RenderOutput:
    """Render ``clips`` (cut from ``sources[video_id]``) into ``out_dir``: per-clip mp4s and
    thumbnails, ``reel.mp4``, ``reel.srt`` and the editor timelines ``reel.edl`` (CMX3600),
    ``reel.xml`` (FCP7 XML) and ``reel.otio``.

    ``loudnorm`` turns per-clip loudness normalisation on; ``audio_filter`` picks the filter
    (``dynaudnorm`` or ``loudnorm``). ``timeout_s`` bounds the whole render; ``clip_workers``
    clips are encoded at a time. ``on_progress(fraction, message)`` is called from this thread.
    """
    if not clips:
        raise InvalidInputError("nothing to render: the highlight has no clips")
    if crossfade_s < 0:
        raise InvalidInputError(f"crossfade_s must be >= 0, got {crossfade_s}")
    for clip in clips:
        if clip.video_id not in sources:
            raise InvalidInputError(
                f"clip {clip.clip_id} refers to unknown video {clip.video_id!r}"
            )
        if clip.end_s <= clip.start_s:
            raise InvalidInputError(f"clip {clip.clip_id} ends before it starts")
        if not Path(sources[clip.video_id]).is_file():
            raise NotFoundError(f"source video file not found: {sources[clip.video_id]}")
    deadline = _Deadline(timeout_s)
    report = on_progress or (lambda _fraction, _message: None)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    speech = speech or {}

    report(0.0, "probing sources")
    infos = {
        vid: steps.probe_source(Path(sources[vid]), deadline.left())
        for vid in {c.video_id for c in clips}
    }
    first = infos[clips[0].video_id]
    width, height = steps.output_size(first.width, first.height)
    fps = steps.output_fps(first.fps)
    spans, warnings = _plan_spans(clips, infos, fps)

    token = uuid.uuid4().hex[:10]
    work = out_dir / f".render-{token}"
    work.mkdir()
    published: list[tuple[Path, Path]] = []  # (temp, final)

    def temp_for(final: Path) -> Path:
        temp = out_dir / f".{final.stem}.{token}.part{final.suffix}"
        published.append((temp, final))
        return temp

    try:
        stems = [_stem(i + 1, c.clip_id) for i, c in enumerate(clips)]
        clip_finals = [out_dir / f"{s}.mp4" for s in stems]
        thumb_finals = [out_dir / f"{s}.jpg" for s in stems]
        clip_temps = [temp_for(p) for p in clip_finals]
        thumb_temps = [temp_for(p) for p in thumb_finals]
        reel_final, srt_final, edl_final, xml_final, otio_final = (
            out_dir / f"reel.{ext}" for ext in ("mp4", "srt", "edl", "xml", "otio")
        )
        reel_temp = temp_for(reel_final)

        audio_norm = audio_filter if loudnorm else ""
        video_parts = [work / f"v{i:03d}.mp4" for i in range(len(clips))]
        audio_parts = [work / f"a{i:03d}.wav" for i in range(len(clips))]
        # Audio sample counts follow the cumulative reel clock, so the reel never drifts.
        bounds = [0, *itertools.accumulate(n for _, n in spans)]
        samples = [
            round(bounds[i + 1] / fps * steps.AUDIO_RATE_HZ)
            - round(bounds[i] / fps * steps.AUDIO_RATE_HZ)
            for i in range(len(clips))
        ]

        def clip_task(i: int) -> float:
            info = infos[clips[i].video_id]
            start_s, frames = spans[i]
            what = f"ffmpeg (clip {i + 1} of {len(clips)})"
            if stream_copy:
                duration_s = float(frames / fps)
                steps.cut_copy(
                    info, start_s, duration_s, clip_temps[i], timeout_s=deadline.left(), what=what
                )
                steps.thumbnail_at(
                    info.path,
                    start_s + duration_s / 2,
                    thumb_temps[i],
                    thumbnail_max_side,
                    deadline.left(),
                )
                return steps.measure_duration(clip_temps[i], deadline.left())
            steps.encode_clip(
                info,
                start_s=start_s,
                frames=frames,
                samples=samples[i],
                size=(width, height),
                fps=fps,
                audio_norm=audio_norm,
                clip_out=clip_temps[i],
                video_out=video_parts[i],
                audio_out=audio_parts[i],
                thumb_out=thumb_temps[i],
                thumb_side=thumbnail_max_side,
                timeout_s=deadline.left(),
                what=what,
            )
            return float(frames / fps)

        measured_durations_s = _run_parallel(
            clip_task, [n for _, n in spans], max(1, clip_workers), lambda f, m: report(0.85 * f, m)
        )

        durations_s = [float(n / fps) for _, n in spans]
        cf_frames = 0
        if stream_copy:
            durations_s = measured_durations_s
            if crossfade_s > 0:
                warnings.append("crossfades are not applied in stream-copy mode")
            if steps.compatible([infos[c.video_id] for c in clips]):
                steps.concat_copy(
                    clip_temps, work / "reel.txt", reel_temp, timeout_s=deadline.left()
                )
            else:
                warnings.append("sources differ in format: the stream-copy reel was re-encoded")
                steps.reencode_concat(
                    clip_temps, [infos[c.video_id].has_audio for c in clips], durations_s,
                    (width, height), fps, reel_temp, timeout_s=deadline.left(),
                )  # fmt: skip
        else:
            if crossfade_s > 0:
                cf_frames = min(round(crossfade_s * fps), min(n for _, n in spans) // 2)
                if cf_frames < round(crossfade_s * fps):
                    warnings.append(
                        f"crossfade shortened to {float(cf_frames / fps):.2f} s to fit the shortest clip"
                    )
            report(0.87, "joining the reel")
            if cf_frames > 0 and len(clips) > 1:
                steps.crossfade_reel(
                    video_parts, audio_parts, durations_s, float(cf_frames / fps), reel_temp,
                    timeout_s=deadline.left(),
                )  # fmt: skip
            else:
                cf_frames = 0
                steps.concat_reel(
                    video_parts, audio_parts, work, reel_temp, timeout_s=deadline.left()
                )

        # Reel clock: each clip starts where the previous ended, minus the crossfade.
        overlap_s = float(cf_frames / fps)
        reel_starts: list[float] = []
        position_s = 0.0
        for duration_s in durations_s:
            reel_starts.append(position_s)
            position_s += duration_s - overlap_s
        reel_duration_s = steps.measure_duration(reel_temp, deadline.left())

        entries = [
            ReelEntry(
                video_id=c.video_id,
                source_name=Path(infos[c.video_id].path).name,
                source_start_s=start_s,
                duration_s=duration_s,
                reel_start_s=reel_start_s,
                has_audio=infos[c.video_id].has_audio,
                source_path=str(infos[c.video_id].path),
                source_duration_s=infos[c.video_id].duration_s,
            )
            for c, (start_s, _), duration_s, reel_start_s in zip(
                clips, spans, durations_s, reel_starts, strict=True
            )
        ]
        srt_temp = temp_for(srt_final)
        srt_temp.write_text(srt_text(reel_cues(entries, speech)), encoding="utf-8")
        timing = {"fps": float(fps), "title": title, "clip_ids": [c.clip_id for c in clips]}
        for final, write in (
            (edl_final, edl_text),
            (xml_final, fcp7_xml_text),
            (otio_final, otio_text),
        ):
            temp_for(final).write_text(write(entries, **timing), encoding="utf-8")
        report(0.97, "publishing")
        for temp, final in published:
            os.replace(temp, final)
    except BaseException:
        for temp, _ in published:
            temp.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)

    home = Path(home)
    out_clips: list[Clip] = []
    for clip, (start_s, frames), final, reel_start_s in zip(
        clips, spans, clip_finals, reel_starts, strict=True
    ):
        update: dict[str, object] = {
            "path": _relative(final, home),
            "reel_start_s": round(reel_start_s, 3),
        }
        end_s = start_s + float(frames / fps)
        if start_s != clip.start_s or abs(end_s - clip.end_s) > float(
            1 / fps
        ):  # clamped to the source
            update.update(start_s=round(start_s, 3), end_s=round(end_s, 3))
        out_clips.append(clip.model_copy(update=update))
    if stream_copy:
        warnings.append("stream-copy clips start at the keyframe before each cut (not frame-exact)")
    report(1.0, "done")
    return RenderOutput(
        clips=out_clips,
        reel_path=_relative(reel_final, home),
        srt_path=_relative(srt_final, home),
        edl_path=_relative(edl_final, home),
        fcp7_xml_path=_relative(xml_final, home),
        otio_path=_relative(otio_final, home),
        thumbnails=[_relative(p, home) for p in thumb_finals],
        reel_duration_s=round(reel_duration_s, 3),
        width=width,
        height=height,
        fps=round(float(fps), 3),
        crossfade_s=round(overlap_s, 3),
        stream_copy=stream_copy,
        warnings=warnings,
    )
