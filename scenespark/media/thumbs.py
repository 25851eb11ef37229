"""JPEG thumbnails from RGB frames."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from scenespark.errors import MediaError


def save_thumbnail(
    image: np.ndarray, path: Path, max_side: int = 320, *, quality: int = 85
) -> Path:
    """Save an RGB uint8 image (H, W, 3) as a JPEG no larger than ``max_side``; atomic write."""
    from PIL import Image

    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise MediaError(
            f"thumbnail needs an RGB uint8 image, got shape {image.shape} {image.dtype}"
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    picture = Image.fromarray(np.ascontiguousarray(image))
    picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".jpg", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            picture.save(handle, format="JPEG", quality=quality, optimize=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
