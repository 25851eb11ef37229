"""Records and matches of the vector store, and how their metadata is kept in Chroma."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scenespark.types import Segment

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")  # space and modality names
OTHER_PARTITION = "other"  # the collection of records without a modality


@dataclass
class VectorRecord:
    """One vector to store: ``id`` is the catalog segment id (f"{run_id}:{index}")."""

    id: str
    vector: np.ndarray
    text: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)  # video_id, modality, run_id, ...


@dataclass
class VectorMatch:
    id: str
    score: float  # cosine similarity, -1..1
    metadata: dict[str, Any]
    text: str = ""


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def clean_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Chroma metadata values must be str/int/float/bool (no None)."""
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        if value is None:
            if key == "frame_time_s":
                out[key] = -1.0
            continue
        if hasattr(value, "value") and isinstance(value.value, str):  # StrEnum
            value = value.value
        out[key] = value if isinstance(value, str | int | float | bool) else str(value)
    return out


def restore_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    out = dict(metadata)
    frame = out.get("frame_time_s")
    if isinstance(frame, int | float) and frame < 0:
        out["frame_time_s"] = None
    return out


def partition_of(metadata: dict[str, Any]) -> str:
    """The collection a record belongs in: its modality."""
    modality = str(metadata.get("modality") or OTHER_PARTITION)
    return modality if NAME_PATTERN.match(modality) else OTHER_PARTITION


def segment_records(
    ids: list[str], vectors: np.ndarray, segs: list[Segment], run_id: str
) -> list[VectorRecord]:
    """The vector records of a run's segments: ``ids[i]`` and ``vectors[i]`` belong to ``segs[i]``;
    the metadata is what search filters and shows (video, modality, run, times, shot)."""
    records = []
    for seg_id, vector, seg in zip(ids, vectors, segs, strict=True):
        records.append(
            VectorRecord(
                id=seg_id,
                vector=vector,
                text=seg.text,
                metadata={
                    "video_id": seg.video_id,
                    "modality": seg.modality.value,
                    "run_id": run_id,
                    "start_s": float(seg.start_s),
                    "end_s": float(seg.end_s),
                    "shot_id": int(seg.shot_id),
                    "frame_time_s": float(
                        seg.frame_time_s if seg.frame_time_s is not None else -1.0
                    ),
                },
            )
        )
    return records
