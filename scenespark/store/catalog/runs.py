"""The runs repository: index runs, one per indexing attempt of one (video, modality) pair.

The indexer writes a run's vectors into Chroma tagged with its ``run_id``, then calls
:meth:`RunRepository.commit`, which in ONE transaction inserts the run's segments, switches the
active run for (video, modality) and deletes the previous segments of that modality. Only then are
the old run's vectors deleted from Chroma. A crash before the commit leaves the previous run
active; the orphan vectors of uncommitted runs are ignored by search (it keeps only active run
ids) and purged later via :meth:`RunRepository.stale`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from enum import StrEnum

from pydantic import BaseModel, Field

from scenespark.errors import NotFoundError, StoreError
from scenespark.store.catalog.database import CatalogDatabase, bump_generation
from scenespark.types import Modality, Segment


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


class RunRepository:
    """Runs: begin, commit (atomic switch of the active run), fail, purge, listing."""

    def __init__(self, db: CatalogDatabase) -> None:
        self.db = db

    def begin(self, video_id: str, modality: Modality, models: dict[str, str]) -> str:
        run_id = uuid.uuid4().hex
        with self.db.write() as conn:
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

    def commit(
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
        with self.db.write() as conn:
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
            bump_generation(conn)
        return old_run_id

    def fail(self, run_id: str, error: str) -> None:
        with self.db.write() as conn:
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

    def mark_purged(self, run_id: str) -> None:
        """Record that the run's vectors are gone. Refuses to purge an active run."""
        with self.db.write() as conn:
            if conn.execute("SELECT 1 FROM active_runs WHERE run_id = ?", (run_id,)).fetchone():
                raise StoreError(f"run {run_id} is active and cannot be purged")
            conn.execute("DELETE FROM segments WHERE run_id = ?", (run_id,))
            conn.execute(
                "UPDATE runs SET status = ?, finished_at = COALESCE(finished_at, ?) "
                "WHERE run_id = ?",
                (RunStatus.PURGED.value, time.time(), run_id),
            )

    def active(self) -> dict[tuple[str, str], str]:
        rows = self.db.read("SELECT video_id, modality, run_id FROM active_runs")
        return {(row[0], row[1]): row[2] for row in rows}

    def active_ids(self) -> set[str]:
        return {row[0] for row in self.db.read("SELECT run_id FROM active_runs")}

    def stale(self, older_than_s: float = 6 * 3600.0) -> list[tuple[str, str]]:
        """(video_id, run_id) of runs whose vectors may be purged.

        Failed and superseded runs always qualify; a ``running`` run that is not active only once
        it started more than ``older_than_s`` ago (it may be in progress in another process).
        """
        cutoff = time.time() - older_than_s
        rows = self.db.read(
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

    def get(self, run_id: str) -> RunInfo | None:
        runs = self._select("WHERE r.run_id = ?", (run_id,))
        return runs[0] if runs else None

    def of_video(self, video_id: str | None = None) -> list[RunInfo]:
        if video_id is None:
            return self._select("", ())
        return self._select("WHERE r.video_id = ?", (video_id,))

    def _select(self, where: str, params: Sequence[object]) -> list[RunInfo]:
        rows = self.db.read(
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
