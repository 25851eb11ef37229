"""Mutable clip spans used by the budget solver, and the single-cut moves that resize them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from scenespark.highlights.candidates import Candidate
from scenespark.highlights.snapping import CutPoint


@dataclass
class Span:
    video_id: str
    start_s: float
    end_s: float
    lo_s: float  # earliest start allowed when extending (shot bounds)
    hi_s: float  # latest end allowed when extending
    members: list[tuple[int, Candidate]] = field(default_factory=list)
    locked: bool = False

    @property
    def length_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def rank(self) -> int:
        return min(r for r, _ in self.members)


@dataclass(frozen=True)
class Move:
    span: Span
    side: Literal["start", "end"]
    point: CutPoint
    delta_s: float  # change of the span's length


def pick_cut(options: list[CutPoint], *, latest: bool) -> CutPoint:
    """Best-quality cut point, then the latest (or earliest) one."""
    best_quality = min(o.quality for o in options)
    good = [o for o in options if o.quality == best_quality]
    return good[-1] if latest else good[0]


def apply_move(move: Move) -> None:
    if move.side == "end":
        move.span.end_s = move.point.time_s
    else:
        move.span.start_s = move.point.time_s
    move.span.lo_s = min(move.span.lo_s, move.span.start_s)
    move.span.hi_s = max(move.span.hi_s, move.span.end_s)


def absorb(into: Span, other: Span) -> None:
    into.start_s = min(into.start_s, other.start_s)
    into.end_s = max(into.end_s, other.end_s)
    into.lo_s = min(into.lo_s, other.lo_s)
    into.hi_s = max(into.hi_s, other.hi_s)
    into.members.extend(other.members)
    into.locked = into.locked or other.locked
