"""One decoding pass over a video: shots, visual samples and OCR candidate frames.

``scan_video`` decodes every frame once (needed for frame-accurate cuts) and, in the same pass,

* detects hard cuts on tiny frames (:mod:`scenespark.media.shots`),
* picks **visual samples**: one keyframe per shot (a little after the cut) plus a frame at least
  every ``frame_interval_s`` inside a shot, skipping near-duplicates of samples already taken in
  that shot (64-bit pHash, Hamming distance <= ``dedup_distance``),
* picks **OCR candidates**: the keyframe of each shot, then a frame every ``ocr_interval_s`` kept
  only when its picture changed against the last kept candidate where text would show: the
  density of strong edges per cell (a caption appearing or disappearing on a still picture
  counts; a slow zoom or pan does not), or the ink of cells holding strong edges (text changing
  in place, e.g. a slide number or a counter, leaves the edge density alike but not the
  pixels). Each OCR sample says from when to when its text
  holds: ``start_s`` (shot start for the first one of a shot) to ``end_s`` (the next kept
  candidate, or the shot end).

Memory stays bounded whatever the video length: samples are handed to the ``on_visual`` /
``on_ocr`` callbacks as soon as they are final and are then dropped by the scanner; only when a
callback is not given are the samples collected in the result (fine for short videos and tests).
The look-ahead buffer holds about ``max(0.6 s, min_shot_s)`` of decoded frames.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from scenespark.jobs.progress import ProgressFn
from scenespark.media.frames import DecodedFrame, FrameReader, get_frame_reader
from scenespark.media.imagehash import hamming, phash
from scenespark.media.shots import ShotDetector, ShotParams, shots_from_cuts
from scenespark.types import Shot

CHANGE_SIDE = 320  # grey picture size used for OCR change detection
CHANGE_CELL = 16  # cell size (pixels of that picture)


@dataclass
class VisualSample:
    time_s: float
    shot_id: int
    image: np.ndarray  # RGB uint8, longest side <= max_side
    phash: int
    reason: Literal["keyframe", "interval"]


@dataclass
class OcrSample:
    time_s: float  # time of the frame
    shot_id: int
    image: np.ndarray  # RGB uint8, longest side <= ocr_max_side
    start_s: float  # the frame's content holds from here ...
    end_s: float  # ... to here (next kept candidate or end of shot)


@dataclass
class ScanResult:
    path: str
    reader: str
    duration_s: float
    fps: float
    frames_decoded: int
    shots: list[Shot]
    cuts_s: list[float]
    visual_count: int = 0
    ocr_count: int = 0
    ocr_candidates: int = 0
    elapsed_s: float = 0.0
    visual: list[VisualSample] = field(default_factory=list)  # only without on_visual
    ocr: list[OcrSample] = field(default_factory=list)  # only without on_ocr


def edge_density(
    grey: np.ndarray, *, cell: int = CHANGE_CELL, edge_level: float = 120.0
) -> np.ndarray:
    """Share of strong-edge pixels per ``cell`` x ``cell`` block of a grey picture.

    Text is dense, high-contrast edges: captions appearing or disappearing change the edge
    density of their cells a lot, while a slow zoom or pan barely moves it.
    """
    import cv2

    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    strong = (cv2.magnitude(gx, gy) > edge_level).astype(np.float32)
    h = (grey.shape[0] // cell) * cell
    w = (grey.shape[1] // cell) * cell
    return strong[:h, :w].reshape(h // cell, cell, w // cell, cell).mean(axis=(1, 3))


def change_score(a: np.ndarray, b: np.ndarray, *, cell_change: float = 0.12) -> float:
    """Share of cells whose edge density changed by more than ``cell_change`` (0..1)."""
    if a.shape != b.shape:
        return 1.0
    return float((np.abs(a - b) > cell_change).mean())


def ink_changed_cells(
    grey_a: np.ndarray,
    grey_b: np.ndarray,
    density_a: np.ndarray,
    density_b: np.ndarray,
    *,
    cell: int = CHANGE_CELL,
    ink_level: float = 8.0,
    edge_cell: float = 0.05,
) -> int:
    """Cells holding strong edges (text-like, in either picture) whose mean grey level moved by
    more than ``ink_level``: text rewritten in place. Compression noise on a still picture moves
    a cell's mean by well under one level; one rewritten digit moves it by tens."""
    if grey_a.shape != grey_b.shape or density_a.shape != density_b.shape:
        return density_b.size
    rows, cols = density_a.shape
    h, w = rows * cell, cols * cell
    diff = np.abs(grey_a[:h, :w].astype(np.int16) - grey_b[:h, :w].astype(np.int16))
    moved = diff.reshape(rows, cell, cols, cell).mean(axis=(1, 3)) > ink_level
    edged = (density_a >= edge_cell) | (density_b >= edge_cell)
    return int((moved & edged).sum())


