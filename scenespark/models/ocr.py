"""On-screen text with rapidocr-onnxruntime 1.4.4 (PP-OCRv4 detector + recogniser, bundled).

The detector runs on every frame it is given; the recogniser runs only on the crops of detected
text boxes, and, when the caller passes an :class:`OcrMemory` (one per frame sequence, e.g. one
video), not on a crop that is the same as one read in the previous frame (same place, same
pixels): its text is reused. Text that stays on screen across samples is then recognised once.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scenespark.config import Settings, apply_offline_env
from scenespark.errors import InvalidInputError, ModelUnavailableError
from scenespark.models.base import OcrLine
from scenespark.models.resolve import Resolution, resolve_ocr
from scenespark.types import ModelInfo

if TYPE_CHECKING:
    import numpy as np

# Frames are scaled down (never up) so that their longer side is at most this many pixels before
# detection and recognition (rapidocr 1.4.4 ignores det_limit_side_len in "max" mode, so the
# resize happens here). Tune with the ``max_side_px`` parameter; see the models report.
DEFAULT_MAX_SIDE_PX = 640
# A text box is "the same" as one read in the previous frame when it moved by at most
# SAME_BOX_TOLERANCE_PX pixels (of the working image) and, over the union of the two boxes, no
# pixel column of the grey frame changed by more than SAME_REGION_MAX_COLUMN_DIFF grey levels on
# average (a changed character changes a few columns a lot; compression noise changes every
# column a little).
SAME_BOX_TOLERANCE_PX = 3.0
SAME_REGION_MAX_COLUMN_DIFF = 12.0


@dataclass
class _ReadBox:
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in working-image pixels
    text: str
    score: float


@dataclass
class OcrMemory:
    """The last frame read (grey, working size), its text boxes and their text; counts how many
    boxes were recognised and how many reused.

    Not thread-safe: one memory per sequence of frames read in order.
    """

    grey: np.ndarray | None = None
    boxes: list[_ReadBox] = field(default_factory=list)
    recognised: int = 0
    reused: int = 0

    def recall(self, box: tuple[float, float, float, float], grey: np.ndarray) -> _ReadBox | None:
        """The previous frame's reading of this box, when the box and its pixels are the same."""
        if self.grey is None or self.grey.shape != grey.shape:
            return None
        for known in self.boxes:
            if max(abs(a - b) for a, b in zip(known.box, box, strict=True)) > (
                SAME_BOX_TOLERANCE_PX
            ):
                continue
            if _same_region(self.grey, grey, known.box, box):
                return known
        return None


def _same_region(
    old: np.ndarray,
    new: np.ndarray,
    a: tuple[float, float, float, float],
    b: tuple[float, float, float, float],
) -> bool:
    import numpy as np

    height, width = new.shape[:2]
    x0, y0 = max(0, int(min(a[0], b[0])) - 2), max(0, int(min(a[1], b[1])) - 2)
    x1, y1 = min(width, int(max(a[2], b[2])) + 3), min(height, int(max(a[3], b[3])) + 3)
    if x1 <= x0 or y1 <= y0:
        return False
    diff = np.abs(old[y0:y1, x0:x1].astype(np.int16) - new[y0:y1, x0:x1].astype(np.int16))
    return float(diff.mean(axis=0).max()) <= SAME_REGION_MAX_COLUMN_DIFF


