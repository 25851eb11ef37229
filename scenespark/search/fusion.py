"""Turning scored evidence segments into fused, snapped time spans (docs/architecture.md §6).

Pure functions on plain data, so the rules are unit-testable without models or stores:

1. each piece of evidence (a segment with a calibrated 0..1 score) gets a time span: speech and
   OCR keep their own span; a visual frame stands for its shot when the shot is short, else for a
   window around the frame;
2. spans are seeded strongest first; weaker evidence joins a span it overlaps, so one strong
   sentence plus the frames and on-screen text around it become one hit;
3. per span, each modality contributes its best score; the span scores as its best modality,
   raised in proportion when other modalities agree (weak noise does not add up);
4. span edges snap to nearby shot cuts.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from scenespark.types import Modality, Segment, Shot

MAX_VISUAL_SHOT_S = 30.0  # a visual match stands for its whole shot when the shot is this short
VISUAL_WINDOW_S = 3.0  # else: this much around the matching frame
JOIN_GAP_S = 0.3  # evidence closer than this to a span joins it
SNAP_TO_CUT_S = 0.6  # span edges this close to a shot cut move onto it
MIN_SHARED_FRACTION = 0.3  # of the shorter span, to count as the same moment


@dataclass(frozen=True)
class ScoredEvidence:
    segment_id: str
    segment: Segment
    score: float  # calibrated 0..1
    signal: str  # "dense", "keyword", "clip" (the strongest signal for this segment)


@dataclass
class Span:
    video_id: str
    start_s: float
    end_s: float
    best: float = 0.0
    evidence: list[ScoredEvidence] = field(default_factory=list)

    def modality_scores(self) -> dict[str, float]:
        scores: dict[str, float] = {}
        for item in self.evidence:
            key = item.segment.modality.value
            scores[key] = max(scores.get(key, 0.0), item.score)
        return scores

    def fused_score(self) -> float:
        """The best modality's score, raised when a second modality agrees.

        The bonus is scaled by the best score itself, so several weak, unrelated signals (the
        usual noise of a query that matches nothing) do not add up to a confident hit, while two
        strong ones (the narrator says it *and* it is on screen) approach certainty.
        """
        scores = sorted(
            (min(max(v, 0.0), 1.0) for v in self.modality_scores().values()), reverse=True
        )
        if not scores:
            return 0.0
        best = scores[0]
        agreement = 1.0
        for value in scores[1:]:
            agreement *= 1.0 - value
        return round(best + (1.0 - best) * (1.0 - agreement) * best, 4)

    def shot_ids(self) -> list[int]:
        return sorted({e.segment.shot_id for e in self.evidence if e.segment.shot_id >= 0})


def calibrate(similarity: float, low: float, high: float) -> float:
    """Map a raw similarity onto 0..1 linearly between ``low`` (=0) and ``high`` (=1)."""
    if high <= low:
        return 0.0
    return min(1.0, max(0.0, (similarity - low) / (high - low)))


def evidence_span(segment: Segment, shots: list[Shot]) -> tuple[float, float]:
    if segment.modality != Modality.VISUAL:
        return segment.start_s, max(segment.end_s, segment.start_s + 0.04)
    frame_s = segment.frame_time_s if segment.frame_time_s is not None else segment.start_s
    shot = _shot_at(shots, segment.shot_id, frame_s)
    if shot is not None and shot.duration_s <= MAX_VISUAL_SHOT_S:
        return shot.start_s, shot.end_s
    lo = frame_s - VISUAL_WINDOW_S
    hi = frame_s + VISUAL_WINDOW_S
    if shot is not None:
        lo, hi = max(lo, shot.start_s), min(hi, shot.end_s)
    return max(0.0, lo), hi


def _shot_at(shots: list[Shot], shot_id: int, time_s: float) -> Shot | None:
    if 0 <= shot_id < len(shots) and shots[shot_id].shot_id == shot_id:
        return shots[shot_id]
    for shot in shots:
        if shot.start_s <= time_s < shot.end_s:
            return shot
    return None


def build_spans(
    evidence: list[ScoredEvidence],
    shots_by_video: dict[str, list[Shot]],
    *,
    join_floor: float,
) -> list[Span]:
    """Group evidence into spans, strongest first. Evidence below ``join_floor`` is ignored."""
    ordered = sorted(
        (e for e in evidence if e.score >= join_floor),
        key=lambda e: (-e.score, e.segment.video_id, e.segment.start_s),
    )
    spans_by_video: dict[str, list[Span]] = {}
    for item in ordered:
        video_id = item.segment.video_id
        start_s, end_s = evidence_span(item.segment, shots_by_video.get(video_id, []))
        spans = spans_by_video.setdefault(video_id, [])
        target = _joinable(spans, start_s, end_s, item.score)
        if target is None:
            spans.append(Span(video_id, start_s, end_s, item.score, [item]))
            continue
        target.start_s = min(target.start_s, start_s)
        target.end_s = max(target.end_s, end_s)
        target.evidence.append(item)
        _absorb_overlaps(spans, target)
    result = [span for spans in spans_by_video.values() for span in spans]
    cuts = {video_id: shot_cuts(shots_by_video.get(video_id, [])) for video_id in spans_by_video}
    for span in result:
        snap_to(span, cuts[span.video_id])
    return result


def _joinable(spans: list[Span], start_s: float, end_s: float, score: float) -> Span | None:
    best: Span | None = None
    best_overlap = -1.0
    lo, hi = start_s - JOIN_GAP_S - 1e-6, end_s + JOIN_GAP_S + 1e-6  # cheap test first: a
    for span in spans:  # span this far away can never belong (a long video has many spans)
        if span.end_s < lo or span.start_s > hi:
            continue
        if not _belong_together(span, start_s, end_s, score):
            continue
        overlap = min(span.end_s, end_s) - max(span.start_s, start_s)
        if overlap > best_overlap:
            best, best_overlap = span, overlap
    return best


def _belong_together(span: Span, start_s: float, end_s: float, score: float) -> bool:
    """Evidence joins a span when they share a real part of their time (not a sliver where a
    sentence runs over a cut), or when equally strong evidence directly follows it."""
    overlap = min(span.end_s, end_s) - max(span.start_s, start_s)
    shorter = max(0.04, min(span.end_s - span.start_s, end_s - start_s))
    if overlap > 0:
        return overlap >= MIN_SHARED_FRACTION * shorter
    return overlap >= -JOIN_GAP_S and score >= 0.5 * span.best


def _absorb_overlaps(spans: list[Span], grown: Span) -> None:
    for other in list(spans):
        if other is grown or other.end_s <= grown.start_s or other.start_s >= grown.end_s:
            continue  # no shared time: never absorbed
        if _belong_together(grown, other.start_s, other.end_s, grown.best) and (
            min(other.end_s, grown.end_s) - max(other.start_s, grown.start_s) > 0
        ):
            grown.start_s = min(grown.start_s, other.start_s)
            grown.end_s = max(grown.end_s, other.end_s)
            grown.evidence.extend(other.evidence)
            grown.best = max(grown.best, other.best)
            spans.remove(other)


def snap_to_cuts(span: Span, shots: list[Shot]) -> None:
    """Move span edges onto shot cuts within SNAP_TO_CUT_S (never past the evidence core)."""
    snap_to(span, shot_cuts(shots))


def shot_cuts(shots: list[Shot]) -> list[float]:
    """The sorted cut times of a video (every shot start and the last shot's end)."""
    if not shots:
        return []
    return sorted({s.start_s for s in shots} | {shots[-1].end_s})


def snap_to(span: Span, cuts: list[float]) -> None:
    """:func:`snap_to_cuts` with the video's :func:`shot_cuts` computed once: the start moves
    to the earliest cut within reach, the end to the latest (bisect, not a scan of every cut of
    a long video for every span)."""
    if not cuts:
        return
    reach = SNAP_TO_CUT_S + 1e-6  # the exact test below decides; this only bounds the scan
    i = bisect.bisect_left(cuts, span.start_s - reach)
    while i < len(cuts) and cuts[i] <= span.start_s + reach:
        cut = cuts[i]
        if abs(span.start_s - cut) <= SNAP_TO_CUT_S and cut < span.end_s:
            span.start_s = cut
            break
        i += 1
    j = bisect.bisect_right(cuts, span.end_s + reach) - 1
    while j >= 0 and cuts[j] >= span.end_s - reach:
        cut = cuts[j]
        if abs(span.end_s - cut) <= SNAP_TO_CUT_S and cut > span.start_s:
            span.end_s = cut
            break
        j -= 1


def confidence_label(score: float) -> str:
    if score >= 0.75:
        return "high"
    if score >= 0.5:
        return "medium"
    return "low"
