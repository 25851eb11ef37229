"""The jobs repository: highlight and index jobs in the catalog, so they survive restarts."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from scenespark.store.catalog.database import CatalogDatabase, from_iso, to_iso
from scenespark.types import HighlightJob, HighlightResult, JobStatus


def job_from_row(row: sqlite3.Row) -> HighlightJob:
    return HighlightJob(
        request_id=row["request_id"],
        kind=row["kind"],
        prompt=row["prompt"],
        params=json.loads(row["params"]),
        status=JobStatus(row["status"]),
        progress=row["progress"],
        message=row["message"],
        result=HighlightResult.model_validate_json(row["result"]) if row["result"] else None,
        error=row["error"],
        created_at=from_iso(row["created_at"]),
        finished_at=from_iso(row["finished_at"]),
    )


class JobRepository:
    """Jobs: upsert, look-up and listing (newest first)."""

    def __init__(self, db: CatalogDatabase) -> None:
        self.db = db

    def save(self, job: HighlightJob) -> None:
        result = job.result.model_dump_json() if job.result is not None else None
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO jobs(request_id, kind, status, progress, prompt, params, result, "
                "error, message, created_at, finished_at) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(request_id) DO UPDATE SET kind=excluded.kind, status=excluded.status, "
                "progress=excluded.progress, prompt=excluded.prompt, params=excluded.params, "
                "result=excluded.result, error=excluded.error, message=excluded.message, "
                "created_at=excluded.created_at, finished_at=excluded.finished_at",
                (
                    job.request_id,
                    job.kind,
                    str(job.status),
                    job.progress,
                    job.prompt,
                    json.dumps(job.params, default=str),
                    result,
                    job.error,
                    job.message,
                    to_iso(job.created_at),
                    to_iso(job.finished_at),
                ),
            )

    def get(self, request_id: str) -> HighlightJob | None:
        rows = self.db.read("SELECT * FROM jobs WHERE request_id = ?", (request_id,))
        return job_from_row(rows[0]) if rows else None

    def newest(
        self,
        kind: str | None = None,
        statuses: Sequence[JobStatus] | None = None,
        limit: int = 50,
    ) -> list[HighlightJob]:
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
