"""The model roles behind Protocols (docs/architecture.md §5), plus the small result types they return.

Implementations live beside this file (``text``, ``speech``, ``ocr``, ``visual``, ``tagger``);
callers get them from :class:`scenespark.models.registry.ModelRegistry` and only rely on these
Protocols. Images are ``numpy`` arrays, RGB, ``uint8``, shape (height, width, 3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from scenespark.types import ModelInfo, Word

if TYPE_CHECKING:
    import threading

    import numpy as np

    from scenespark.models.ocr import OcrMemory


# --------------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------------


class LazyModel:
    """``load()`` and ``dimension`` of a model loaded on first use: ``_load()`` loads it once
    (thread-safe in the subclass) and may fill in ``info.dimension``."""

    info: ModelInfo

    def _load(self) -> Any:
        raise NotImplementedError

    def load(self) -> None:
        self._load()

    @property
    def dimension(self) -> int:
        if self.info.dimension:
            return int(self.info.dimension)
        self._load()
        return int(self.info.dimension or 0)


@dataclass(frozen=True)
class SpeechSegment:
    """One recognised utterance; times in seconds from the start of the audio."""

    start_s: float
    end_s: float
    text: str
    words: list[Word] = field(default_factory=list)
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Transcript:
    """What a speech recogniser heard in one audio file."""

    language: str
    segments: list[SpeechSegment] = field(default_factory=list)
    duration_s: float = 0.0  # audio duration as seen by the recogniser
    language_probability: float = 1.0

    @property
    def text(self) -> str:
        return " ".join(seg.text.strip() for seg in self.segments if seg.text.strip())

    @property
    def words(self) -> list[Word]:
        return [word for seg in self.segments for word in seg.words]


@dataclass(frozen=True)
class OcrLine:
    """One line of on-screen text; ``box`` is (x0, y0, x1, y1) in pixels of the input image."""

    text: str
    confidence: float
    box: tuple[float, float, float, float]


Tag = tuple[str, float]  # (readable label, probability)


# --------------------------------------------------------------------------------------------
# Protocols
# --------------------------------------------------------------------------------------------


@runtime_checkable
class TextEmbedder(Protocol):
    info: ModelInfo

    @property
    def dimension(self) -> int: ...

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """float32, L2-normalised, shape (len(texts), dimension)."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """float32, L2-normalised, shape (dimension,)."""
        ...


@runtime_checkable
class SpeechRecognizer(Protocol):
    info: ModelInfo

    def transcribe(
        self,
        audio_path: Path,
        *,
        language: str | None = None,
        more_lanes: threading.Event | None = None,
    ) -> Transcript:
        """``more_lanes``: an implementation that shares long audio between workers starts the
        extra ones only once this event is set (None: at once)."""
        ...


@runtime_checkable
class OcrEngine(Protocol):
    info: ModelInfo

    def read(self, image: np.ndarray, memory: OcrMemory | None = None) -> list[OcrLine]:
        """Text lines in an RGB uint8 image, in reading order (top to bottom, left to right).

        ``memory`` (one per sequence of frames) lets unchanged text crops of the previous frame
        reuse their reading instead of running the recogniser again."""
        ...


@runtime_checkable
class VisualEncoder(Protocol):
    """CLIP (vectors), the tagger (labels) or a vision LLM (``kind="vlm"``: captions through
    :meth:`scenespark.models.vision_llm.VisionCaptioner.caption`, no vectors or labels)."""

    info: ModelInfo
    kind: Literal["clip", "tagger", "vlm"]

    def embed_images(self, images: list[np.ndarray]) -> np.ndarray:
        """CLIP only: float32, L2-normalised, shape (len(images), dimension)."""
        ...

    def embed_text(self, text: str) -> np.ndarray:
        """CLIP only: float32, L2-normalised, shape (dimension,)."""
        ...

    def tag_images(self, images: list[np.ndarray]) -> list[list[Tag]]:
        """Tagger: per image, top labels with probabilities (descending). CLIP returns []."""
        ...
