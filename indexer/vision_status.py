"""What the vision LLM did for the library: shown by ``index status`` and ``/api/v1/health``."""

from __future__ import annotations

from scenespark.engine import Engine
from scenespark.models.resolve import endpoint_host, resolve_visual


def _vision_model(engine: Engine) -> str | None:
    """The configured vision LLM's model name, or None when the visual backend is another."""
    settings = engine.settings
    if settings.visual_backend != "vlm":
        return None
    _url, model, _key = settings.vision_endpoint
    return model or None


def vision_frames_missing(engine: Engine, video_id: str) -> int:
    model = _vision_model(engine)
    if model is None:
        return 0
    return engine.catalog.captions.usage(model, video_id).frames_missing


def vision_status(engine: Engine) -> dict | None:
    """Model, host (never the key), frames described / missing, requests and images sent."""
    model = _vision_model(engine)
    if model is None:
        return None
    base_url, _model, _key = engine.settings.vision_endpoint
    try:
        available = resolve_visual(engine.settings) is not None
    except Exception:  # a misconfigured endpoint is reported by the models list
        available = False
    usage = engine.catalog.captions.usage(model)
    return {
        "model": model,
        "host": endpoint_host(base_url) if base_url else "",
        "available": available,
        "frames_captioned": usage.frames_captioned,
        "frames_missing": usage.frames_missing,
        "requests": usage.requests,
        "images": usage.images,
        "image_bytes": usage.image_bytes,
    }
