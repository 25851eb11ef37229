"""Which sampled frames are worth sending to a paid describer (a vision LLM), minute by minute.

The scan already keeps distinct frames per shot; across shots the same picture often comes
back (a presenter, a scoreboard). Per minute of video this keeps at most ``max_per_minute``
frames: a frame within ``dedup_distance`` bits (perceptual hash) of a frame already chosen is a
*duplicate* (it reuses that frame's description, for free); the others are chosen keyframes
first (one per shot), then interval frames, spread evenly over the minute; the rest are
*over budget* (not described). The perceptual hash is blind to colour (a red and a blue title
card hash alike), so a duplicate must also have about the same mean colour. Streaming: only one minute of frames is held at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from scenespark.media.imagehash import hamming

T = TypeVar("T")
WINDOW_S = 60.0
Action = Literal["send", "duplicate", "over_budget"]


@dataclass
class BudgetFrame(Generic[T]):
    time_s: float
    phash: int
    keyframe: bool
    payload: T  # whatever the caller attaches (image, thumbnail name...)
    mean_rgb: tuple[float, float, float] = (0.0, 0.0, 0.0)  # the hash is blind to colour


@dataclass
class Decision(Generic[T]):
    frame: BudgetFrame[T]
    action: Action
    same_as_s: float | None = None  # for a duplicate: the time of the frame it repeats


def spread(count: int, keep: int) -> list[int]:
    """``keep`` indexes out of ``range(count)``, evenly spaced (centres of equal slices)."""
    if keep >= count:
        return list(range(count))
    if keep <= 0:
        return []
    return sorted({min(count - 1, int((i + 0.5) * count / keep)) for i in range(keep)})


class FrameBudget(Generic[T]):
    def __init__(
        self, max_per_minute: int, dedup_distance: int = 6, colour_distance: float = 24.0
    ) -> None:
        self.max_per_minute = max_per_minute
        self.dedup_distance = dedup_distance
        self.colour_distance = colour_distance
        self._chosen: list[BudgetFrame[T]] = []  # frames sent so far
        self._window: list[BudgetFrame[T]] = []
        self._window_index = 0

    def offer(self, frame: BudgetFrame[T]) -> list[Decision[T]]:
        """Add a frame (in time order); returns the decisions of a minute that just closed."""
        index = int(frame.time_s // WINDOW_S)
        decided: list[Decision[T]] = []
        if self._window and index != self._window_index:
            decided = self._close()
        self._window_index = index
        self._window.append(frame)
        return decided

    def finish(self) -> list[Decision[T]]:
        return self._close()

    def _near(self, frame: BudgetFrame[T], pool: list[BudgetFrame[T]]) -> float | None:
        """Time of a frame of ``pool`` that looks the same (structure and colour), or None."""
        for other in pool:
            if hamming(frame.phash, other.phash) > self.dedup_distance:
                continue
            colour = max(abs(a - b) for a, b in zip(frame.mean_rgb, other.mean_rgb, strict=True))
            if colour <= self.colour_distance:
                return other.time_s
        return None

    def _close(self) -> list[Decision[T]]:
        frames = sorted(self._window, key=lambda f: f.time_s)
        self._window = []
        decisions: dict[int, Decision[T]] = {}
        unique: list[int] = []
        local: list[BudgetFrame[T]] = []
        for i, frame in enumerate(frames):
            same = self._near(frame, self._chosen)
            if same is None:
                same = self._near(frame, local)
            if same is not None:
                decisions[i] = Decision(frame, "duplicate", same)
            else:
                unique.append(i)
                local.append(frame)
        keys = [i for i in unique if frames[i].keyframe]
        others = [i for i in unique if not frames[i].keyframe]
        budget = self.max_per_minute
        chosen = [keys[j] for j in spread(len(keys), budget)]
        chosen += [others[j] for j in spread(len(others), budget - len(chosen))]
        for i in unique:
            decisions[i] = Decision(frames[i], "send" if i in chosen else "over_budget")
            if i in chosen:
                self._chosen.append(frames[i])
        return [decisions[i] for i in range(len(frames))]
