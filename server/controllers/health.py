"""``GET /api/v1/health``: version, models per modality, index counts, store mode, planner."""

from __future__ import annotations

import logging
from importlib import metadata
from typing import ClassVar

from litestar import Controller, get
from litestar.di import NamedDependency

from indexer.vision_status import vision_status
from scenespark.types import JobStatus, ModelInfo
from server.controllers.schemas import (
    HealthResponse,
    IndexCounts,
    SpeechLanguages,
    StoreInfo,
    VisionInfo,
)
from server.runtime import ServerRuntime

log = logging.getLogger("scenespark.server")


def package_version() -> str:
    try:
        return metadata.version("scenespark")
    except metadata.PackageNotFoundError:
        return "0.0.0+local"


class HealthController(Controller):
    path = "/api/v1/health"
    tags: ClassVar[list[str]] = ["system"]

    @get(sync_to_thread=True, summary="Server health, models and index counts")
    def health(self, runtime: NamedDependency[ServerRuntime]) -> HealthResponse:
        """Never loads a model: reports which model backs each modality and why."""
        settings = runtime.settings
        catalog = runtime.engine.catalog
        problems: list[str] = []
        try:
            models = runtime.engine.models.describe()
        except Exception as exc:  # a broken registry must not break the health check
            log.warning("describing the models failed: %s", exc)
            models = []
            problems.append(f"models: {exc}")
        models = [m if isinstance(m, ModelInfo) else ModelInfo.model_validate(m) for m in models]
        problems += [f"{m.modality}: {m.reason}" for m in models if not m.available]
        counts = catalog.count_segments()
        jobs = catalog.list_jobs(statuses=[JobStatus.QUEUED, JobStatus.RUNNING], limit=1000)
        planner = f"llm:{settings.llm_model}" if settings.llm_enabled else "deterministic"
        store = StoreInfo(
            mode="http" if settings.chroma_url else "embedded",
            location=settings.chroma_url or str(settings.chroma_dir),
        )
        vision = vision_status(runtime.engine)
        videos = catalog.video_speech_languages()  # not list_videos(): no shots to parse
        languages: dict[str, int] = {}
        for _video_id, has_audio, language, _uncertain in videos:
            if has_audio or language:
                languages[language] = languages.get(language, 0) + 1
        return HealthResponse(
            status="degraded" if problems else ("warming" if runtime.warming else "ok"),
            version=package_version(),
            models=models,
            index=IndexCounts(
                videos=len(videos),
                segments={m: counts.get(m, 0) for m in ("speech", "ocr", "visual")},
            ),
            store=store,
            planner=planner,
            jobs={
                "queued": sum(j.status == JobStatus.QUEUED for j in jobs),
                "running": sum(j.status == JobStatus.RUNNING for j in jobs),
                "workers": runtime.worker_count,
            },
            speech_languages=SpeechLanguages(
                forced=settings.speech_language,
                videos=languages,
                uncertain=[video_id for video_id, _, _, uncertain in videos if uncertain],
            ),
            problems=problems,
            vision=VisionInfo.model_validate(vision) if vision else None,
        )