@dataclass
class _ShotState:
    shot_id: int
    start_s: float
    key_due_s: float
    key_taken: bool = False
    keyframe_s: float | None = None
    hashes: list[int] = field(default_factory=list)
    last_visual_s: float = -1e9
    last_frame: DecodedFrame | None = None


class _Scanner:
    def __init__(
        self,
        *,
        fps: float,
        frame_interval_s: float,
        ocr_interval_s: float,
        max_side: int,
        ocr_max_side: int,
        min_shot_s: float,
        dedup_distance: int,
        ocr_change: float,
        ocr_max_interval_s: float,
        on_visual: Callable[[VisualSample], None],
        on_ocr: Callable[[OcrSample], None],
    ) -> None:
        self.fps = fps
        self.frame_interval_s = frame_interval_s
        self.ocr_interval_s = ocr_interval_s
        self.max_side = max_side
        self.ocr_max_side = ocr_max_side
        self.dedup_distance = dedup_distance
        self.ocr_change = ocr_change
        self.ocr_max_interval_s = max(ocr_max_interval_s, ocr_interval_s)
        self.ocr_streak = 0
        self.on_visual = on_visual
        self.on_ocr = on_ocr
        self.key_delay_s = max(0.0, min(0.5, min_shot_s - 1.0 / fps))
        self.shot: _ShotState | None = None
        self.keyframes: list[float] = []
        self.next_ocr_s = 0.0
        self.ocr_pending: OcrSample | None = None
        self.ocr_ref: np.ndarray | None = None
        self.ocr_ref_grey: np.ndarray | None = None
        self.visual_count = 0
        self.ocr_count = 0
        self.ocr_candidates = 0

    # -- shots ------------------------------------------------------------------------------
    def process(self, frame: DecodedFrame, is_cut: bool) -> None:
        if self.shot is None or is_cut:
            self._end_shot(frame.time_s)
            shot_id = 0 if self.shot is None else self.shot.shot_id + 1
            self.shot = _ShotState(
                shot_id=shot_id, start_s=frame.time_s, key_due_s=frame.time_s + self.key_delay_s
            )
        shot = self.shot
        if shot.last_frame is not None and shot.last_frame is not frame:
            shot.last_frame.release()
        shot.last_frame = frame
        if not shot.key_taken:
            if frame.time_s + 1e-6 >= shot.key_due_s:
                self._keyframe(frame)
            return
        if frame.time_s - shot.last_visual_s + 1e-6 >= self.frame_interval_s:
            self._interval_sample(frame)
        if frame.time_s + 1e-6 >= self.next_ocr_s:
            self._ocr_candidate(frame)

    def _end_shot(self, end_s: float) -> None:
        shot = self.shot
        if shot is None:
            return
        if not shot.key_taken and shot.last_frame is not None:
            self._keyframe(shot.last_frame)  # shot ended before its keyframe time
        self._flush_ocr(end_s)
        if shot.last_frame is not None:
            shot.last_frame.release()
            shot.last_frame = None

    def finish(self, end_s: float) -> None:
        self._end_shot(end_s)

    # -- visual -----------------------------------------------------------------------------
    def _keyframe(self, frame: DecodedFrame) -> None:
        shot = self.shot
        assert shot is not None
        image = frame.image(self.max_side)
        digest = phash(image)
        shot.key_taken = True
        shot.keyframe_s = frame.time_s
        self.keyframes.append(frame.time_s)
        shot.hashes.append(digest)
        shot.last_visual_s = frame.time_s
        self.visual_count += 1
        self.on_visual(VisualSample(frame.time_s, shot.shot_id, image, digest, "keyframe"))
        # The keyframe is always an OCR candidate, and always kept: a new shot gets its own OCR.
        ocr_image = image if self.ocr_max_side == self.max_side else frame.image(self.ocr_max_side)
        self._keep_ocr(frame, ocr_image, start_s=shot.start_s)

    def _interval_sample(self, frame: DecodedFrame) -> None:
        shot = self.shot
        assert shot is not None
        shot.last_visual_s = frame.time_s
        digest = phash(frame.gray(128))
        if any(hamming(digest, h) <= self.dedup_distance for h in shot.hashes):
            return
        shot.hashes.append(digest)
        self.visual_count += 1
        self.on_visual(
            VisualSample(frame.time_s, shot.shot_id, frame.image(self.max_side), digest, "interval")
        )

    # -- OCR --------------------------------------------------------------------------------
    def _ocr_candidate(self, frame: DecodedFrame) -> None:
        self.ocr_candidates += 1
        self.next_ocr_s = frame.time_s + self.ocr_interval_s
        grey = frame.gray(CHANGE_SIDE)
        density = edge_density(grey)
        if (
            self.ocr_ref is not None
            and self.ocr_ref_grey is not None
            and change_score(self.ocr_ref, density) < self.ocr_change
            and ink_changed_cells(self.ocr_ref_grey, grey, self.ocr_ref, density) == 0
        ):
            self.ocr_streak = 0  # a still picture again: the next change is read at once
            self.next_ocr_s = frame.time_s + self.ocr_interval_s
            return
        # Footage that changes at every candidate (motion, not a caption appearing on a still
        # picture) is re-read ever less often: the interval doubles up to ocr_max_interval_s.
        self.ocr_streak += 1
        self._keep_ocr(
            frame,
            frame.image(self.ocr_max_side),
            start_s=frame.time_s,
            density=density,
            grey=grey,
        )

    def _keep_ocr(
        self,
        frame: DecodedFrame,
        image: np.ndarray,
        *,
        start_s: float,
        density: np.ndarray | None = None,
        grey: np.ndarray | None = None,
    ) -> None:
        shot = self.shot
        assert shot is not None
        if density is None:
            self.ocr_candidates += 1
            self.ocr_streak = 0  # a new shot: read it, then look again soon
        self._flush_ocr(frame.time_s)
        self.ocr_ref_grey = grey if grey is not None else frame.gray(CHANGE_SIDE)
        self.ocr_ref = density if density is not None else edge_density(self.ocr_ref_grey)
        backoff = 2 ** max(0, self.ocr_streak - 1)
        self.next_ocr_s = frame.time_s + min(self.ocr_max_interval_s, self.ocr_interval_s * backoff)
        self.ocr_pending = OcrSample(
            frame.time_s, shot.shot_id, image, start_s=start_s, end_s=frame.time_s
        )

    def _flush_ocr(self, end_s: float) -> None:
        pending = self.ocr_pending
        if pending is None:
            return
        pending.end_s = max(pending.time_s, end_s)
        self.ocr_pending = None
        self.ocr_count += 1
        self.on_ocr(pending)


