"""The catalog: one SQLite file, the source of truth for videos, index runs, segments and jobs.

:class:`Catalog` opens the file (:class:`CatalogDatabase`, migrated on open) and composes
small repositories that share it: ``videos`` (:class:`VideoRepository`), ``runs``
(:class:`RunRepository`), ``segment_rows`` (:class:`SegmentRepository`), ``jobs``
(:class:`JobRepository`) and ``captions`` (:class:`CaptionRepository`, frames described by a
vision LLM). Its methods are the narrow public face callers use; each forwards to
one repository. Thread-safe (one connection per thread, WAL); several processes may read.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Self

from scenespark.store.catalog import database
from scenespark.store.catalog.captions import CaptionRepository
from scenespark.store.catalog.database import CatalogDatabase
from scenespark.store.catalog.jobs import JobRepository
from scenespark.store.catalog.runs import RunInfo, RunRepository
from scenespark.store.catalog.segments import SegmentRepository
from scenespark.store.catalog.videos import VideoRepository
from scenespark.types import AnyJob, Job, JobStatus, Modality, Segment, Video, VideoStatus


class Catalog:
    """The SQLite catalog at ``path`` (created and migrated on open)."""

    def __init__(self, path: Path | str) -> None:
        self.db = CatalogDatabase(path)
        self.path = self.db.path
        self.videos = VideoRepository(self.db)
        self.runs = RunRepository(self.db)
        self.segment_rows = SegmentRepository(self.db)
        self.jobs = JobRepository(self.db)
        self.captions = CaptionRepository(self.db)  # frames described by a vision LLM

    # ------------------------------------------------------------------ the file
    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def schema_version(self) -> int:
        return self.db.schema_version()

    def generation(self) -> int:
        """A counter bumped on every run commit and video deletion (visible across processes)."""
        return database.generation(self.db)

    def videos_version(self) -> int:
        """A counter bumped on every change to a video row (caches of videos key on it)."""
        return database.videos_version(self.db)

    # ------------------------------------------------------------------ videos
    def upsert_video(self, video: Video) -> None:
        self.videos.upsert(video)

    def get_video(self, video_id: str) -> Video | None:
        return self.videos.get(video_id)

    def require_video(self, video_id: str) -> Video:
        """The video, or :class:`NotFoundError` (404 / one-line CLI error) when it is unknown."""
        return self.videos.require(video_id)

    def find_video_by_path(self, path: str) -> Video | None:
        return self.videos.find_by_path(path)

    def list_videos(self) -> list[Video]:
        return self.videos.all()

    def video_speech_languages(self) -> list[tuple[str, bool, str, bool]]:
        """(video_id, has_audio, speech_language, uncertain) per video, without the shots."""
        return self.videos.speech_languages()

    def set_video_status(self, video_id: str, status: VideoStatus, error: str = "") -> None:
        self.videos.set_status(video_id, status, error)

    def delete_video(self, video_id: str) -> list[str]:
        """Remove the video, its segments and active runs; return ALL its unpurged run ids."""
        return self.videos.delete(video_id)

    # ------------------------------------------------------------------ runs
    def begin_run(self, video_id: str, modality: Modality, models: dict[str, str]) -> str:
        return self.runs.begin(video_id, modality, models)

    def commit_run(
        self, video_id: str, modality: Modality, run_id: str, segments: list[Segment]
    ) -> str | None:
        """Atomically make ``run_id`` the active run; return the superseded run id or None."""
        return self.runs.commit(video_id, modality, run_id, segments)

    def fail_run(self, run_id: str, error: str) -> None:
        self.runs.fail(run_id, error)

    def mark_run_purged(self, run_id: str) -> None:
        """Record that the run's vectors are gone. Refuses to purge an active run."""
        self.runs.mark_purged(run_id)

    def active_runs(self) -> dict[tuple[str, str], str]:
        return self.runs.active()

    def active_run_ids(self) -> set[str]:
        return self.runs.active_ids()

    def stale_runs(self, older_than_s: float = 6 * 3600.0) -> list[tuple[str, str]]:
        """(video_id, run_id) of runs whose vectors may be purged."""
        return self.runs.stale(older_than_s)

    def get_run(self, run_id: str) -> RunInfo | None:
        return self.runs.get(run_id)

    def list_runs(self, video_id: str | None = None) -> list[RunInfo]:
        return self.runs.of_video(video_id)

    # ------------------------------------------------------------------ segments
    def segments(
        self,
        video_id: str | None = None,
        modalities: Sequence[Modality] | None = None,
        *,
        with_words: bool = True,
    ) -> list[Segment]:
        """Segments of active runs (``segment_id`` set), ordered by video then start time."""
        return self.segment_rows.active(video_id, modalities, with_words=with_words)

    def segment_texts(self) -> list[tuple[str, str, str, str]]:
        """(segment_id, video_id, modality, text) of active segments with text (keyword index)."""
        return self.segment_rows.texts()

    def get_segments(self, ids: Sequence[str]) -> dict[str, Segment]:
        """Active segments by id (unknown or inactive ids are left out)."""
        return self.segment_rows.by_ids(ids)

    def active_segment_ids(
        self, video_ids: Sequence[str], modalities: Sequence[Modality]
    ) -> dict[str, list[str]]:
        """Ids of the videos' active segments, per modality value."""
        return self.segment_rows.active_ids(video_ids, modalities)

    def nearest_thumbnail(self, video_id: str, time_s: float) -> str:
        return self.segment_rows.nearest_thumbnail(video_id, time_s)

    def count_segments(self, video_id: str | None = None) -> dict[str, int]:
        """Active segment counts by modality."""
        return self.segment_rows.counts(video_id)

    # ------------------------------------------------------------------ jobs
    def save_job(self, job: Job) -> None:
        self.jobs.save(job)

    def get_job(self, request_id: str) -> AnyJob | None:
        return self.jobs.get(request_id)

    def list_jobs(
        self,
        kind: str | None = None,
        statuses: Sequence[JobStatus] | None = None,
        limit: int = 50,
    ) -> list[AnyJob]:
        """Newest first."""
        return self.jobs.newest(kind, statuses, limit)
