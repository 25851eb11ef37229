"""SQLite catalog: the source of truth for videos, index runs, segments and jobs (DESIGN.md §4).

A *run* is one indexing attempt of one (video, modality) pair. The indexer writes the run's vectors
into Chroma tagged with its ``run_id``, then calls :meth:`Catalog.commit_run`, which in ONE
transaction inserts the run's segments, switches the active run for (video, modality) and deletes
the previous segments of that modality. Only then are the old run's vectors deleted from Chroma.
A crash before the commit leaves the previous run active; the orphan vectors of uncommitted runs
are ignored by search (it keeps only active run ids) and purged later via :meth:`stale_runs`.

Thread-safe: one connection per thread (WAL mode, ``busy_timeout``), several processes may read.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Sequence
from enum import StrEnum

from pydantic import BaseModel, Field

from scenespark.errors import NotFoundError, StoreError
from scenespark.store.jobs import JobsMixin
from scenespark.store.segments import SegmentsMixin
from scenespark.store.sqlite import SQLiteDB, from_iso, to_iso
from scenespark.types import Modality, Segment, Shot, Video, VideoStatus

__all__ = ["Catalog", "RunInfo", "RunStatus"]


class RunStatus(StrEnum):
    RUNNING = "running"
    COMMITTED = "committed"
    FAILED = "failed"
    SUPERSEDED = "superseded"
    PURGED = "purged"


class RunInfo(BaseModel):
    """One indexing attempt of one (video, modality) pair."""

    run_id: str
    video_id: str
    modality: Modality
    status: RunStatus
    models: dict[str, str] = Field(default_factory=dict)
    started_at: float  # unix seconds
    finished_at: float | None = None
    error: str = ""
    segment_count: int = 0
    active: bool = False


# Each entry upgrades the schema by one version; never edit a released entry, append a new one.
# Segment counts are always live: those of the video's active runs (Video.counts is ignored).
_VIDEO_SELECT = (
    "SELECT v.*, (SELECT json_group_object(r.modality, r.segment_count) FROM active_runs a "
    "JOIN runs r ON r.run_id = a.run_id WHERE a.video_id = v.video_id) AS live_counts "
    "FROM videos v"
)


class Catalog(SegmentsMixin, JobsMixin, SQLiteDB):
    """The SQLite catalog at ``path`` (created and migrated on open)."""

    # ------------------------------------------------------------------ generation
    def generation(self) -> int:
        """A counter bumped on every run commit and video deletion (visible across processes)."""
        return int(self._read("SELECT value FROM meta WHERE key = 'generation'")[0][0])

    @staticmethod
    def _bump(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
        Catalog._bump_videos(conn)

    @staticmethod
    def _bump_videos(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('videos_version', 1) "
            "ON CONFLICT(key) DO UPDATE SET value = value + 1"
        )

    def videos_version(self) -> int:
        """A counter bumped on every change to a video row (caches of videos key on it)."""
        rows = self._read("SELECT value FROM meta WHERE key = 'videos_version'")
        return int(rows[0][0]) if rows else 0

    # ------------------------------------------------------------------ videos
    def upsert_video(self, video: Video) -> None:
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
        )
        with self._write() as conn:
            conn.execute(
                "INSERT INTO videos(video_id, path, title, duration_s, fps, width, height, "
                "has_audio, content_sha256, size_bytes, status, error, indexed_at, run_id, models, "
                "counts, shots, thumbnail) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(video_id) DO UPDATE SET path=excluded.path, title=excluded.title, "
                "duration_s=excluded.duration_s, fps=excluded.fps, width=excluded.width, "
                "height=excluded.height, has_audio=excluded.has_audio, "
                "content_sha256=excluded.content_sha256, size_bytes=excluded.size_bytes, "
                "status=excluded.status, error=excluded.error, indexed_at=excluded.indexed_at, "
                "run_id=excluded.run_id, models=excluded.models, counts=excluded.counts, "
                "shots=excluded.shots, thumbnail=excluded.thumbnail",
                row,
            )
            self._bump_videos(conn)

    @staticmethod
    def _video(row: sqlite3.Row) -> Video:
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
        )

    def get_video(self, video_id: str) -> Video | None:
        rows = self._read(f"{_VIDEO_SELECT} WHERE v.video_id = ?", (video_id,))
        return self._video(rows[0]) if rows else None

    def require_video(self, video_id: str) -> Video:
        """The video, or :class:`NotFoundError` (404 / one-line CLI error) when it is unknown."""
        video = self.get_video(video_id)
        if video is None:
            raise NotFoundError(f"no indexed video with id {video_id!r}")
        return video

    def find_video_by_path(self, path: str) -> Video | None:
        rows = self._read(
            f"{_VIDEO_SELECT} WHERE v.path = ? ORDER BY v.rowid DESC LIMIT 1", (str(path),)
        )
        return self._video(rows[0]) if rows else None

    def list_videos(self) -> list[Video]:
        return [
            self._video(row) for row in self._read(f"{_VIDEO_SELECT} ORDER BY v.path, v.video_id")
        ]

    def set_video_status(self, video_id: str, status: VideoStatus, error: str = "") -> None:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE videos SET status = ?, error = ? WHERE video_id = ?",
                (str(VideoStatus(status)), error, video_id),
            )
            self._bump_videos(conn)
            if cursor.rowcount == 0:
                raise NotFoundError(f"no video with id {video_id!r} in the catalog")

    def delete_video(self, video_id: str) -> list[str]:
        """Remove the video, its segments and active runs; return ALL its unpurged run ids.

        The run rows stay (marked superseded) until :meth:`mark_run_purged`, so that if the
        caller dies before deleting the vectors, :meth:`stale_runs` still lists them.
        """
        now = time.time()
        with self._write() as conn:
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
                self._bump(conn)
        return run_ids

    # ------------------------------------------------------------------ runs
    def begin_run(self, video_id: str, modality: Modality, models: dict[str, str]) -> str:
        run_id = uuid.uuid4().hex
        with self._write() as conn:
            if (
                conn.execute("SELECT 1 FROM videos WHERE video_id = ?", (video_id,)).fetchone()
                is None
            ):
                raise NotFoundError(f"cannot index unknown video {video_id!r}: upsert it first")
            conn.execute(
                "INSERT INTO runs(run_id, video_id, modality, status, models, started_at) "
                "VALUES (?,?,?,?,?,?)",
                (
                    run_id,
                    video_id,
                    str(Modality(modality)),
                    RunStatus.RUNNING.value,
                    json.dumps(models),
                    time.time(),
                ),
            )
        return run_id

    def commit_run(
        self, video_id: str, modality: Modality, run_id: str, segments: list[Segment]
    ) -> str | None:
        """Atomically make ``run_id`` the active run; return the superseded run id or None."""
        modality = Modality(modality)
        rows = []
        for index, seg in enumerate(segments):
            if seg.video_id != video_id or seg.modality != modality:
                raise StoreError(
                    f"segment {index} is ({seg.video_id}, {seg.modality}), "
                    f"not ({video_id}, {modality})"
                )
            rows.append(
                (
                    f"{run_id}:{index}",
                    video_id,
                    run_id,
                    modality.value,
                    index,
                    seg.start_s,
                    seg.end_s,
                    seg.text,
                    seg.frame_time_s,
                    seg.shot_id,
                    seg.confidence,
                    json.dumps([w.model_dump() for w in seg.words]) if seg.words else "[]",
                    seg.source,
                    seg.thumbnail,
                )
            )
        now = time.time()
        with self._write() as conn:
            run = conn.execute(
                "SELECT video_id, modality, status FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
            if run is None:
                raise NotFoundError(f"unknown run {run_id!r}")
            if (run["video_id"], run["modality"]) != (video_id, modality.value):
                raise StoreError(f"run {run_id} belongs to ({run['video_id']}, {run['modality']})")
            if run["status"] != RunStatus.RUNNING.value:
                raise StoreError(
                    f"run {run_id} is {run['status']}, only a running run can be committed"
                )
            video = conn.execute("SELECT 1 FROM videos WHERE video_id = ?", (video_id,)).fetchone()
            if video is None:
                raise NotFoundError(f"video {video_id!r} was deleted while it was being indexed")
            previous = conn.execute(
                "SELECT run_id FROM active_runs WHERE video_id = ? AND modality = ?",
                (video_id, modality.value),
            ).fetchone()
            old_run_id: str | None = previous[0] if previous else None
            conn.execute(
                "DELETE FROM segments WHERE video_id = ? AND modality = ?",
                (video_id, modality.value),
            )
            conn.executemany(
                f"INSERT INTO segments(id, video_id, run_id, modality, idx, start_s, end_s, text, "
                f"frame_time_s, shot_id, confidence, words, source, thumbnail) "
                f"VALUES ({','.join('?' * 14)})",
                rows,
            )
            conn.execute(
                "INSERT INTO active_runs(video_id, modality, run_id) VALUES (?,?,?) "
                "ON CONFLICT(video_id, modality) DO UPDATE SET run_id = excluded.run_id",
                (video_id, modality.value, run_id),
            )
            conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, segment_count = ? WHERE run_id = ?",
                (RunStatus.COMMITTED.value, now, len(rows), run_id),
            )
            if old_run_id and old_run_id != run_id:
                conn.execute(
                    "UPDATE runs SET status = ? WHERE run_id = ?",
                    (RunStatus.SUPERSEDED.value, old_run_id),
                )
            self._bump(conn)
        return old_run_id

    def fail_run(self, run_id: str, error: str) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, error = ? "
                "WHERE run_id = ? AND status = ?",
                (
                    RunStatus.FAILED.value,
                    time.time(),
                    " ".join(error.split()),
                    run_id,
                    RunStatus.RUNNING.value,
                ),
            )

    def mark_run_purged(self, run_id: str) -> None:
        """Record that the run's vectors are gone. Refuses to purge an active run."""
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM active_runs WHERE run_id = ?", (run_id,)).fetchone():
                raise StoreError(f"run {run_id} is active and cannot be purged")
            conn.execute("DELETE FROM segments WHERE run_id = ?", (run_id,))
            conn.execute(
                "UPDATE runs SET status = ?, finished_at = COALESCE(finished_at, ?) "
                "WHERE run_id = ?",
                (RunStatus.PURGED.value, time.time(), run_id),
            )

    def active_runs(self) -> dict[tuple[str, str], str]:
        rows = self._read("SELECT video_id, modality, run_id FROM active_runs")
        return {(row[0], row[1]): row[2] for row in rows}

    def active_run_ids(self) -> set[str]:
        return {row[0] for row in self._read("SELECT run_id FROM active_runs")}

    def stale_runs(self, older_than_s: float = 6 * 3600.0) -> list[tuple[str, str]]:
        """(video_id, run_id) of runs whose vectors may be purged.

        Failed and superseded runs always qualify; a ``running`` run that is not active only once
        it started more than ``older_than_s`` ago (it may be in progress in another process).
        """
        cutoff = time.time() - older_than_s
        rows = self._read(
            "SELECT video_id, run_id FROM runs WHERE status IN (?, ?, ?) "
            "AND run_id NOT IN (SELECT run_id FROM active_runs) "
            "AND (status != ? OR started_at < ?) ORDER BY started_at",
            (
                RunStatus.FAILED.value,
                RunStatus.SUPERSEDED.value,
                RunStatus.RUNNING.value,
                RunStatus.RUNNING.value,
                cutoff,
            ),
        )
        return [(row[0], row[1]) for row in rows]

    def get_run(self, run_id: str) -> RunInfo | None:
        runs = self._runs("WHERE r.run_id = ?", (run_id,))
        return runs[0] if runs else None

    def list_runs(self, video_id: str | None = None) -> list[RunInfo]:
        if video_id is None:
            return self._runs("", ())
        return self._runs("WHERE r.video_id = ?", (video_id,))

    def _runs(self, where: str, params: Sequence[object]) -> list[RunInfo]:
        rows = self._read(
            "SELECT r.*, a.run_id IS NOT NULL AS active FROM runs r "
            f"LEFT JOIN active_runs a ON a.run_id = r.run_id {where} ORDER BY r.started_at",
            params,
        )
        return [
            RunInfo(
                run_id=row["run_id"],
                video_id=row["video_id"],
                modality=Modality(row["modality"]),
                status=RunStatus(row["status"]),
                models=json.loads(row["models"]),
                started_at=row["started_at"],
                finished_at=row["finished_at"],
                error=row["error"],
                segment_count=row["segment_count"],
                active=bool(row["active"]),
            )
            for row in rows
        ]
