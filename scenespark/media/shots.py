"""Streaming shot-boundary (hard cut) detection on tiny RGB frames.

Every decoded frame is reduced to a tiny RGB image (e.g. 64x36) by the frame reader. For each
pair of consecutive frames we compute a change score in [0, 1] that mixes

* the L1 distance of HSV histograms (hue weighted by saturation; robust to motion), and
* the mean absolute difference of the grey images (catches cuts between similar palettes).

A frame starts a new shot when its score is (1) above an absolute floor, (2) far above the local
level of the scores around it (the median of a window before *and* after it, so it adapts to
busy or calm footage: a slow zoom, a pan or a fade changes a little on every frame and never
stands out), (3) the maximum of its immediate neighbourhood, and (4) not a flash: the frame a few
frames later must still differ from the frame before the candidate. Shots shorter than
``min_shot_s`` are not created. The detector has a fixed look-ahead of ``window`` frames, so it
needs O(window) memory whatever the length of the video.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from scenespark.types import Shot

HUE_BINS = 24
SAT_BINS = 8
VAL_BINS = 8


@dataclass(frozen=True)
class ShotParams:
    """Knobs of the detector (generic defaults, not fitted to any particular video)."""

    min_shot_s: float = 0.5
    window_s: float = 0.6  # look-around on each side for the local level
    ratio: float = 4.0  # score must exceed ratio x local median
    min_score: float = 0.10  # absolute floor on the combined score
    strong_score: float = 0.45  # above this only the flash check applies
    flash_frames: int = 3  # a frame this many frames later must still differ
    dominance: float = 2.0  # a later change this much stronger within min_shot_s wins


def frame_signature(small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(normalised HSV histogram, grey image as float32) of a tiny RGB frame."""
    import cv2

    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)  # H in [0, 180), S, V in [0, 256)
    h = hsv[..., 0].ravel().astype(np.int32) * HUE_BINS // 180
    s = hsv[..., 1].ravel().astype(np.float32)
    v = hsv[..., 2].ravel().astype(np.int32) * VAL_BINS // 256
    weight = s / 255.0
    hue_hist = np.bincount(h, weights=weight, minlength=HUE_BINS)[:HUE_BINS]
    sat_hist = np.bincount(s.astype(np.int32) * SAT_BINS // 256, minlength=SAT_BINS)[:SAT_BINS]
    val_hist = np.bincount(v, minlength=VAL_BINS)[:VAL_BINS]
    n = float(h.size)
    hist = np.concatenate([hue_hist / n, sat_hist / n, val_hist / n]).astype(np.float32)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return hist, grey


def signature_distance(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> float:
    """Change score in [0, 1] between two frame signatures."""
    hist_a, grey_a = a
    hist_b, grey_b = b
    # Three histograms each summing to <= 1: L1 / 2 per histogram, averaged.
    hist_d = float(np.abs(hist_a - hist_b).sum()) / 6.0
    pix_d = float(np.abs(grey_a - grey_b).mean()) / 255.0
    return min(1.0, 0.5 * hist_d + 0.5 * min(1.0, 3.0 * pix_d))


class ShotDetector:
    """Feed frames in order with :meth:`push`; get cut times back (delayed by the look-ahead).

    Cuts are the time of the first frame of the new shot. Call :meth:`finish` at the end.
    """

    def __init__(self, fps: float, params: ShotParams | None = None) -> None:
        self.params = params or ShotParams()
        fps = fps if fps > 0 else 25.0
        self.window = max(3, round(max(self.params.window_s, self.params.min_shot_s) * fps))
        self.min_shot_frames = max(2, round(self.params.min_shot_s * fps))
        self.flash_frames = max(1, self.params.flash_frames)
        self._sigs: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=2 * self.window + 2)
        self._scores: deque[float] = deque(maxlen=2 * self.window + 1)
        self._times: deque[float] = deque(maxlen=2 * self.window + 1)
        self._last_cut_s = 0.0
        self._first_time_s: float | None = None
        self.scores_seen = 0
        self.judged_time_s: float | None = None  # every frame up to this time has been judged

    def push(self, time_s: float, small: np.ndarray) -> list[float]:
        sig = frame_signature(small)
        if self._first_time_s is None:
            self._first_time_s = time_s
            self._last_cut_s = time_s
            self.judged_time_s = time_s
            self._sigs.append(sig)
            return []
        score = signature_distance(self._sigs[-1], sig)
        self._sigs.append(sig)
        self._scores.append(score)
        self._times.append(time_s)
        self.scores_seen += 1
        return self._decide()

    def finish(self) -> list[float]:
        """Judge the last frames (which had no full look-ahead)."""
        cuts: list[float] = []
        n = len(self._scores)
        for cand in range(max(0, n - self.window), n):
            if self._judge(cand):
                cuts.append(self._times[cand])
            self.judged_time_s = self._times[cand]
        self._scores.clear()
        self._times.clear()
        return cuts

    # ------------------------------------------------------------------------------------
    def _decide(self) -> list[float]:
        """Judge the score ``window`` positions before the newest one."""
        cand = len(self._scores) - 1 - self.window
        if cand < 0:
            return []
        self.judged_time_s = self._times[cand]
        if not self._judge(cand):
            return []
        return [self._times[cand]]

    def _judge(self, cand: int) -> bool:
        score = self._scores[cand]
        time_s = self._times[cand]
        if not self._is_cut(cand, score, time_s):
            return False
        self._last_cut_s = time_s
        return True

    def _is_cut(self, cand: int, score: float, time_s: float) -> bool:
        p = self.params
        if score < p.min_score:
            return False
        if time_s - self._last_cut_s < p.min_shot_s - 1e-6:
            return False
        scores = list(self._scores)
        lo = max(0, cand - self.window)
        hi = min(len(scores), cand + self.window + 1)
        neighbours = scores[lo:cand] + scores[cand + 1 : hi]
        # No shot shorter than min_shot_s: of several changes that close, the earliest wins
        # unless a later one is far stronger (a dominant change), or an earlier one was stronger.
        reach = self.min_shot_frames
        before = scores[max(0, cand - reach) : cand]
        after = scores[cand + 1 : cand + reach + 1]
        if (before and score < max(before)) or (after and max(after) > p.dominance * score):
            return False
        if score < p.strong_score:
            level = float(np.median(neighbours)) if neighbours else 0.0
            if score < p.ratio * max(level, 0.01):
                return False
        return not self._is_flash(cand)

    def _is_flash(self, cand: int) -> bool:
        """The picture returns to what it was before the candidate within a few frames."""
        sigs = list(self._sigs)
        # sigs[-1] pairs with scores[-1]; the frame before candidate `cand` is at offset:
        offset = len(sigs) - len(self._scores)  # index in sigs of the frame of scores[0]
        before = cand + offset - 1
        after = cand + offset + self.flash_frames
        if before < 0 or after >= len(sigs):
            return False
        back = signature_distance(sigs[before], sigs[after])
        return back < 0.3 * self._scores[cand]


def shots_from_cuts(
    cuts_s: list[float],
    duration_s: float,
    *,
    min_shot_s: float = 0.5,
    keyframe_s: list[float] | None = None,
) -> list[Shot]:
    """Contiguous shots covering [0, duration_s] from sorted cut times.

    A last shot shorter than ``min_shot_s`` is merged into the previous one. ``keyframe_s`` gives
    the keyframe time per shot when known, else the keyframe is a bit after the shot start.
    """
    bounds = [0.0]
    for cut in sorted(cuts_s):
        if cut - bounds[-1] >= min_shot_s - 1e-6 and duration_s - cut >= min_shot_s - 1e-6:
            bounds.append(float(cut))
    bounds.append(max(float(duration_s), bounds[-1]))
    shots: list[Shot] = []
    for i in range(len(bounds) - 1):
        start, end = bounds[i], bounds[i + 1]
        key = start + min(0.5, (end - start) / 3.0)
        if keyframe_s and i < len(keyframe_s) and start <= keyframe_s[i] <= end:
            key = keyframe_s[i]
        shots.append(
            Shot(shot_id=i, start_s=round(start, 4), end_s=round(end, 4), keyframe_s=round(key, 4))
        )
    return shots