def scan_video(
    path: Path,
    *,
    reader: str | FrameReader = "pyav",
    frame_interval_s: float = 2.0,
    ocr_interval_s: float = 1.0,
    max_side: int = 640,
    ocr_max_side: int = 640,
    min_shot_s: float = 0.5,
    dedup_distance: int = 6,
    ocr_change: float = 0.008,
    ocr_max_interval_s: float = 4.0,
    shot_params: ShotParams | None = None,
    on_visual: Callable[[VisualSample], None] | None = None,
    on_ocr: Callable[[OcrSample], None] | None = None,
    on_progress: ProgressFn | None = None,
    fps: float | None = None,
    duration_s: float | None = None,
) -> ScanResult:
    """Decode ``path`` once and return its shots; samples go to the callbacks (see module doc).

    ``ocr_change`` is the share of 16x16 cells of a 320-pixel grey picture whose edge density must
    change for an OCR candidate to be kept (0.008 = 2 of ~220 cells). ``fps``/``duration_s`` default to ffprobe's values.
    """
    from scenespark.media.probe import quick_probe

    started = time.perf_counter()
    path = Path(path)
    if fps is None or duration_s is None:
        probed_fps, probed_duration_s = quick_probe(path)
        fps = fps or probed_fps or 25.0
        duration_s = duration_s if duration_s is not None else probed_duration_s
    impl = get_frame_reader(reader) if isinstance(reader, str) else reader
    params = shot_params or ShotParams(min_shot_s=min_shot_s)
    result = ScanResult(
        path=str(path),
        reader=impl.name,
        duration_s=duration_s or 0.0,
        fps=fps,
        frames_decoded=0,
        shots=[],
        cuts_s=[],
    )
    scanner = _Scanner(
        fps=fps,
        frame_interval_s=frame_interval_s,
        ocr_interval_s=ocr_interval_s,
        max_side=max_side,
        ocr_max_side=ocr_max_side,
        min_shot_s=params.min_shot_s,
        dedup_distance=dedup_distance,
        ocr_change=ocr_change,
        ocr_max_interval_s=ocr_max_interval_s,
        on_visual=on_visual or result.visual.append,
        on_ocr=on_ocr or result.ocr.append,
    )
    detector = ShotDetector(fps, params)
    cuts: set[float] = set()
    buffer: deque[DecodedFrame] = deque()
    last_time_s = 0.0
    next_progress_s = 0.0

    def drain(upto_s: float | None) -> None:
        while buffer and (upto_s is None or buffer[0].time_s <= upto_s + 1e-9):
            frame = buffer.popleft()
            scanner.process(frame, frame.time_s in cuts)

    frames = impl.iter_frames(path, every_s=None, decode_max_side=max(max_side, ocr_max_side))
    for frame in frames:
        result.frames_decoded += 1
        last_time_s = frame.time_s
        buffer.append(frame)
        cuts.update(detector.push(frame.time_s, frame.small))
        if detector.judged_time_s is not None:
            drain(detector.judged_time_s)
        if on_progress is not None and duration_s and frame.time_s >= next_progress_s:
            on_progress(min(1.0, frame.time_s / duration_s), "scanning frames")
            next_progress_s = frame.time_s + 1.0
    cuts.update(detector.finish())
    drain(None)
    end_s = max(duration_s or 0.0, last_time_s + 1.0 / fps)
    if not duration_s or abs(end_s - duration_s) > 2.0:
        end_s = last_time_s + 1.0 / fps  # header duration is off: trust the frames
    scanner.finish(end_s)
    result.duration_s = end_s
    result.cuts_s = sorted(cuts)
    # Cuts already respect min_shot_s; keep every one so sample shot ids stay valid.
    result.shots = shots_from_cuts(
        result.cuts_s, end_s, min_shot_s=0.0, keyframe_s=scanner.keyframes
    )
    result.visual_count = scanner.visual_count
    result.ocr_count = scanner.ocr_count
    result.ocr_candidates = scanner.ocr_candidates
    result.elapsed_s = time.perf_counter() - started
    if on_progress is not None:
        on_progress(1.0, "scanning frames")
    return result
