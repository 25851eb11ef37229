"""Edit lists for a rendered highlight reel: the reel's SRT (speech retimed to the reel clock)
and a CMX3600 EDL for editors.

Pure functions over :class:`ReelEntry` (where one clip sits on the source and on the reel), so
they are testable without ffmpeg. With crossfades, consecutive entries overlap on the reel by
the crossfade; subtitles switch from one clip to the next at the middle of each transition.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from scenespark.media.subtitles import Cue, format_srt
from scenespark.types import Segment

MIN_CUE_S = 0.1  # cues clipped shorter than this are dropped (a flash nobody can read)
_EDL_NAME_RE = re.compile(r"[^\x20-\x7e]")


@dataclass(frozen=True, slots=True)
class ReelEntry:
    """One clip of the reel: source span and its place on the reel clock (seconds)."""

    video_id: str
    source_name: str  # file name shown to editors
    source_start_s: float
    duration_s: float  # length of the rendered clip (whole frames)
    reel_start_s: float
    has_audio: bool = True

    @property
    def source_end_s(self) -> float:
        return self.source_start_s + self.duration_s

    @property
    def reel_end_s(self) -> float:
        return self.reel_start_s + self.duration_s


def _visible_windows(entries: Sequence[ReelEntry]) -> list[tuple[float, float]]:
    """Reel interval during which each entry owns the subtitles (split overlaps in the middle)."""
    windows: list[tuple[float, float]] = []
    for i, entry in enumerate(entries):
        lo, hi = entry.reel_start_s, entry.reel_end_s
        if i > 0:
            prev_end = entries[i - 1].reel_end_s
            if prev_end > lo:
                lo = (lo + prev_end) / 2.0
        if i + 1 < len(entries):
            next_start = entries[i + 1].reel_start_s
            if next_start < hi:
                hi = (next_start + hi) / 2.0
        windows.append((lo, hi))
    return windows


def reel_cues(
    entries: Sequence[ReelEntry], speech: dict[str, list[Segment]], *, min_cue_s: float = MIN_CUE_S
) -> list[Cue]:
    """Speech segments overlapping each clip, clipped to it and retimed to the reel clock."""
    cues: list[Cue] = []
    for entry, (win_lo, win_hi) in zip(entries, _visible_windows(entries), strict=True):
        offset_s = entry.reel_start_s - entry.source_start_s
        for seg in sorted(speech.get(entry.video_id, []), key=lambda s: (s.start_s, s.end_s)):
            text = " ".join(seg.text.split())
            if not text or seg.end_s <= entry.source_start_s or seg.start_s >= entry.source_end_s:
                continue
            start_s = max(seg.start_s + offset_s, win_lo)
            end_s = min(seg.end_s + offset_s, win_hi)
            if end_s - start_s >= min_cue_s:
                cues.append(Cue(start_s=round(start_s, 3), end_s=round(end_s, 3), text=text))
    cues.sort(key=lambda c: (c.start_s, c.end_s))
    # Overlapping speech segments (e.g. two speakers) stay, but never end before they start.
    return [c for c in cues if c.end_s > c.start_s]


def srt_text(cues: Sequence[Cue]) -> str:
    return format_srt(cues)


# --------------------------------------------------------------------------------------------
# CMX3600
# --------------------------------------------------------------------------------------------


def timecode_rate(fps: float) -> int:
    """Integer timecode base for an fps (29.97 → 30 non-drop, 23.976 → 24)."""
    return max(1, round(fps))


def frames_to_timecode(frames: int, rate: int) -> str:
    frames = max(0, int(frames))
    hours, rest = divmod(frames, 3600 * rate)
    minutes, rest = divmod(rest, 60 * rate)
    seconds, ff = divmod(rest, rate)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}:{ff:02d}"


def seconds_to_frames(seconds: float, fps: float) -> int:
    return math.floor(seconds * fps + 1e-6 + 0.5)


def _edl_name(text: str) -> str:
    return _EDL_NAME_RE.sub("_", text)[:120] or "untitled"


def _event_line(
    number: int, track: str, trans: str, dur: str, times: tuple[int, int, int, int], rate: int
) -> str:
    tcs = " ".join(frames_to_timecode(f, rate) for f in times)
    return f"{number:03d}  AX       {track:<5} {trans:<4} {dur:>3} {tcs}"


def cmx3600_edl(
    entries: Sequence[ReelEntry],
    *,
    fps: float,
    title: str = "SceneSpark highlight",
    clip_ids: Sequence[str] | None = None,
) -> str:
    """A CMX3600 EDL (non-drop frame): one cut event per clip, dissolves where clips overlap.

    Source timecodes count from 00:00:00:00 at the start of each source file; record
    timecodes are positions on the reel.
    """
    rate = timecode_rate(fps)
    lines = [f"TITLE: {_edl_name(title).upper()[:70]}", "FCM: NON-DROP FRAME", ""]
    # Frame counts use the true rate (29.97 counts 29.97 frames a second); timecodes label those
    # counts at the integer non-drop base.
    rec_in = [seconds_to_frames(e.reel_start_s, fps) for e in entries]
    rec_end = [seconds_to_frames(e.reel_end_s, fps) for e in entries]
    src_in = [seconds_to_frames(e.source_start_s, fps) for e in entries]
    for i, entry in enumerate(entries):
        number = i + 1
        track = "AA/V" if entry.has_audio else "V"
        # An event ends where the next one starts (its dissolve, if any, belongs to the next).
        rec_out = min(rec_end[i], rec_in[i + 1]) if i + 1 < len(entries) else rec_end[i]
        src_out = src_in[i] + (rec_out - rec_in[i])
        overlap = rec_end[i - 1] - rec_in[i] if i > 0 else 0
        if overlap > 0:
            prev = entries[i - 1]
            prev_out = src_in[i - 1] + (rec_in[i] - rec_in[i - 1])
            prev_track = "AA/V" if prev.has_audio else "V"
            lines.append(
                _event_line(
                    number, prev_track, "C", "", (prev_out, prev_out, rec_in[i], rec_in[i]), rate
                )
            )
            lines.append(
                _event_line(
                    number,
                    track,
                    "D",
                    f"{overlap:03d}",
                    (src_in[i], src_out, rec_in[i], rec_out),
                    rate,
                )
            )
            lines.append(f"* FROM CLIP NAME: {_edl_name(prev.source_name)}")
            lines.append(f"* TO CLIP NAME: {_edl_name(entry.source_name)}")
        else:
            lines.append(
                _event_line(number, track, "C", "", (src_in[i], src_out, rec_in[i], rec_out), rate)
            )
            lines.append(f"* FROM CLIP NAME: {_edl_name(entry.source_name)}")
        if clip_ids is not None and i < len(clip_ids):
            lines.append(f"* SCENESPARK CLIP ID: {_edl_name(clip_ids[i])}")
        lines.append("")
    return "\n".join(lines)
