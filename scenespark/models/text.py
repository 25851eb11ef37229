"""Text embeddings with sentence-transformers on CPU (bundled all-MiniLM-L6-v2, or named models)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from scenespark.config import Settings, apply_offline_env
from scenespark.errors import ModelUnavailableError
from scenespark.models.base import LazyModel
from scenespark.models.resolve import Resolution
from scenespark.models.resolve_text import resolve_text
from scenespark.models.torch_threads import set_torch_threads
from scenespark.types import ModelInfo

if TYPE_CHECKING:
    import numpy as np


class SentenceTransformerEmbedder(LazyModel):
    """Loads the model lazily once; embeddings are float32 and L2-normalised."""

    def __init__(self, resolution: Resolution, settings: Settings, *, batch_size: int = 32) -> None:
        self.info: ModelInfo = resolution.info
        self._resolution = resolution
        self._threads = settings.threads_per_model()
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> SentenceTransformerEmbedder:
        return cls(resolve_text(settings), settings, **kwargs)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                apply_offline_env()
                set_torch_threads(self._threads)
                try:
                    from sentence_transformers import SentenceTransformer

                    self._model = SentenceTransformer(
                        self._resolution.location,
                        device="cpu",
                        local_files_only=self._resolution.local,
                    )
                except Exception as exc:  # missing files, bad config, no network for hub names
                    first = str(exc).splitlines()[0] if str(exc) else repr(exc)
                    raise ModelUnavailableError(
                        f"cannot load text model {self.info.name}: {first}"
                    ) from exc
                get_dim = (
                    getattr(self._model, "get_embedding_dimension", None)
                    or self._model.get_sentence_embedding_dimension
                )
                dim = int(get_dim() or 0)
                if self.info.dimension != dim:
                    self.info = self.info.model_copy(update={"dimension": dim})
            return self._model

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_texts([text])[0]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Several search queries at once (one batched forward pass)."""
        return self.embed_texts(list(texts))
