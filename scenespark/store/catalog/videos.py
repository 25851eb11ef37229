"""The videos repository: one row per known video file (probe facts, status, shots, thumbnail).

Segment counts are always live, those of the video's active runs (``Video.counts`` is ignored
when written). Deleting a video removes its segments and active runs in the same transaction and
marks its runs superseded, so their vectors can be purged later.
"""

from __future__ import annotations

import json
import sqlite3
import time

from scenespark.errors import NotFoundError
from scenespark.store.catalog.database import (
    CatalogDatabase,
    bump_generation,
    bump_videos_version,
    from_iso,
    to_iso,
)
from scenespark.store.catalog.runs import RunStatus
from scenespark.types import Shot, Video, VideoStatus

_VIDEO_SELECT = (
    "SELECT v.*, (SELECT json_group_object(r.modality, r.segment_count) FROM active_runs a "
    "JOIN runs r ON r.run_id = a.run_id WHERE a.video_id = v.video_id) AS live_counts "
    "FROM videos v"
)


class VideoRepository:
    """Videos: upsert, look-up (by id or path), listing, status, deletion."""

    def __init__(self, db: CatalogDatabase) -> None:
        self.db = db

    def upsert(self, video: Video) -> None:
        row = (
            video.video_id,
            video.path,
            video.title,
            video.duration_s,
            video.fps,
            video.width,
            video.height,
            int(video.has_audio),
            video.content_sha256,
            video.size_bytes,
            str(video.status),
            video.error,
            to_iso(video.indexed_at),
            video.run_id,
            json.dumps(video.models),
            json.dumps(video.counts),
            json.dumps([shot.model_dump() for shot in video.shots]),
            video.thumbnail,
            video.speech_language,
            video.speech_language_probability,
            video.speech_language_source,
            int(video.speech_language_uncertain),
        )
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO videos(video_id, path, title, duration_s, fps, width, height, "
                "has_audio, content_sha256, size_bytes, status, error, indexed_at, run_id, models, "
                "counts, shots, thumbnail, speech_language, speech_language_probability, "
                "speech_language_source, speech_language_uncertain) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(video_id) DO UPDATE SET path=excluded.path, title=excluded.title, "
                "duration_s=excluded.duration_s, fps=excluded.fps, width=excluded.width, "
                "height=excluded.height, has_audio=excluded.has_audio, "
                "content_sha256=excluded.content_sha256, size_bytes=excluded.size_bytes, "
                "status=excluded.status, error=excluded.error, indexed_at=excluded.indexed_at, "
                "run_id=excluded.run_id, models=excluded.models, counts=excluded.counts, "
                "shots=excluded.shots, thumbnail=excluded.thumbnail, "
                "speech_language=excluded.speech_language, "
                "speech_language_probability=excluded.speech_language_probability, "
                "speech_language_source=excluded.speech_language_source, "
                "speech_language_uncertain=excluded.speech_language_uncertain",
                row,
            )
            bump_videos_version(conn)

    @staticmethod
    def from_row(row: sqlite3.Row) -> Video:
        return Video(
            video_id=row["video_id"],
            path=row["path"],
            title=row["title"],
            duration_s=row["duration_s"],
            fps=row["fps"],
            width=row["width"],
            height=row["height"],
            has_audio=bool(row["has_audio"]),
            content_sha256=row["content_sha256"],
            size_bytes=row["size_bytes"],
            status=VideoStatus(row["status"]),
            error=row["error"],
            indexed_at=from_iso(row["indexed_at"]),
            run_id=row["run_id"],
            models=json.loads(row["models"]),
            counts=json.loads(row["live_counts"] or "{}"),
            shots=[Shot(**shot) for shot in json.loads(row["shots"])],
            thumbnail=row["thumbnail"],
            speech_language=row["speech_language"],
            speech_language_probability=row["speech_language_probability"],
            speech_language_source=row["speech_language_source"],
            speech_language_uncertain=bool(row["speech_language_uncertain"]),
        )

    def get(self, video_id: str) -> Video | None:
        rows = self.db.read(f"{_VIDEO_SELECT} WHERE v.video_id = ?", (video_id,))
        return self.from_row(rows[0]) if rows else None

    def require(self, video_id: str) -> Video:
        """The video, or :class:`NotFoundError` (404 / one-line CLI error) when it is unknown."""
        video = self.get(video_id)
        if video is None:
            raise NotFoundError(f"no indexed video with id {video_id!r}")
        return video

    def find_by_path(self, path: str) -> Video | None:
        rows = self.db.read(
            f"{_VIDEO_SELECT} WHERE v.path = ? ORDER BY v.rowid DESC LIMIT 1", (str(path),)
        )
        return self.from_row(rows[0]) if rows else None

    def all(self) -> list[Video]:
        return [
            self.from_row(row)
            for row in self.db.read(f"{_VIDEO_SELECT} ORDER BY v.path, v.video_id")
        ]

    def speech_languages(self) -> list[tuple[str, bool, str, bool]]:
        """(video_id, has_audio, speech_language, uncertain) of every video, without reading
        (and parsing) shots and counts: what ``/health`` reports, cheap enough to poll."""
        rows = self.db.read(
            "SELECT video_id, has_audio, speech_language, speech_language_uncertain "
            "FROM videos ORDER BY path, video_id"
        )
        return [(str(r[0]), bool(r[1]), str(r[2] or ""), bool(r[3])) for r in rows]

    def set_status(self, video_id: str, status: VideoStatus, error: str = "") -> None:
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE videos SET status = ?, error = ? WHERE video_id = ?",
                (str(VideoStatus(status)), error, video_id),
            )
            bump_videos_version(conn)
            if cursor.rowcount == 0:
                raise NotFoundError(f"no video with id {video_id!r} in the catalog")

    def delete(self, video_id: str) -> list[str]:
        """Remove the video, its segments and active runs; return ALL its unpurged run ids.

        The run rows stay (marked superseded) until :meth:`RunRepository.mark_purged`, so that if the
        caller dies before deleting the vectors, :meth:`RunRepository.stale` still lists them.
        """
        now = time.time()
        with self.db.write() as conn:
            run_ids = [
                row[0]
                for row in conn.execute(
                    "SELECT run_id FROM runs WHERE video_id = ? AND status != ? "
                    "ORDER BY started_at",
                    (video_id, RunStatus.PURGED.value),
                )
            ]
            conn.execute("DELETE FROM segments WHERE video_id = ?", (video_id,))
            conn.execute("DELETE FROM active_runs WHERE video_id = ?", (video_id,))
            conn.execute(
                "UPDATE runs SET status = ?, finished_at = COALESCE(finished_at, ?), "
                "error = CASE WHEN error = '' THEN 'video deleted' ELSE error END "
                "WHERE video_id = ? AND status NOT IN (?, ?)",
                (
                    RunStatus.SUPERSEDED.value,
                    now,
                    video_id,
                    RunStatus.PURGED.value,
                    RunStatus.FAILED.value,
                ),
            )
            deleted = conn.execute("DELETE FROM videos WHERE video_id = ?", (video_id,)).rowcount
            if deleted or run_ids:
                bump_generation(conn)
        return run_ids
