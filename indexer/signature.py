"""Which models produced each modality: a change in one makes ``rebuild`` redo only that one."""

from __future__ import annotations

from scenespark.engine import Engine
from scenespark.types import ModelInfo

# Bumped when a modality's extraction changes in a way that alters stored segments, so
# ``rebuild`` redoes it even though no model changed. speech 2: audio kept on the video's clock.
PIPELINE_REVISIONS = {"speech": "2", "ocr": "1", "visual": "1"}


def _tag(info: ModelInfo | None) -> str:
    if info is None:
        return "none"
    return (
        f"{info.backend}:{info.name}@{info.version}"
        if info.version
        else f"{info.backend}:{info.name}"
    )


def models_by_role(engine: Engine) -> dict[str, ModelInfo]:
    return {info.modality: info for info in engine.models.describe()}


def model_signatures(engine: Engine) -> dict[str, str]:
    """modality -> "extractor|embedder" signature (resolution only; loads no model)."""
    roles = models_by_role(engine)
    text = _tag(roles.get("text"))
    visual = roles.get("visual")
    visual_tag = _tag(visual)
    if visual is not None and visual.backend != "open_clip":
        visual_tag = f"{visual_tag}|{text}"  # tagger labels are embedded with the text model
    signatures = {
        "speech": f"{_tag(roles.get('speech'))}|{text}",
        "ocr": f"{_tag(roles.get('ocr'))}|{text}",
        "visual": visual_tag,
    }
    return {
        modality: sig
        if PIPELINE_REVISIONS[modality] == "1"
        else f"{sig}|r{PIPELINE_REVISIONS[modality]}"
        for modality, sig in signatures.items()
    }
