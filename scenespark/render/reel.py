"""Rendering highlights with ffmpeg (docs/architecture.md §7 step 5).

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
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from pydantic import BaseModel, Field

from scenespark.errors import InvalidInputError, NotFoundError, RenderError
from scenespark.jobs.progress import ProgressFn, StopCheck, check_stop, no_progress
from scenespark.render import ffmpeg_steps as steps
from scenespark.render.edit_lists import ReelEntry, reel_cues, srt_text
from scenespark.render.timelines import edl_text, fcp7_xml_text, otio_text
from scenespark.types import Clip, Segment

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
    should_stop: StopCheck | None = None,
) -> RenderOutput:
    """Render ``clips`` (cut from ``sources[video_id]``) into ``out_dir``: per-clip mp4s and
    thumbnails, ``reel.mp4``, ``reel.srt`` and the editor timelines ``reel.edl`` (CMX3600),
    ``reel.xml`` (FCP7 XML) and ``reel.otio``.

    ``loudnorm`` turns per-clip loudness normalisation on; ``audio_filter`` picks the filter
    (``dynaudnorm`` or ``loudnorm``). ``timeout_s`` bounds the whole render; ``clip_workers``
    clips are encoded at a time. ``on_progress(fraction, message)`` is called from this thread;
    ``should_stop`` is checked before each clip starts (a stop raises ``JobStopped``).

    The steps: check the clips, probe the sources and fix the reel's format, cut each clip
    (:meth:`_Render.encode_clips` or, stream copy, :meth:`_Render.cut_clips`), join them
    (:meth:`_Render.join_encoded` / :meth:`_Render.join_copies`), write the subtitles
    and timelines (:meth:`_Render.write_edit_lists`), then publish every file at once.
    """
    _check_clips(clips, sources, crossfade_s)
    deadline = _Deadline(timeout_s)
    report = on_progress or no_progress
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)

    report(0.0, "probing sources")
    infos = {
        vid: steps.probe_source(Path(sources[vid]), deadline.left())
        for vid in {c.video_id for c in clips}
    }
    first = infos[clips[0].video_id]
    fps = steps.output_fps(first.fps)
    spans, warnings = _plan_spans(clips, infos, fps)
    render = _Render(
        clips=clips,
        infos=infos,
        spans=spans,
        fps=fps,
        size=steps.output_size(first.width, first.height),
        files=_OutputFiles(out_dir, [_stem(i + 1, c.clip_id) for i, c in enumerate(clips)]),
        deadline=deadline,
        report=report,
        warnings=warnings,
        thumbnail_max_side=thumbnail_max_side,
        should_stop=should_stop,
    )
    with render.files.publishing():
        if stream_copy:
            reel = render.join_copies(render.cut_clips(clip_workers), crossfade_s)
        else:
            render.encode_clips(audio_filter if loudnorm else "", clip_workers)
            reel = render.join_encoded(crossfade_s)
        render.write_edit_lists(reel, speech or {}, title)
        report(0.97, "publishing")
    if stream_copy:
        warnings.append("stream-copy clips start at the keyframe before each cut (not frame-exact)")
    report(1.0, "done")
    return render.output(reel, Path(home), stream_copy=stream_copy)


def _check_clips(clips: list[Clip], sources: dict[str, Path], crossfade_s: float) -> None:
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


class _OutputFiles:
    """The files of one render. Each is written under a temporary name in the output folder
    and renamed into place only when the whole render succeeded; on failure the temporary
    files and the work folder are removed, so no file ever appears under a published name."""

    def __init__(self, out_dir: Path, stems: list[str]) -> None:
        self.token = uuid.uuid4().hex[:10]
        self.work = out_dir / f".render-{self.token}"
        self.out_dir = out_dir
        self.clips = [out_dir / f"{s}.mp4" for s in stems]
        self.thumbnails = [out_dir / f"{s}.jpg" for s in stems]
        self.reel, self.srt, self.edl, self.fcp7_xml, self.otio = (
            out_dir / f"reel.{ext}" for ext in ("mp4", "srt", "edl", "xml", "otio")
        )
        self._temps: dict[Path, Path] = {}  # final → temporary, in creation order

    def temp(self, final: Path) -> Path:
        """The temporary name to write ``final`` under."""
        if final not in self._temps:
            self._temps[final] = self.out_dir / f".{final.stem}.{self.token}.part{final.suffix}"
        return self._temps[final]

    @contextmanager
    def publishing(self) -> Iterator[None]:
        self.work.mkdir()
        try:
            yield
            for final, temp in self._temps.items():
                os.replace(temp, final)
        except BaseException:
            for temp in self._temps.values():
                temp.unlink(missing_ok=True)
            raise
        finally:
            shutil.rmtree(self.work, ignore_errors=True)


@dataclass
class _Reel:
    """The joined reel: each clip's length on it, the crossfade used (frames), its length."""

    durations_s: list[float]
    crossfade_frames: int
    duration_s: float = 0.0
    starts_s: list[float] = field(default_factory=list)  # where each clip starts on the reel


