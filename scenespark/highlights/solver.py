"""Budget solver: turn ranked candidates into clips that fill the target duration.

Rules (docs/architecture.md §7.3-4): total within target ± tolerance when enough relevant material exists
(never padded with irrelevant material), each clip within [min_clip_s, max_clip_s], at most
``max_clips`` clips, no overlapping or near-duplicate clips, clips of one video closer than
``merge_gap_s`` merged, every cut snapped (see :mod:`scenespark.highlights.snapping`), locked
candidates always kept. Deterministic: the same input gives the same output.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from scenespark.highlights.candidates import BoundaryIndex, Candidate
from scenespark.highlights.snapping import (
    DEFAULT_POST_ROLL_S,
    DEFAULT_PRE_ROLL_S,
    DEFAULT_WINDOW_S,
    CutPoint,
    Snapper,
)
from scenespark.highlights.spans import Move, Span, absorb, apply_move, pick_cut
from scenespark.language.tokenize import tokenize

_EPS_S = 1e-3
_MAX_ADJUST_STEPS = 200
# A candidate scoring below this share of the best one is only used when the clips already
# chosen cannot reach the budget by growing inside their own shots: more of a strong moment
# beats a weak, probably irrelevant one.
WEAK_SCORE_SHARE = 0.75


class SolverParams(BaseModel):
    target_duration_s: float = Field(gt=0.0)
    tolerance: float = Field(0.10, ge=0.0, le=1.0)
    min_clip_s: float = Field(2.0, gt=0.0)
    max_clip_s: float = Field(20.0, gt=0.0)
    max_clips: int = Field(12, ge=1)
    order: Literal["chronological", "relevance"] = "chronological"
    merge_gap_s: float = Field(1.0, ge=0.0)
    duplicate_overlap: float = Field(0.5, gt=0.0, le=1.0)  # of the shorter span
    snap_window_s: float = Field(DEFAULT_WINDOW_S, ge=0.0)
    pre_roll_s: float = Field(DEFAULT_PRE_ROLL_S, ge=0.0)
    post_roll_s: float = Field(DEFAULT_POST_ROLL_S, ge=0.0)
    # "everything about X": keep every candidate (up to max_clips); the target only caps the total
    take_all: bool = False

    @property
    def low_s(self) -> float:
        return self.target_duration_s * (1.0 - self.tolerance)

    @property
    def high_s(self) -> float:
        return self.target_duration_s * (1.0 + self.tolerance)


class SolvedClip(BaseModel):
    video_id: str
    start_s: float
    end_s: float
    candidate_ids: list[str]  # primary (best ranked) first
    rank: int  # position of the primary candidate in the ranking
    score: float
    locked: bool = False

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


class SolveResult(BaseModel):
    clips: list[SolvedClip] = Field(default_factory=list)
    total_s: float = 0.0
    warnings: list[str] = Field(default_factory=list)


class _Solver:
    def __init__(
        self,
        ranked: list[Candidate],
        boundaries: dict[str, BoundaryIndex],
        params: SolverParams,
        locked_ids: set[str],
        keywords: set[str],
        priority_ids: set[str] | None = None,
    ) -> None:
        self.p = params
        self.ranked = ranked
        self.locked_ids = locked_ids
        self.priority_ids = priority_ids or set()
        self.keywords = keywords
        self.snappers: dict[str, Snapper] = {}
        for c in ranked:
            if c.video_id not in self.snappers:
                last_end = max(x.end_s for x in ranked if x.video_id == c.video_id)
                index = boundaries.get(c.video_id) or BoundaryIndex.empty(c.video_id, last_end)
                if index.duration_s <= 0:
                    index = index.model_copy(update={"duration_s": last_end})
                self.snappers[c.video_id] = Snapper(
                    index, pre_roll_s=params.pre_roll_s, post_roll_s=params.post_roll_s
                )
        self.spans: list[Span] = []
        self.warnings: list[str] = []

    # ---- one candidate → one span ----------------------------------------------------------
    def base_span(self, rank: int, c: Candidate, max_s: float | None = None) -> Span | None:
        """The candidate as a snapped span; one longer than ``max_s`` (default max_clip_s) is
        cut to its best window first."""
        snapper = self.snappers[c.video_id]
        duration = snapper.duration_s
        start, end = max(0.0, c.start_s), min(c.end_s, duration)
        if end - start <= _EPS_S:
            return None
        length = min(self.p.max_clip_s, max_s or self.p.max_clip_s)
        if end - start > length:
            start, end = self._best_window(c, start, end, length)
        lo, hi = snapper.index.shots_span(start, end)
        win = self.p.snap_window_s
        start = snapper.snap("start", start, window_s=win, hi_s=end - _EPS_S).time_s
        end = snapper.snap("end", end, window_s=win, lo_s=start + _EPS_S).time_s
        span = Span(c.video_id, start, end, min(lo, start), max(hi, end), [(rank, c)])
        span.locked = c.candidate_id in self.locked_ids
        self._fit_length(span)
        return span

    def _best_window(
        self, c: Candidate, start: float, end: float, length: float
    ) -> tuple[float, float]:
        """The window of ``length`` s of a long candidate with the most topic words / the focus."""
        snapper = self.snappers[c.video_id]
        starts = [start] + [
            p.time_s for p in snapper.options("start", start, end - length) if p.quality == 0
        ]
        words = snapper.index.words

        def score(w: float) -> tuple[float, float]:
            hits = sum(
                1
                for ws, we, text in words
                if w <= ws and we <= w + length and self.keywords.intersection(tokenize(text))
            )
            focus = 1.0 if c.focus_s is not None and w <= c.focus_s <= w + length else 0.0
            return (hits + focus, -w)

        best = max(starts, key=score)
        return best, best + length

    def _fit_length(self, span: Span) -> None:
        """Bring a span into [min_clip_s, max_clip_s] with snapped cuts."""
        snapper = self.snappers[span.video_id]
        p = self.p
        if span.length_s > p.max_clip_s + _EPS_S:
            opts = snapper.options("end", span.start_s + p.min_clip_s, span.start_s + p.max_clip_s)
            span.end_s = (
                pick_cut(opts, latest=True).time_s
                if opts
                else snapper.safe_cut(span.start_s + p.max_clip_s, -1)
            )
        if span.length_s >= p.min_clip_s - _EPS_S:
            return
        for lo, hi in ((span.lo_s, span.hi_s), (0.0, snapper.duration_s)):
            ends = snapper.options(
                "end", span.start_s + p.min_clip_s, min(hi, span.start_s + p.max_clip_s)
            )
            if ends:
                span.end_s = pick_cut(ends, latest=False).time_s
                return
            starts = snapper.options(
                "start", max(lo, span.end_s - p.max_clip_s), span.end_s - p.min_clip_s
            )
            if starts:
                span.start_s = pick_cut(starts, latest=True).time_s
                return
        # no usable cut point in reach: widen around the span inside the video
        need = p.min_clip_s - span.length_s
        span.end_s = snapper.safe_cut(min(snapper.duration_s, span.end_s + need), 1)
        if span.length_s < p.min_clip_s:
            span.start_s = snapper.safe_cut(max(0.0, span.end_s - p.min_clip_s), -1)
        span.lo_s, span.hi_s = min(span.lo_s, span.start_s), max(span.hi_s, span.end_s)

    # ---- selection -------------------------------------------------------------------------
    def total_s(self) -> float:
        return sum(s.length_s for s in self.spans)

    def _neighbours(self, span: Span) -> list[Span]:
        return [s for s in self.spans if s is not span and s.video_id == span.video_id]

    def add(self, span: Span, *, force: bool = False) -> bool:
        """Add a span unless it duplicates one already chosen (``adjust`` fits the budget)."""
        p = self.p
        for other in self._neighbours(span):
            overlap = min(span.end_s, other.end_s) - max(span.start_s, other.start_s)
            if overlap >= p.duplicate_overlap * min(span.length_s, other.length_s):
                if force:  # a locked span always stays: fold it into the one it duplicates
                    absorb(other, span)
                    return True
                return False
            if overlap > 0:
                if span.start_s < other.start_s:
                    span.end_s = other.start_s
                else:
                    span.start_s = other.end_s
        if span.length_s < p.min_clip_s - _EPS_S and not force:
            return False
        self.spans.append(span)
        return True

    def select(self) -> None:
        p = self.p
        ranked = list(enumerate(self.ranked))
        for rank, c in ranked:
            if c.candidate_id in self.locked_ids:
                span = self.base_span(rank, c)
                if span is not None:
                    self.add(span, force=True)
        # one clip per facet of the prompt, however strong the others; with several facets a
        # long one is first cut to its share of the budget around its evidence, so one facet's
        # long span cannot crowd out another's
        share_s = p.target_duration_s / max(1, len(self.priority_ids))
        share_s = max(p.min_clip_s, share_s) if len(self.priority_ids) > 1 else None
        for rank, c in ranked:
            if c.candidate_id in self.priority_ids - self.locked_ids:
                span = self.base_span(rank, c, share_s) if len(self.spans) < p.max_clips else None
                if span is not None:
                    self.add(span)
        best_score = max((c.score for c in self.ranked), default=0.0)
        for rank, c in ranked:
            if c.candidate_id in self.locked_ids | self.priority_ids:
                continue
            total = self.total_s()
            weak = c.score < WEAK_SCORE_SHARE * best_score
            if weak and self.spans and total + self._room_to_grow() >= p.low_s and not p.take_all:
                break
            if len(self.spans) >= p.max_clips or (total >= p.target_duration_s and not p.take_all):
                break
            span = self.base_span(rank, c)
            if span is not None:
                self.add(span)

    def _room_to_grow(self) -> float:
        """How much the chosen spans could grow inside their known shots: at most double, and
        never past max_clip_s (a video without shot data offers no such room)."""
        room = 0.0
        for span in self.spans:
            if not self.snappers[span.video_id].index.shots:
                continue
            lo, hi = self._limits(span)
            longest = min(hi - lo, self.p.max_clip_s, 2.0 * span.length_s)
            room += max(0.0, longest - span.length_s)
        return room

    def merge_close(self) -> None:
        """Merge spans of one video that overlap or are closer than merge_gap_s."""
        self.spans.sort(key=lambda s: (s.video_id, s.start_s))
        merged: list[Span] = []
        for span in self.spans:
            last = merged[-1] if merged else None
            if last is not None and last.video_id == span.video_id:
                gap = span.start_s - last.end_s
                union = max(last.end_s, span.end_s) - last.start_s
                overlapping = gap < -_EPS_S
                if overlapping or (
                    gap < self.p.merge_gap_s and union <= self.p.max_clip_s + _EPS_S
                ):
                    absorb(last, span)
                    continue
            merged.append(span)
        self.spans = merged

    # ---- budget adjustment -----------------------------------------------------------------
    def _limits(self, span: Span) -> tuple[float, float]:
        lo, hi = span.lo_s, span.hi_s
        for other in self._neighbours(span):
            if other.end_s <= span.start_s + _EPS_S:
                lo = max(lo, other.end_s)
            elif other.start_s >= span.end_s - _EPS_S:
                hi = min(hi, other.start_s)
        return lo, hi

    def _moves(self, span: Span, grow: bool, need_s: float) -> list[Move]:
        """Possible single-cut changes of a span (grow or shrink), raw cut last."""
        snapper = self.snappers[span.video_id]
        p = self.p
        moves: list[Move] = []
        if grow:
            lo, hi = self._limits(span)
            hi = min(hi, span.start_s + p.max_clip_s)
            lo = max(lo, span.end_s - p.max_clip_s)
            for pt in snapper.options("end", span.end_s + _EPS_S, hi):
                moves.append(Move(span, "end", pt, pt.time_s - span.end_s))
            for pt in snapper.options("start", lo, span.start_s - _EPS_S):
                moves.append(Move(span, "start", pt, span.start_s - pt.time_s))
            wanted = min(hi, span.end_s + need_s)
            for direction in (1, -1):
                raw = snapper.safe_cut(wanted, direction)
                if span.end_s + _EPS_S < raw <= hi + _EPS_S:
                    moves.append(Move(span, "end", CutPoint(raw, 2), raw - span.end_s))
                    break
        else:
            for pt in snapper.options("end", span.start_s + p.min_clip_s, span.end_s - _EPS_S):
                moves.append(Move(span, "end", pt, span.end_s - pt.time_s))
            for pt in snapper.options("start", span.start_s + _EPS_S, span.end_s - p.min_clip_s):
                moves.append(Move(span, "start", pt, pt.time_s - span.start_s))
            wanted = max(span.start_s + p.min_clip_s, span.end_s - need_s)
            for direction in (-1, 1):
                raw = snapper.safe_cut(wanted, direction)
                if span.start_s + p.min_clip_s - _EPS_S <= raw < span.end_s - _EPS_S:
                    moves.append(Move(span, "end", CutPoint(raw, 2), span.end_s - raw))
                    break
        return moves

    def adjust(self) -> None:
        """Grow or shrink cuts until the total lies within target ± tolerance."""
        p = self.p
        for _ in range(_MAX_ADJUST_STEPS):
            total = self.total_s()
            if (p.low_s - _EPS_S <= total or p.take_all) and total <= p.high_s + _EPS_S:
                return
            grow = total < p.low_s
            if grow:
                order = sorted(self.spans, key=lambda s: s.rank)
                lo_d, hi_d = p.low_s - total, p.high_s - total
            else:
                order = sorted((s for s in self.spans if not s.locked), key=lambda s: -s.rank)
                lo_d, hi_d = total - p.high_s, total - p.low_s
            ideal = abs(p.target_duration_s - total)
            moves = [m for s in order for m in self._moves(s, grow, ideal)]
            fitting = [m for m in moves if lo_d - _EPS_S <= m.delta_s <= hi_d + _EPS_S]
            clean = [m for m in moves if m.point.quality < 2 and _EPS_S < m.delta_s <= hi_d]
            if fitting and min(m.point.quality for m in fitting) == 2 and clean:
                # only a raw cut fits in one step: first take the biggest step to a sentence
                # boundary or shot cut that does not overshoot, and look again from there
                apply_move(max(clean, key=lambda m: (-m.point.quality, m.delta_s)))
                continue
            if fitting:
                rank_of = {id(s): i for i, s in enumerate(order)}
                best = min(
                    fitting,
                    key=lambda m: (
                        0 if grow else self._words_lost(m, self.keywords),
                        0 if grow else self._words_lost(m, _evidence_terms(m.span)),
                        m.point.quality,
                        rank_of[id(m.span)],
                        abs(m.delta_s - ideal),
                    ),
                )
                apply_move(best)
                continue
            if not grow:
                droppable = sorted(
                    (s for s in order if s.length_s <= hi_d + _EPS_S), key=self._holds_priority
                )  # a facet's only clip goes last
                if droppable:
                    self.spans.remove(droppable[0])
                    continue
            # no single cut lands in range: take the biggest step with the best cut quality and
            # go on from there
            partial = [m for m in moves if m.delta_s <= hi_d + _EPS_S and m.point.quality < 2]
            if not partial:  # last resort: a cut between words
                partial = [m for m in moves if m.delta_s <= hi_d + _EPS_S]
            if not partial:
                return
            apply_move(
                max(
                    partial,
                    key=lambda m: (
                        0 if grow else -self._words_lost(m, self.keywords),
                        -m.point.quality,
                        0 if grow else -self._words_lost(m, _evidence_terms(m.span)),
                        m.delta_s,
                    ),
                )
            )

    def _words_lost(self, move: Move, terms: set[str]) -> int:
        """How many spoken words holding ``terms`` (the topic's, or the matched speech's) a
        shrinking move cuts out of its span: shrink the part that does not say what was asked
        ("…battery lasts 18 hours" stays, the silence after it goes)."""
        if not terms:
            return 0
        span, cut_s = move.span, move.point.time_s
        if move.side == "start":
            lo, hi = span.start_s, cut_s
        else:
            lo, hi = cut_s, span.end_s
        return sum(
            1
            for ws, we, text in self.snappers[span.video_id].index.words
            if lo - _EPS_S <= ws and we <= hi + _EPS_S and terms.intersection(tokenize(text))
        )

    def _holds_priority(self, span: Span) -> bool:
        return any(c.candidate_id in self.priority_ids for _, c in span.members)

    # ---- output ----------------------------------------------------------------------------
    def result(self) -> SolveResult:
        p = self.p
        spans = list(self.spans)
        if p.order == "relevance":
            spans.sort(key=lambda s: (s.rank, s.start_s))
        else:
            titles = {c.video_id: c.video_title for c in self.ranked}
            spans.sort(key=lambda s: (titles.get(s.video_id, "").lower(), s.video_id, s.start_s))
        clips = []
        for s in spans:
            # primary first: a locked member (its clip id must survive), else the best ranked
            members = sorted(
                s.members, key=lambda m: (m[1].candidate_id not in self.locked_ids, m[0])
            )
            clips.append(
                SolvedClip(
                    video_id=s.video_id,
                    start_s=round(s.start_s, 3),
                    end_s=round(s.end_s, 3),
                    candidate_ids=[c.candidate_id for _, c in members],
                    rank=members[0][0],
                    score=max(c.score for _, c in members),
                    locked=s.locked,
                )
            )
        total = round(sum(c.end_s - c.start_s for c in clips), 3)
        return SolveResult(clips=clips, total_s=total, warnings=list(self.warnings))


def solve(
    ranked: list[Candidate],
    boundaries: dict[str, BoundaryIndex],
    params: SolverParams,
    *,
    locked_ids: set[str] | None = None,
    topic: str = "",
    priority_ids: set[str] | None = None,
) -> SolveResult:
    """Choose and cut clips from ``ranked`` (best first) to fill ``params.target_duration_s``.

    ``locked_ids`` are candidate ids that must be kept. ``topic`` words steer which part of a
    long candidate is kept. ``priority_ids`` (the best candidate of each facet of the prompt) are
    taken first, before the budget or a stronger candidate can crowd them out, and dropped last.
    """
    locked = set(locked_ids or ())
    keywords = set(tokenize(topic))  # stemmed content words: no "the" or "and"
    solver = _Solver(ranked, boundaries, params, locked, keywords, priority_ids)
    if not ranked:
        return SolveResult(warnings=["no relevant material found"])
    solver.select()
    solver.merge_close()
    solver.adjust()
    solver.merge_close()
    result = solver.result()
    if result.total_s < params.low_s - _EPS_S and not params.take_all:
        if len(result.clips) >= params.max_clips:
            result.warnings.append(
                f"max_clips={params.max_clips} reached at {result.total_s:.1f} s "
                f"(target {params.target_duration_s:.1f} s)"
            )
        else:
            result.warnings.append(
                f"only {result.total_s:.1f} s of relevant material "
                f"(target {params.target_duration_s:.1f} s)"
            )
    elif result.total_s > params.high_s + _EPS_S:
        why = "locked clips" if any(c.locked for c in result.clips) else "clips"
        result.warnings.append(
            f"{why} total {result.total_s:.1f} s, over the target "
            f"{params.target_duration_s:.1f} s (no cut point fits the budget)"
        )
    if len(result.clips) > params.max_clips:
        result.warnings.append(f"locked clips exceed max_clips={params.max_clips}")
    return result


def _evidence_terms(span: Span) -> set[str]:
    """Content words of the speech that made the span's candidates match."""
    return {t for _, c in span.members for t in tokenize(c.transcript)}
