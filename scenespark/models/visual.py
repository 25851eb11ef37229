"""CLIP image/text embeddings with open_clip (weights from a local checkpoint, docs/architecture.md §5)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Literal

from scenespark.config import Settings, apply_offline_env
from scenespark.errors import InvalidInputError, ModelUnavailableError
from scenespark.models.base import LazyModel, Tag
from scenespark.models.resolve import Resolution
from scenespark.models.torch_threads import set_torch_threads
from scenespark.types import ModelInfo

if TYPE_CHECKING:
    import numpy as np


class ClipEncoder(LazyModel):
    """open_clip model loaded lazily once; embeddings are float32 and L2-normalised."""

    kind: Literal["clip", "tagger"] = "clip"

    def __init__(self, resolution: Resolution, settings: Settings, *, batch_size: int = 16) -> None:
        self.info: ModelInfo = resolution.info
        self._resolution = resolution
        self._architecture = settings.clip_model.strip()
        self._threads = settings.threads_per_model()
        self.batch_size = batch_size
        self._model: Any = None
        self._preprocess: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                apply_offline_env()
                set_torch_threads(self._threads)
                import open_clip

                try:
                    model, _, preprocess = open_clip.create_model_and_transforms(
                        self._architecture, pretrained=self._resolution.location, device="cpu"
                    )
                    tokenizer = open_clip.get_tokenizer(self._architecture)
                except Exception as exc:  # bad checkpoint, wrong architecture, no network for tags
                    first = str(exc).splitlines()[0] if str(exc) else repr(exc)
                    where = self._resolution.location
                    raise ModelUnavailableError(
                        f"cannot load CLIP {self._architecture} from {where}: {first}"
                    ) from exc
                model.eval()
                self._model, self._preprocess, self._tokenizer = model, preprocess, tokenizer
            return self._model

    def embed_images(self, images: list[np.ndarray]) -> np.ndarray:
        import numpy as np
        import torch
        from PIL import Image

        if not images:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        out: list[np.ndarray] = []
        for start in range(0, len(images), self.batch_size):
            tensors = []
            for image in images[start : start + self.batch_size]:
                if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
                    raise InvalidInputError(
                        "CLIP needs RGB image arrays of shape (height, width, 3)"
                    )
                tensors.append(
                    self._preprocess(Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)))
                )
            with torch.inference_mode():
                features = model.encode_image(torch.stack(tensors))
                features = torch.nn.functional.normalize(features.float(), dim=-1)
            out.append(features.numpy())
        return np.ascontiguousarray(np.concatenate(out, axis=0), dtype=np.float32)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        import numpy as np
        import torch

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        with torch.inference_mode():
            features = model.encode_text(self._tokenizer(list(texts)))
            features = torch.nn.functional.normalize(features.float(), dim=-1)
        return np.ascontiguousarray(features.numpy(), dtype=np.float32)

    def embed_text(self, text: str) -> np.ndarray:
        return self.embed_texts([text])[0]

    def tag_images(self, images: list[np.ndarray]) -> list[list[Tag]]:
        """CLIP has no fixed label set: no tags (search uses the embeddings instead)."""
        return [[] for _ in images]
