"""Request and response bodies of the HTTP API that are not core types (``scenespark.types``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from scenespark.types import (
    MAX_ID_CHARS,
    AnyJob,
    Clip,
    ClipSpanList,
    HighlightJob,
    HighlightResult,
    IdList,
    IndexFileOutcome,
    IndexJob,
    JobStatus,
    JsonBool,
    ModelInfo,
    ReelSeconds,
    Video,
    Word,
)
from server.paths import relative_paths
from server.runtime import ServerRuntime
from server.urls import media_url, video_url


def _shown(text: str, runtime: ServerRuntime | None) -> str:
    """Job messages name paths relative to a library root or the data dir, never absolute."""
    return relative_paths(text, runtime.settings) if runtime is not None and text else text


class JobView(BaseModel):
    """A background job (indexing or highlights) as the API shows it."""

    request_id: str
    kind: Literal["highlight", "index"]
    status: JobStatus
    progress: float = Field(ge=0.0, le=1.0)
    message: str = ""
    error: str = ""
    prompt: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    video_id: str | None = Field(None, description="index jobs: the video, once known")
    outcomes: list[IndexFileOutcome] = Field(
        default_factory=list, description="index jobs: what happened to each file"
    )
    result: HighlightResult | None = None
    interruptions: int = Field(0, description="server stops or crashes the job ran into")
    created_at: datetime
    finished_at: datetime | None = None
    url: str = Field("", description="where to poll this job")

    @classmethod
    def of(cls, job: AnyJob, runtime: ServerRuntime | None = None) -> JobView:
        url = f"/api/v1/highlights/{job.request_id}" if job.kind == "highlight" else ""
        video_id, message = job.params.get("video_id") or None, job.message
        outcomes: list[IndexFileOutcome] = []
        if isinstance(job, IndexJob):
            outcomes = [
                o.model_copy(
                    update={"path": _shown(o.path, runtime), "message": _shown(o.message, runtime)}
                )
                for o in job.outcomes
            ]
            video_id = job.video_id
            if outcomes and job.status == JobStatus.DONE:
                first = outcomes[0]
                note = f": {first.message}" if first.message else ""
                message = f"{first.action} video {first.video_id}{note}"
            elif video_id is None and job.status == JobStatus.DONE and runtime is not None:
                # jobs finished before outcomes were kept: find the video by its path
                known = runtime.engine.catalog.find_video_by_path(str(job.params.get("path", "")))
                video_id = known.video_id if known is not None else None
        return cls(
            request_id=job.request_id,
            kind=job.kind,
            status=job.status,
            progress=job.progress,
            message=_shown(message, runtime),
            error=_shown(job.error, runtime),
            prompt=job.prompt,
            params=job.params,
            video_id=video_id,
            outcomes=outcomes,
            result=job.result if isinstance(job, HighlightJob) else None,
            interruptions=job.interruptions,
            created_at=job.created_at,
            finished_at=job.finished_at,
            url=url or f"/api/v1/jobs/{job.request_id}",
        )


class JobRef(BaseModel):
    request_id: str = Field(examples=["3f2c9e0d8a7b4c1e9f00aa11bb22cc33"])
    status: JobStatus
    url: str = Field(description="poll this URL for progress and the result")


class AddVideoRequest(BaseModel):
    path: str = Field(
        min_length=1,
        max_length=4095,
        description="a video file inside one of SCENESPARK_LIBRARY_ROOTS (absolute, or relative "
        "to a root)",
        examples=["/srv/videos/keynote.mp4"],
    )
    force: JsonBool = Field(False, description="re-index even when the file is unchanged")


class AddVideoResponse(BaseModel):
    video_id: str | None = Field(None, description="known now when the file was indexed before")
    path: str
    job: JobRef


class VideoView(Video):
    """A catalog video plus the URLs to show it."""

    thumbnail_url: str = ""
    media_url: str = ""

    @classmethod
    def of(cls, video: Video) -> VideoView:
        return cls(
            **video.model_dump(),
            thumbnail_url=media_url(video.thumbnail),
            media_url=video_url(video.video_id),
        )


class VideoList(BaseModel):
    videos: list[VideoView]
    jobs: list[JobView] = Field(description="index jobs that are queued or running")


class IndexCounts(BaseModel):
    videos: int
    segments: dict[str, int] = Field(description="active segments per modality")


class StoreInfo(BaseModel):
    mode: Literal["embedded", "http"]
    location: str


class VisionInfo(BaseModel):
    """The vision LLM describing frames (``SCENESPARK_VISUAL_BACKEND=vlm``); never the key."""

    model: str
    host: str
    available: bool = True
    frames_captioned: int = 0
    frames_missing: int = 0
    requests: int = 0
    images: int = 0
    image_bytes: int = 0


class SpeechLanguages(BaseModel):
    """The languages of the library's speech (or subtitles)."""

    forced: str = Field("", description="SCENESPARK_SPEECH_LANGUAGE ('' = auto-detect)")
    videos: dict[str, int] = Field(
        default_factory=dict, description="videos per speech language ('' = unknown)"
    )
    uncertain: list[str] = Field(
        default_factory=list, description="videos whose detected language is uncertain"
    )


