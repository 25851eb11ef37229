"""The jobs repository: highlight and index jobs in the catalog, so they survive restarts.

A job's output is kept in the ``result`` column as JSON: the highlight result of a highlight
job, ``{"outcomes": [...]}`` (one per file) for an index job.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from scenespark.store.catalog.database import CatalogDatabase, from_iso, to_iso
from scenespark.types import AnyJob, Job, JobStatus, job_from_stored


def job_from_row(row: sqlite3.Row) -> AnyJob:
    return job_from_stored(
        row["kind"],
        row["result"],
        request_id=row["request_id"],
        prompt=row["prompt"],
        params=json.loads(row["params"]),
        status=JobStatus(row["status"]),
        progress=row["progress"],
        message=row["message"],
        error=row["error"],
        interruptions=row["interruptions"],
        created_at=from_iso(row["created_at"]),
        finished_at=from_iso(row["finished_at"]),
    )


class JobRepository:
    """Jobs: upsert, look-up and listing (newest first)."""

    def __init__(self, db: CatalogDatabase) -> None:
        self.db = db

    def save(self, job: Job) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO jobs(request_id, kind, status, progress, prompt, params, result, "
                "error, message, created_at, finished_at, interruptions) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(request_id) DO UPDATE SET kind=excluded.kind, status=excluded.status, "
                "progress=excluded.progress, prompt=excluded.prompt, params=excluded.params, "
                "result=excluded.result, error=excluded.error, message=excluded.message, "
                "created_at=excluded.created_at, finished_at=excluded.finished_at, "
                "interruptions=excluded.interruptions",
                (
                    job.request_id,
                    job.kind,
                    str(job.status),
                    job.progress,
                    job.prompt,
                    json.dumps(job.params, default=str),
                    job.output_json(),
                    job.error,
                    job.message,
                    to_iso(job.created_at),
                    to_iso(job.finished_at),
                    job.interruptions,
                ),
            )

    def get(self, request_id: str) -> AnyJob | None:
        rows = self.db.read("SELECT * FROM jobs WHERE request_id = ?", (request_id,))
        return job_from_row(rows[0]) if rows else None

    def newest(
        self,
        kind: str | None = None,
        statuses: Sequence[JobStatus] | None = None,
        limit: int = 50,
    ) -> list[AnyJob]:
        """Newest first."""
        clauses: list[str] = []
        params: list[object] = []
        if kind is not None:
            clauses.append("kind = ?")
            params.append(kind)
        if statuses is not None:
            if not statuses:
                return []
            clauses.append(f"status IN ({','.join('?' * len(statuses))})")
            params.extend(JobStatus(s).value for s in statuses)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        params.append(max(0, int(limit)))
        rows = self.db.read(
            f"SELECT * FROM jobs {where} ORDER BY created_at DESC, rowid DESC LIMIT ?", params
        )
        return [job_from_row(row) for row in rows]
