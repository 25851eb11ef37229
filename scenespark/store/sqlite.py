"""SQLite plumbing of the catalog: per-thread connections (WAL, busy timeout, foreign keys),
write transactions, and numbered schema migrations kept in a ``schema_version`` table."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from scenespark.errors import StoreError

BUSY_TIMEOUT_MS = 10_000

MIGRATIONS: list[str] = [
    """
    CREATE TABLE videos (
        video_id TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        duration_s REAL NOT NULL DEFAULT 0,
        fps REAL NOT NULL DEFAULT 0,
        width INTEGER NOT NULL DEFAULT 0,
        height INTEGER NOT NULL DEFAULT 0,
        has_audio INTEGER NOT NULL DEFAULT 0,
        content_sha256 TEXT NOT NULL DEFAULT '',
        size_bytes INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'queued',
        error TEXT NOT NULL DEFAULT '',
        indexed_at TEXT,
        run_id TEXT NOT NULL DEFAULT '',
        models TEXT NOT NULL DEFAULT '{}',
        counts TEXT NOT NULL DEFAULT '{}',
        shots TEXT NOT NULL DEFAULT '[]',
        thumbnail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX videos_path ON videos(path);
    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        video_id TEXT NOT NULL,
        modality TEXT NOT NULL,
        status TEXT NOT NULL,
        models TEXT NOT NULL DEFAULT '{}',
        started_at REAL NOT NULL,
        finished_at REAL,
        error TEXT NOT NULL DEFAULT '',
        segment_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX runs_video ON runs(video_id, modality);
    CREATE TABLE active_runs (
        video_id TEXT NOT NULL REFERENCES videos(video_id) ON DELETE CASCADE,
        modality TEXT NOT NULL,
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        PRIMARY KEY (video_id, modality)
    );
    CREATE TABLE segments (
        id TEXT PRIMARY KEY,
        video_id TEXT NOT NULL REFERENCES videos(video_id) ON DELETE CASCADE,
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        modality TEXT NOT NULL,
        idx INTEGER NOT NULL,
        start_s REAL NOT NULL,
        end_s REAL NOT NULL,
        text TEXT NOT NULL DEFAULT '',
        frame_time_s REAL,
        shot_id INTEGER NOT NULL DEFAULT -1,
        confidence REAL NOT NULL DEFAULT 1,
        words TEXT NOT NULL DEFAULT '[]',
        source TEXT NOT NULL DEFAULT '',
        thumbnail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX segments_video ON segments(video_id, modality, start_s);
    CREATE INDEX segments_run ON segments(run_id);
    CREATE TABLE jobs (
        request_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        progress REAL NOT NULL DEFAULT 0,
        prompt TEXT NOT NULL DEFAULT '',
        params TEXT NOT NULL DEFAULT '{}',
        result TEXT,
        error TEXT NOT NULL DEFAULT '',
        message TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE INDEX jobs_kind ON jobs(kind, status, created_at);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO meta(key, value) VALUES ('generation', 0);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def to_iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class SQLiteDB:
    """A SQLite file shared by threads (one connection each) and processes (WAL)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create catalog folder {self.path.parent}: {exc}") from exc
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._closed = False
        self._migrate()

    # ------------------------------------------------------------------ connections
    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError(f"catalog {self.path} is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(
                    self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
                )
                conn.row_factory = sqlite3.Row
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute("PRAGMA foreign_keys = ON")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open catalog {self.path}: {exc}") from exc
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: takes the write lock up front)."""
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"catalog {self.path} is busy or unwritable: {exc}") from exc
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise StoreError(f"catalog commit failed: {exc}") from exc

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"catalog query failed: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                with suppress(sqlite3.Error):
                    conn.close()
            self._connections.clear()
            self._closed = True
        self._local = threading.local()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        try:
            with self._write() as conn:
                conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                row = conn.execute("SELECT version FROM schema_version").fetchone()
                version = int(row[0]) if row else 0
                if row is None:
                    conn.execute("INSERT INTO schema_version(version) VALUES (0)")
                if version > SCHEMA_VERSION:
                    raise StoreError(
                        f"catalog {self.path} has schema version {version}, newer than this "
                        f"SceneSpark ({SCHEMA_VERSION}); upgrade SceneSpark"
                    )
                for number in range(version, SCHEMA_VERSION):
                    for statement in MIGRATIONS[number].split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute("UPDATE schema_version SET version = ?", (number + 1,))
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"catalog {self.path} is not a usable SQLite database: {exc}") from exc

    def schema_version(self) -> int:
        return int(self._read("SELECT version FROM schema_version")[0][0])
