"""Cut-point snapping: clips start and end on sentence boundaries or shot cuts, never mid-word.

A :class:`Snapper` turns a :class:`BoundaryIndex` into two sorted lists of usable cut points:

* quality 0: sentence starts (with a small pre-roll) and sentence ends (with a small post-roll),
  shot cuts and the video's edges. The roll never crosses into the neighbouring word or past a
  shot cut, so a quality-0 point is always within ``roll`` (≤ 0.3 s) of its boundary. A shot
  cut in the silence next to a sentence (≤ ``SILENT_CUT_REACH_S``) replaces the rolled point,
  and no point leaves a sliver (< ``SHOT_FRAGMENT_MIN_S``) of a shot at a clip's edge.
* quality 1: the middle part of a gap between two words.

Raw cut times (quality 2) are only used when neither exists in reach; they are moved out of any
word they fall into.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Literal

from scenespark.highlights.candidates import BoundaryIndex

DEFAULT_PRE_ROLL_S = 0.15
DEFAULT_POST_ROLL_S = 0.15
DEFAULT_WINDOW_S = 2.0
SILENT_CUT_REACH_S = 1.5  # a shot cut this close to a sentence, in silence, is the cut used
SHOT_FRAGMENT_MIN_S = 0.5  # a clip never opens or closes on less of a shot than this
MAX_BOUNDARY_DISTANCE_S = 0.3  # a quality-0 cut lies at most this far from its boundary
_MIN_GAP_S = 0.04
_EPS_S = 1e-3
_AGAINST_DIRECTION_COST = 1.3  # moving a start later / an end earlier costs more (loses words)

Side = Literal["start", "end"]


@dataclass(frozen=True, order=True)
class CutPoint:
    time_s: float
    quality: int  # 0 sentence/shot/edge, 1 word gap, 2 raw


class Snapper:
    """Cut points of one video for clip starts and ends."""

    def __init__(
        self,
        index: BoundaryIndex,
        *,
        pre_roll_s: float = DEFAULT_PRE_ROLL_S,
        post_roll_s: float = DEFAULT_POST_ROLL_S,
    ) -> None:
        self.index = index
        self.duration_s = index.duration_s
        self.pre_roll_s = min(pre_roll_s, MAX_BOUNDARY_DISTANCE_S)
        self.post_roll_s = min(post_roll_s, MAX_BOUNDARY_DISTANCE_S)
        self._starts = self._build("start")
        self._ends = self._build("end")
        self._start_times = [p.time_s for p in self._starts]
        self._end_times = [p.time_s for p in self._ends]

    # ---- construction ----------------------------------------------------------------------
    def _build(self, side: Side) -> list[CutPoint]:
        idx = self.index
        best: dict[float, int] = {}

        def add(t: float, quality: int) -> None:
            t = round(min(max(self._no_flash(side, t), 0.0), self.duration_s), 3)
            if quality < best.get(t, 99):
                best[t] = quality

        add(0.0, 0)
        add(self.duration_s, 0)
        for cut in idx.shot_cuts:
            word = idx.word_at(cut)
            if word is None or not idx.inside_word(cut):
                add(cut, 0)
                continue
            edge = word[0] if cut - word[0] <= word[1] - cut else word[1]
            # an end stays before the cut (no frames of the next shot), a start after it (no
            # frames of the previous one) when the word edge on that side is close enough
            if side == "end" and cut - word[0] <= MAX_BOUNDARY_DISTANCE_S:
                edge = word[0]
            elif side == "start" and word[1] - cut <= MAX_BOUNDARY_DISTANCE_S:
                edge = word[1]
            add(edge, 0 if abs(edge - cut) <= MAX_BOUNDARY_DISTANCE_S else 1)
        # Both sides may cut at either kind of sentence boundary: a start just before a sentence
        # starts or just after one ends (in the silence), an end likewise. When a shot cut lies
        # in that silence close by, the cut itself is used: a clip then begins with the whole
        # shot (not a jump a moment into it) and an end never shows the next shot's first frames.
        for p in idx.sentence_starts:
            prev_end = idx.prev_word_end(p)
            cut = idx.cut_before(p)
            rolled = max(p - self.pre_roll_s, cut, 0.0)
            if prev_end is not None:
                rolled = max(rolled, prev_end)
            silent_cut = cut > 0.0 and (prev_end is None or cut >= prev_end)
            if silent_cut and p - cut <= SILENT_CUT_REACH_S:
                rolled = cut
            add(min(rolled, p), 0)
        for p in idx.sentence_ends:
            next_start = idx.next_word_start(p)
            cut = idx.cut_after(p)
            rolled = min(p + self.post_roll_s, cut, self.duration_s)
            if next_start is not None:
                rolled = min(rolled, next_start)
            silent_cut = cut < self.duration_s and (next_start is None or cut <= next_start)
            if silent_cut and cut - p <= SILENT_CUT_REACH_S:
                rolled = cut
            add(max(rolled, p), 0)
        for a, b in idx.word_gaps():
            if b - a >= _MIN_GAP_S:
                if side == "start":
                    add(b - min(self.pre_roll_s, (b - a) / 2), 1)
                else:
                    add(a + min(self.post_roll_s, (b - a) / 2), 1)
        return [CutPoint(t, q) for t, q in sorted(best.items())]

    def _no_flash(self, side: Side, t: float) -> float:
        """Move a cut that would keep only a sliver of a shot (a flash frame) onto the shot cut.

        A start a moment before a cut opens on a few frames of the previous shot; an end a
        moment after one closes on a few frames of the next. Speech across the cut wins.
        """
        idx = self.index
        if side == "start":
            cut = idx.cut_after(t + _EPS_S)
            lo, hi = t, cut
        else:
            cut = idx.cut_before(t - _EPS_S)
            lo, hi = cut, t
        if not 0.0 < cut < self.duration_s or not _EPS_S < hi - lo <= SHOT_FRAGMENT_MIN_S:
            return t
        last_end = idx.prev_word_end(hi)
        word_between = last_end is not None and last_end > lo
        if idx.word_at(lo) is not None or idx.word_at(hi) is not None or word_between:
            return t
        return cut

    # ---- queries ---------------------------------------------------------------------------
    def options(self, side: Side, lo_s: float, hi_s: float) -> list[CutPoint]:
        """Cut points for ``side`` within [lo_s, hi_s], sorted by time."""
        points, times = (
            (self._starts, self._start_times) if side == "start" else (self._ends, self._end_times)
        )
        i = bisect_left(times, lo_s - _EPS_S)
        j = bisect_right(times, hi_s + _EPS_S)
        return points[i:j]

    def safe_cut(self, t: float, direction: int = 0) -> float:
        """``t`` moved out of any word it falls into (-1: to the word start, +1: to its end)."""
        t = min(max(t, 0.0), self.duration_s)
        if not self.index.inside_word(t):
            return round(t, 3)
        word = self.index.word_at(t)
        assert word is not None
        if direction < 0:
            return word[0]
        if direction > 0:
            return word[1]
        return word[0] if t - word[0] <= word[1] - t else word[1]

    def snap(
        self,
        side: Side,
        t: float,
        *,
        window_s: float = DEFAULT_WINDOW_S,
        lo_s: float | None = None,
        hi_s: float | None = None,
    ) -> CutPoint:
        """The best cut point for ``side`` near ``t``, staying within [lo_s, hi_s].

        Quality beats distance: any sentence boundary or shot cut within ``window_s`` wins over
        a word gap. Starts prefer moving earlier, ends prefer moving later (keep whole words).
        """
        lo = 0.0 if lo_s is None else lo_s
        hi = self.duration_s if hi_s is None else hi_s
        reach = self.options(side, max(lo, t - window_s), min(hi, t + window_s))
        if reach:

            def cost(p: CutPoint) -> tuple[int, float, float]:
                before = p.time_s <= t
                natural = before if side == "start" else not before
                dist = abs(p.time_s - t) * (1.0 if natural else _AGAINST_DIRECTION_COST)
                return (p.quality, dist, p.time_s)

            return min(reach, key=cost)
        raw = self.safe_cut(min(max(t, lo), hi), -1 if side == "start" else 1)
        if not lo - _EPS_S <= raw <= hi + _EPS_S:
            raw = self.safe_cut(min(max(t, lo), hi), 1 if side == "start" else -1)
        return CutPoint(round(min(max(raw, lo), hi), 3), 2)

    def snap_span(
        self,
        start_s: float,
        end_s: float,
        *,
        window_s: float = DEFAULT_WINDOW_S,
        min_len_s: float = 0.0,
    ) -> tuple[float, float]:
        """Snap both ends of a span; the end never lands before ``start + min_len_s``."""
        start = self.snap("start", start_s, window_s=window_s, hi_s=max(0.0, end_s - _EPS_S))
        end = self.snap(
            "end",
            end_s,
            window_s=window_s,
            lo_s=min(self.duration_s, start.time_s + max(min_len_s, _EPS_S)),
        )
        return start.time_s, end.time_s


def snap_span(
    start_s: float,
    end_s: float,
    index: BoundaryIndex,
    *,
    window_s: float = DEFAULT_WINDOW_S,
    pre_roll_s: float = DEFAULT_PRE_ROLL_S,
    post_roll_s: float = DEFAULT_POST_ROLL_S,
) -> tuple[float, float]:
    """Snap one span to sentence boundaries / shot cuts of ``index`` (convenience wrapper)."""
    snapper = Snapper(index, pre_roll_s=pre_roll_s, post_roll_s=post_roll_s)
    return snapper.snap_span(start_s, end_s, window_s=window_s)