class HealthResponse(BaseModel):
    status: Literal["ok", "warming", "degraded"] = Field(
        description="warming: the server started and is still loading its models"
    )
    version: str
    models: list[ModelInfo]
    index: IndexCounts
    store: StoreInfo
    planner: str = Field(examples=["deterministic", "llm:gpt-4o-mini"])
    jobs: dict[str, int] = Field(description="queued and running jobs")
    speech_languages: SpeechLanguages = Field(default_factory=SpeechLanguages)
    problems: list[str] = Field(default_factory=list)
    vision: VisionInfo | None = Field(None, description="vision LLM use, when it is the backend")


class ReplanRequest(BaseModel):
    """Changes to a finished highlight job; everything else is taken from it."""

    target_duration_s: ReelSeconds | None = None
    locked_clip_ids: IdList | None = Field(None, description="keep these clips")
    excluded_clip_ids: IdList | None = Field(None, description="never use these clips again")
    order: Literal["chronological", "relevance"] | None = None
    instructions: str | None = Field(
        None, max_length=2000, description="replace the LLM's task instructions for this re-plan"
    )
    clips: ClipSpanList | None = Field(
        None, description="explicit spans (a transcript re-cut), rendered as given"
    )


class TranscriptSentence(BaseModel):
    start_s: float
    end_s: float
    text: str
    words: list[Word] = Field(default_factory=list, description="Whisper word timings")


class Transcript(BaseModel):
    """A video's speech as sentences (the units search and highlights use), with word timings:
    what the page's transcript re-cut ticks and nudges."""

    video_id: str
    sentences: list[TranscriptSentence] = Field(default_factory=list)


class SubtitleClipperRequest(BaseModel):
    video_id: str = Field(min_length=1, max_length=MAX_ID_CHARS, examples=["9b1f3c2a7d4e5f60"])
    prompt: str | None = Field(None, max_length=2000, examples=["the most important moments"])


class SubtitleClip(BaseModel):
    start: float
    end: float
    path: str = Field(description="relative to the data dir; served under /media/files/")
    tags: list[str] = Field(default_factory=list)
    description: str = ""

    @classmethod
    def of(cls, clip: Clip) -> SubtitleClip:
        return cls(
            start=clip.start_s,
            end=clip.end_s,
            path=clip.path,
            tags=clip.tags,
            description=clip.description or clip.title,
        )


class SubtitleClipperStatus(BaseModel):
    request_id: str
    status: JobStatus
    progress: float = 0.0
    error: str = ""
    clips: list[SubtitleClip] = Field(default_factory=list)
