"""On-screen text with rapidocr-onnxruntime 1.4.4 (PP-OCRv4 detector + recogniser, bundled)."""

from __future__ import annotations

import os
import threading
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

    def read(self, image: np.ndarray) -> list[OcrLine]:
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
            result, _elapsed = engine(bgr, use_cls=self.use_angle_cls)
        lines: list[OcrLine] = []
        for points, text, score in result or []:
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