class RapidOcrEngine:
    """rapidocr loaded lazily once; ``read`` is thread-safe (calls are serialised)."""

    def __init__(
        self,
        resolution: Resolution,
        settings: Settings,
        *,
        max_side_px: int = DEFAULT_MAX_SIDE_PX,
        use_angle_cls: bool = False,
        min_confidence: float | None = None,
    ) -> None:
        self.info: ModelInfo = resolution.info
        self.max_side_px = int(max_side_px)
        self.use_angle_cls = use_angle_cls
        self.min_confidence = (
            settings.ocr_min_confidence if min_confidence is None else min_confidence
        )
        self._threads = settings.threads_per_model()
        self._engine: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> RapidOcrEngine:
        resolution = resolve_ocr(settings)
        if resolution is None:
            raise ModelUnavailableError("OCR is disabled (SCENESPARK_OCR_MODEL=none)")
        return cls(resolution, settings, **kwargs)

    def _load(self) -> Any:
        if self._engine is None:
            apply_offline_env()
            os.environ["ORT_DISABLE_TELEMETRY"] = "1"
            try:
                from rapidocr_onnxruntime import RapidOCR

                self._engine = RapidOCR(
                    intra_op_num_threads=self._threads,
                    inter_op_num_threads=1,
                    det_limit_type="max",
                    use_cls=self.use_angle_cls,
                )
            except Exception as exc:  # onnxruntime session errors
                raise ModelUnavailableError(f"cannot load rapidocr: {exc}") from exc
        return self._engine

    def load(self) -> None:
        with self._lock:
            self._load()

    def read(self, image: np.ndarray, memory: OcrMemory | None = None) -> list[OcrLine]:
        """Text lines of an RGB frame; with ``memory``, unchanged crops of the previous frame
        read with the same memory are not recognised again (their text is reused)."""
        import numpy as np

        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
            raise InvalidInputError("OCR needs an RGB image array of shape (height, width, 3)")
        if image.dtype != np.uint8:
            image = np.clip(image, 0, 255).astype(np.uint8)
        scale = 1.0
        height, width = image.shape[:2]
        if self.max_side_px > 0 and max(height, width) > self.max_side_px:
            import cv2

            scale = self.max_side_px / max(height, width)
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        bgr = np.ascontiguousarray(image[:, :, ::-1])  # rapidocr treats arrays as BGR
        with self._lock:
            engine = self._load()
            result = self._detect_and_read(engine, bgr, memory)
        lines: list[OcrLine] = []
        for points, text, score in result:
            text = " ".join(str(text).split())
            confidence = float(score)
            if not text or confidence < self.min_confidence:
                continue
            xs = [float(p[0]) / scale for p in points]
            ys = [float(p[1]) / scale for p in points]
            lines.append(
                OcrLine(text=text, confidence=confidence, box=(min(xs), min(ys), max(xs), max(ys)))
            )
        lines.sort(key=lambda line: (round(line.box[1] / 10.0), line.box[0]))
        return lines

    def _detect_and_read(
        self, engine: Any, bgr: np.ndarray, memory: OcrMemory | None
    ) -> list[tuple[Any, str, float]]:
        """(box points, text, score) per detected box: rapidocr's own steps (detection, crops,
        optional angle classifier, recognition), recognition skipped for remembered crops."""
        import cv2
        import numpy as np

        if memory is None:
            result, _elapsed = engine(bgr, use_cls=self.use_angle_cls)
            return list(result or [])
        grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        boxes, _elapsed = engine(bgr, use_cls=False, use_rec=False)  # the detector alone
        if not boxes:
            memory.grey, memory.boxes = grey, []
            return []
        points = [np.asarray(b, dtype=np.float32) for b in boxes]
        crops = engine.get_crop_img_list(bgr, points)
        if self.use_angle_cls:
            crops, _cls, _cls_elapsed = engine.text_cls(crops)
        rects = [
            (float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max()))
            for p in points
        ]
        known = [memory.recall(rect, grey) for rect in rects]
        unread = [i for i, k in enumerate(known) if k is None]
        read: dict[int, tuple[str, float]] = {}
        if unread:
            rec, _rec_elapsed = engine.text_rec([crops[i] for i in unread])
            read = {i: (str(r[0]), float(r[1])) for i, r in zip(unread, rec, strict=True)}
        memory.recognised += len(unread)
        memory.reused += len(points) - len(unread)
        texts = [read[i] if k is None else (k.text, k.score) for i, k in enumerate(known)]
        memory.grey = grey
        memory.boxes = [
            _ReadBox(rect, text, score) for rect, (text, score) in zip(rects, texts, strict=True)
        ]
        return [
            (p.tolist(), text, score)
            for p, (text, score) in zip(points, texts, strict=True)
            if score >= engine.text_score
        ]
