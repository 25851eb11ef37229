"""Where each clip of a rendered reel sits (:class:`ReelEntry`) and the reel's SRT (speech
retimed to the reel clock). The editor timelines (EDL, FCP7 XML, .otio) are built from the same
entries in :mod:`scenespark.render.timelines`.

Pure functions over :class:`ReelEntry` (where one clip sits on the source and on the reel), so
they are testable without ffmpeg. With crossfades, consecutive entries overlap on the reel by
the crossfade; subtitles switch from one clip to the next at the middle of each transition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scenespark.media.subtitles import Cue, format_srt
from scenespark.types import Segment

MIN_CUE_S = 0.1  # cues clipped shorter than this are dropped (a flash nobody can read)


@dataclass(frozen=True, slots=True)
class ReelEntry:
    """One clip of the reel: source span and its place on the reel clock (seconds)."""

    video_id: str
    source_name: str  # file name shown to editors
    source_start_s: float
    duration_s: float  # length of the rendered clip (whole frames)
    reel_start_s: float
    has_audio: bool = True
    source_path: str = ""  # the source file, referenced by the editor timelines
    source_duration_s: float = 0.0  # its whole length (the media an editor may trim into)

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
