"""The vision-LLM step of the frame scan (``SCENESPARK_VISUAL_BACKEND=vlm``).

Sampled frames arrive from the decoder in time order. Per minute of video a
:class:`~scenespark.media.frame_budget.FrameBudget` keeps the frames worth describing; those
already described for this model (the catalog's caption ledger) are reused, the others are sent
in batches of ``vision_frames_per_request`` on a small thread pool (network waits overlap the
decoding). Each batch's outcome is written to the ledger at once. Failures are partial: frames
of a failed batch stay ``missing`` (a later ``index rebuild --modality visual`` sends only
those), and after a few failed batches in a row the endpoint is left alone for this video.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from scenespark.engine import Engine
from scenespark.jobs.progress import ProgressFn
from scenespark.media.frame_budget import BudgetFrame, Decision, FrameBudget
from scenespark.media.imagehash import hamming
from scenespark.models.vision_llm import CaptionFrame, FrameCaption, VisionCaptioner
from scenespark.store.catalog.captions import StoredCaption
from scenespark.types import Modality, Segment

log = logging.getLogger(__name__)

FAILED_BATCHES_BEFORE_GIVING_UP = 3
REUSE_DISTANCE = 4  # phash bits: a ledger row of the same time must also look the same


@dataclass
class SampledFrame:
    time_s: float
    shot_id: int
    phash: int
    thumbnail: str  # relative to the data dir


@dataclass
class CaptionStats:
    """What one video's captioning did (for the run's message and the report)."""

    frames_sampled: int = 0
    frames_sent_for: int = 0  # frames chosen for description (new or cached)
    frames_cached: int = 0  # described in an earlier run: not sent again
    frames_duplicate: int = 0  # near-identical to a described frame: caption reused
    frames_over_budget: int = 0
    frames_captioned: int = 0
    frames_missing: int = 0
    requests: int = 0
    images: int = 0
    image_bytes: int = 0
    errors: list[str] = field(default_factory=list)  # distinct endpoint/reply problems
    gave_up: bool = False  # stopped sending after failed requests in a row

    def note(self) -> str:
        text = (
            f"vision: {self.frames_captioned} frames described, {self.frames_missing} missing "
            f"({self.requests} requests, {self.images} images sent, "
            f"{self.frames_cached} reused, {self.frames_duplicate} duplicates, "
            f"{self.frames_over_budget} over the per-minute budget)"
        )
        if self.frames_missing:
            text += f"; error: {self.errors[0] if self.errors else 'unknown'}"
            if self.gave_up:
                text += (
                    f"; stopped sending after {FAILED_BATCHES_BEFORE_GIVING_UP} failed requests "
                    "in a row"
                )
            text += "; `scenespark index rebuild --modality visual` describes the missing frames"
        return text


def caption_key(time_s: float) -> int:
    return round(time_s * 1000)


class FrameCaptioning:
    def __init__(
        self,
        engine: Engine,
        captioner: VisionCaptioner,
        video_id: str,
        progress: ProgressFn,
    ) -> None:
        settings = engine.settings
        self.catalog = engine.catalog
        self.captioner = captioner
        self.model = captioner.info.name
        self.video_id = video_id
        self.progress = progress
        self.batch_size = settings.vision_frames_per_request
        self.frames: list[SampledFrame] = []
        self.stats = CaptionStats()
        self.captions: dict[int, FrameCaption] = {}  # time key -> caption
        self.duplicates: dict[int, int] = {}  # time key -> time key of the described frame
        self.chosen: list[int] = []  # time keys of frames chosen for description
        ledger = self.catalog.captions.of_video(video_id, self.model)
        self._by_time = {row.time_ms: row for row in ledger}
        self._budget: FrameBudget[tuple[SampledFrame, np.ndarray]] = FrameBudget(
            settings.vision_max_frames_per_minute
        )
        self._queue: list[tuple[SampledFrame, np.ndarray]] = []
        self._pool = ThreadPoolExecutor(
            max_workers=settings.vision_concurrency, thread_name_prefix="vision"
        )
        self._slots = threading.BoundedSemaphore(settings.vision_concurrency * 2)
        self._futures: list[Future[None]] = []
        self._lock = threading.Lock()
        self._failed_in_a_row = 0
        self._batches_done = 0
        self._fraction = 0.0

    # ---- input (decoder thread) -----------------------------------------------------------
    def add(self, frame: SampledFrame, image: np.ndarray, *, keyframe: bool) -> None:
        self.frames.append(frame)
        self.stats.frames_sampled += 1
        small = image[:: max(1, image.shape[0] // 32), :: max(1, image.shape[1] // 32)]
        mean = small.reshape(-1, 3).mean(axis=0)
        mean_rgb = (float(mean[0]), float(mean[1]), float(mean[2]))
        decisions = self._budget.offer(
            BudgetFrame(frame.time_s, frame.phash, keyframe, (frame, image), mean_rgb)
        )
        self._apply(decisions)

    def set_fraction(self, fraction: float) -> None:
        self._fraction = fraction

    def finish(self) -> list[Segment]:
        """Send what is left, wait for every batch, write the ledger, return the segments."""
        try:
            self._apply(self._budget.finish())
            self._flush()
            for future in self._futures:
                future.result()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self.catalog.captions.keep_only(self.video_id, self.model, self.chosen)
        self.catalog.captions.add_usage(
            self.video_id,
            self.model,
            self.captioner.host,
            requests=self.stats.requests,
            images=self.stats.images,
            image_bytes=self.stats.image_bytes,
        )
        self.stats.frames_missing = len(self.chosen) - sum(
            1 for key in self.chosen if key in self.captions
        )
        self.stats.frames_captioned = len(self.chosen) - self.stats.frames_missing
        return self._segments()

    def close(self) -> None:
        """Stop sending (a failed scan): queued batches are dropped, running ones finish."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    # ---- decisions -------------------------------------------------------------------------
    def _apply(self, decisions: list[Decision[tuple[SampledFrame, np.ndarray]]]) -> None:
        for decision in decisions:
            frame, image = decision.frame.payload
            key = caption_key(frame.time_s)
            if decision.action == "duplicate" and decision.same_as_s is not None:
                self.duplicates[key] = caption_key(decision.same_as_s)
                self.stats.frames_duplicate += 1
            elif decision.action == "over_budget":
                self.stats.frames_over_budget += 1
            else:
                self.chosen.append(key)
                self.stats.frames_sent_for += 1
                cached = self._cached(key, frame.phash)
                if cached is not None:
                    self.captions[key] = cached
                    self.stats.frames_cached += 1
                    continue
                self._queue.append((frame, image))
                if len(self._queue) >= self.batch_size:
                    self._flush()

    def _cached(self, key: int, phash: int) -> FrameCaption | None:
        """The ledger's caption of this frame (same time, same picture), if described before."""
        row = self._by_time.get(key)
        if row is None or row.status != "captioned" or hamming(row.phash, phash) > REUSE_DISTANCE:
            return None
        return FrameCaption(index=0, caption=row.caption, tags=row.tags)

    def _flush(self) -> None:
        if not self._queue:
            return
        batch = list(self._queue)
        self._queue.clear()
        self._slots.acquire()  # back-pressure: at most 2 x concurrency batches pending

        def run() -> None:
            try:
                self._send(batch)
            finally:
                self._slots.release()

        self._futures.append(self._pool.submit(run))

    def _send(self, batch: list[tuple[SampledFrame, np.ndarray]]) -> None:
        with self._lock:
            give_up = self._failed_in_a_row >= FAILED_BATCHES_BEFORE_GIVING_UP
        captions: dict[int, FrameCaption] = {}
        result_error = ""
        requests = images = image_bytes = 0
        if give_up:
            result_error = "not sent: the vision endpoint failed repeatedly during this video"
        else:
            result = self.captioner.caption(
                [CaptionFrame(frame.time_s, image) for frame, image in batch]
            )
            captions, result_error = result.captions, result.error
            requests, images, image_bytes = result.requests, result.images, result.image_bytes
        rows: list[StoredCaption] = []
        with self._lock:
            self.stats.requests += requests
            self.stats.images += images
            self.stats.image_bytes += image_bytes
            if give_up:
                self.stats.gave_up = True
            elif result_error and result_error not in self.stats.errors:
                self.stats.errors.append(result_error)
            if not give_up:
                self._failed_in_a_row = 0 if captions else self._failed_in_a_row + 1
            for index, (frame, _image) in enumerate(batch):
                key = caption_key(frame.time_s)
                caption = captions.get(index)
                if caption is not None:
                    self.captions[key] = caption
                    rows.append(
                        StoredCaption(key, frame.phash, "captioned", caption.caption, caption.tags)
                    )
                else:
                    rows.append(StoredCaption(key, frame.phash, "missing", error=result_error))
            self._batches_done += 1
            done, total = self._batches_done, len(self._futures)
        self.catalog.captions.save(self.video_id, self.model, rows)
        if result_error and not give_up:
            log.warning("vision: %s (video %s)", result_error, self.video_id)
        self.progress(self._fraction, f"describing frames: batch {done}/{max(done, total)} done")

    # ---- output ----------------------------------------------------------------------------
    def _segments(self) -> list[Segment]:
        source = f"vlm:{self.model}"
        segments: list[Segment] = []
        for frame in sorted(self.frames, key=lambda f: f.time_s):
            key = caption_key(frame.time_s)
            caption = self.captions.get(key) or self.captions.get(self.duplicates.get(key, -1))
            if caption is None:
                continue
            segments.append(
                Segment(
                    video_id=self.video_id,
                    modality=Modality.VISUAL,
                    start_s=round(frame.time_s, 3),
                    end_s=round(frame.time_s, 3),
                    text=caption.searchable_text(),
                    frame_time_s=round(frame.time_s, 3),
                    shot_id=frame.shot_id,
                    source=source,
                    thumbnail=frame.thumbnail,
                )
            )
        return segments