@dataclass
class _Render:
    """One render in progress: the clips, their sources and spans, the reel's format."""

    clips: list[Clip]
    infos: dict[str, steps.SourceInfo]
    spans: list[tuple[float, int]]  # (source start_s, frames at the reel rate) per clip
    fps: Fraction
    size: tuple[int, int]
    files: _OutputFiles
    deadline: _Deadline
    report: ProgressFn
    warnings: list[str]
    thumbnail_max_side: int
    should_stop: StopCheck | None = None

    def _what(self, i: int) -> str:
        return f"ffmpeg (clip {i + 1} of {len(self.clips)})"

    def _video_parts(self) -> list[Path]:
        return [self.files.work / f"v{i:03d}.mp4" for i in range(len(self.clips))]

    def _audio_parts(self) -> list[Path]:
        return [self.files.work / f"a{i:03d}.wav" for i in range(len(self.clips))]

    def _run(self, task: Callable[[int], float], workers: int) -> list[float]:
        weights = [n for _, n in self.spans]

        def checked(i: int) -> float:
            check_stop(self.should_stop)  # a stop request ends the render before the next clip
            return task(i)

        return _run_parallel(
            checked, weights, max(1, workers), lambda f, m: self.report(0.85 * f, m)
        )

    # -- cutting -------------------------------------------------------------------------------
    def encode_clips(self, audio_norm: str, workers: int) -> None:
        """Frame-exact: each clip encoded once to the reel's size and rate, with a video-only
        copy and PCM audio in the work folder for the join, and its thumbnail."""
        # Audio sample counts follow the cumulative reel clock, so the reel never drifts.
        bounds = [0, *itertools.accumulate(n for _, n in self.spans)]
        samples = [
            round(bounds[i + 1] / self.fps * steps.AUDIO_RATE_HZ)
            - round(bounds[i] / self.fps * steps.AUDIO_RATE_HZ)
            for i in range(len(self.clips))
        ]
        video_parts, audio_parts = self._video_parts(), self._audio_parts()

        def encode(i: int) -> float:
            start_s, frames = self.spans[i]
            steps.encode_clip(
                self.infos[self.clips[i].video_id],
                start_s=start_s,
                frames=frames,
                samples=samples[i],
                size=self.size,
                fps=self.fps,
                audio_norm=audio_norm,
                clip_out=self.files.temp(self.files.clips[i]),
                video_out=video_parts[i],
                audio_out=audio_parts[i],
                thumb_out=self.files.temp(self.files.thumbnails[i]),
                thumb_side=self.thumbnail_max_side,
                timeout_s=self.deadline.left(),
                what=self._what(i),
            )
            return float(frames / self.fps)

        self._register_outputs()
        self._run(encode, workers)

    def cut_clips(self, workers: int) -> list[float]:
        """Stream copy: raw cuts (from the keyframe before each start) and thumbnails; returns
        the measured length of each cut."""

        def cut(i: int) -> float:
            info = self.infos[self.clips[i].video_id]
            start_s, frames = self.spans[i]
            duration_s = float(frames / self.fps)
            clip_temp = self.files.temp(self.files.clips[i])
            steps.cut_copy(
                info, start_s, duration_s, clip_temp, timeout_s=self.deadline.left(),
                what=self._what(i),
            )  # fmt: skip
            steps.thumbnail_at(
                info.path,
                start_s + duration_s / 2,
                self.files.temp(self.files.thumbnails[i]),
                self.thumbnail_max_side,
                self.deadline.left(),
            )
            return steps.measure_duration(clip_temp, self.deadline.left())

        self._register_outputs()
        return self._run(cut, workers)

    def _register_outputs(self) -> None:
        """Every clip, thumbnail and the reel get their temporary names before any work, so a
        failure removes whatever was written."""
        for final in [*self.files.clips, *self.files.thumbnails, self.files.reel]:
            self.files.temp(final)

    # -- joining -------------------------------------------------------------------------------
    def join_copies(self, durations_s: list[float], crossfade_s: float) -> _Reel:
        """Stream copy: a concat copy when every source shares one format, else re-encoded
        (``durations_s``: the measured length of each cut)."""
        if crossfade_s > 0:
            self.warnings.append("crossfades are not applied in stream-copy mode")
        clip_temps = [self.files.temp(p) for p in self.files.clips]
        reel_temp = self.files.temp(self.files.reel)
        if steps.compatible([self.infos[c.video_id] for c in self.clips]):
            steps.concat_copy(
                clip_temps, self.files.work / "reel.txt", reel_temp,
                timeout_s=self.deadline.left(),
            )  # fmt: skip
        else:
            self.warnings.append("sources differ in format: the stream-copy reel was re-encoded")
            steps.reencode_concat(
                clip_temps, [self.infos[c.video_id].has_audio for c in self.clips], durations_s,
                self.size, self.fps, reel_temp, timeout_s=self.deadline.left(),
            )  # fmt: skip
        return self._measured(_Reel(durations_s, 0))

    def join_encoded(self, crossfade_s: float) -> _Reel:
        """Frame-exact: the encoded parts concatenated (video stream copy, audio sample-exact),
        or crossfaded with ``xfade``/``acrossfade`` (no longer than half the shortest clip)."""
        durations_s = [float(n / self.fps) for _, n in self.spans]
        cf_frames = 0
        if crossfade_s > 0:
            wanted = round(crossfade_s * self.fps)
            cf_frames = min(wanted, min(n for _, n in self.spans) // 2)
            if cf_frames < wanted:
                self.warnings.append(
                    f"crossfade shortened to {float(cf_frames / self.fps):.2f} s to fit the "
                    "shortest clip"
                )
        self.report(0.87, "joining the reel")
        reel_temp = self.files.temp(self.files.reel)
        if cf_frames > 0 and len(self.clips) > 1:
            steps.crossfade_reel(
                self._video_parts(), self._audio_parts(), durations_s,
                float(cf_frames / self.fps), reel_temp, timeout_s=self.deadline.left(),
            )  # fmt: skip
        else:
            cf_frames = 0
            steps.concat_reel(
                self._video_parts(), self._audio_parts(), self.files.work, reel_temp,
                timeout_s=self.deadline.left(),
            )  # fmt: skip
        return self._measured(_Reel(durations_s, cf_frames))

    def _measured(self, reel: _Reel) -> _Reel:
        """The reel clock (each clip starts where the previous ended, minus the crossfade) and
        the reel's measured length."""
        overlap_s = float(reel.crossfade_frames / self.fps)
        position_s = 0.0
        for duration_s in reel.durations_s:
            reel.starts_s.append(position_s)
            position_s += duration_s - overlap_s
        reel.duration_s = steps.measure_duration(
            self.files.temp(self.files.reel), self.deadline.left()
        )
        return reel

    # -- subtitles and timelines ---------------------------------------------------------------
    def write_edit_lists(self, reel: _Reel, speech: dict[str, list[Segment]], title: str) -> None:
        """The reel's SRT (speech retimed to the reel clock) and its editor timelines."""
        entries = [
            ReelEntry(
                video_id=c.video_id,
                source_name=Path(self.infos[c.video_id].path).name,
                source_start_s=start_s,
                duration_s=duration_s,
                reel_start_s=reel_start_s,
                has_audio=self.infos[c.video_id].has_audio,
                source_path=str(self.infos[c.video_id].path),
                source_duration_s=self.infos[c.video_id].duration_s,
            )
            for c, (start_s, _), duration_s, reel_start_s in zip(
                self.clips, self.spans, reel.durations_s, reel.starts_s, strict=True
            )
        ]
        self.files.temp(self.files.srt).write_text(
            srt_text(reel_cues(entries, speech)), encoding="utf-8"
        )
        timing = {
            "fps": float(self.fps),
            "title": title,
            "clip_ids": [c.clip_id for c in self.clips],
        }
        for final, write in (
            (self.files.edl, edl_text),
            (self.files.fcp7_xml, fcp7_xml_text),
            (self.files.otio, otio_text),
        ):
            self.files.temp(final).write_text(write(entries, **timing), encoding="utf-8")

    # -- result --------------------------------------------------------------------------------
    def output(self, reel: _Reel, home: Path, *, stream_copy: bool) -> RenderOutput:
        """Paths relative to ``home``; clips clamped to their source get their new times."""
        out_clips: list[Clip] = []
        for clip, (start_s, frames), final, reel_start_s in zip(
            self.clips, self.spans, self.files.clips, reel.starts_s, strict=True
        ):
            update: dict[str, object] = {
                "path": _relative(final, home),
                "reel_start_s": round(reel_start_s, 3),
            }
            end_s = start_s + float(frames / self.fps)
            if start_s != clip.start_s or abs(end_s - clip.end_s) > float(1 / self.fps):
                update.update(start_s=round(start_s, 3), end_s=round(end_s, 3))
            out_clips.append(clip.model_copy(update=update))
        files = self.files
        return RenderOutput(
            clips=out_clips,
            reel_path=_relative(files.reel, home),
            srt_path=_relative(files.srt, home),
            edl_path=_relative(files.edl, home),
            fcp7_xml_path=_relative(files.fcp7_xml, home),
            otio_path=_relative(files.otio, home),
            thumbnails=[_relative(p, home) for p in files.thumbnails],
            reel_duration_s=round(reel.duration_s, 3),
            width=self.size[0],
            height=self.size[1],
            fps=round(float(self.fps), 3),
            crossfade_s=round(float(reel.crossfade_frames / self.fps), 3),
            stream_copy=stream_copy,
            warnings=self.warnings,
        )
