"""The catalog's SQLite file: per-thread connections (WAL, busy timeout, foreign keys), write
transactions, the numbered migrations of :mod:`.migrations` applied on open, and the ``meta``
counters the repositories bump so caches in other processes notice changes."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from scenespark.errors import StoreError
from scenespark.store.catalog.migrations import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 10_000


def to_iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class CatalogDatabase:
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
    def write(self) -> Iterator[sqlite3.Connection]:
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

    def read(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
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
            with self.write() as conn:
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
                    MIGRATIONS[number](conn)
                    conn.execute("UPDATE schema_version SET version = ?", (number + 1,))
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"catalog {self.path} is not a usable SQLite database: {exc}") from exc

    def schema_version(self) -> int:
        return int(self.read("SELECT version FROM schema_version")[0][0])


def bump_videos_version(conn: sqlite3.Connection) -> None:
    """Within a write transaction: a video row changed (caches of videos key on this)."""
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('videos_version', 1) "
        "ON CONFLICT(key) DO UPDATE SET value = value + 1"
    )


def bump_generation(conn: sqlite3.Connection) -> None:
    """Within a write transaction: searchable content changed (a run commit, a deletion)."""
    conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
    bump_videos_version(conn)


def generation(db: CatalogDatabase) -> int:
    """The counter bumped on every run commit and video deletion (visible across processes)."""
    return int(db.read("SELECT value FROM meta WHERE key = 'generation'")[0][0])


def videos_version(db: CatalogDatabase) -> int:
    """The counter bumped on every change to a video row."""
    rows = db.read("SELECT value FROM meta WHERE key = 'videos_version'")
    return int(rows[0][0]) if rows else 0
