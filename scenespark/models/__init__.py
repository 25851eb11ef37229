"""Models behind Protocols, resolved offline (docs/architecture.md §5).

Light to import: the heavy libraries (torch, faster_whisper, rapidocr, open_clip) load only when
a model is first used through :class:`ModelRegistry`.
"""

from __future__ import annotations

from scenespark.models.base import (
    OcrEngine,
    OcrLine,
    SpeechRecognizer,
    SpeechSegment,
    Tag,
    TextEmbedder,
    Transcript,
    VisualEncoder,
)
from scenespark.models.registry import ModelRegistry, describe_models

__all__ = [
    "ModelRegistry",
    "OcrEngine",
    "OcrLine",
    "SpeechRecognizer",
    "SpeechSegment",
    "Tag",
    "TextEmbedder",
    "Transcript",
    "VisualEncoder",
    "describe_models",
]
