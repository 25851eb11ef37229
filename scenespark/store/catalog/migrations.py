"""Schema migrations of the catalog, as numbered functions.

``MIGRATIONS[n]`` upgrades a catalog from schema version ``n`` to ``n + 1``; each runs inside the
same write transaction as the version bump, so a crash leaves the previous version intact. Never
edit a released migration: append a new numbered function. A catalog written by any earlier
SceneSpark opens (its version is below or equal to ``SCHEMA_VERSION``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]


def migration_001_initial_schema(conn: sqlite3.Connection) -> None:
    """Videos, index runs (one per video and modality attempt), the active run of each (video,
    modality), segments, jobs, and the ``meta`` counters (``generation``)."""
    conn.execute(
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
        )
        """
    )
    conn.execute("CREATE INDEX videos_path ON videos(path)")
    conn.execute(
        """
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
        )
        """
    )
    conn.execute("CREATE INDEX runs_video ON runs(video_id, modality)")
    conn.execute(
        """
        CREATE TABLE active_runs (
            video_id TEXT NOT NULL REFERENCES videos(video_id) ON DELETE CASCADE,
            modality TEXT NOT NULL,
            run_id TEXT NOT NULL REFERENCES runs(run_id),
            PRIMARY KEY (video_id, modality)
        )
        """
    )
    conn.execute(
        """
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
        )
        """
    )
    conn.execute("CREATE INDEX segments_video ON segments(video_id, modality, start_s)")
    conn.execute("CREATE INDEX segments_run ON segments(run_id)")
    conn.execute(
        """
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
        )
        """
    )
    conn.execute("CREATE INDEX jobs_kind ON jobs(kind, status, created_at)")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
    conn.execute("INSERT INTO meta(key, value) VALUES ('generation', 0)")


def migration_002_frame_captions(conn: sqlite3.Connection) -> None:
    """Frames described by a vision LLM (a per-frame cache and ledger: a rebuild sends only the
    frames still ``missing``) and the requests, images and bytes sent per video."""
    conn.execute(
        """
        CREATE TABLE frame_captions (
            video_id TEXT NOT NULL REFERENCES videos(video_id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            time_ms INTEGER NOT NULL,
            phash TEXT NOT NULL DEFAULT '',
            caption TEXT NOT NULL DEFAULT '',
            tags TEXT NOT NULL DEFAULT '[]',
            status TEXT NOT NULL,
            error TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (video_id, model, time_ms)
        )
        """
    )
    conn.execute(
        """
        CREATE TABLE vision_usage (
            video_id TEXT NOT NULL REFERENCES videos(video_id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            host TEXT NOT NULL DEFAULT '',
            requests INTEGER NOT NULL DEFAULT 0,
            images INTEGER NOT NULL DEFAULT 0,
            image_bytes INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (video_id, model)
        )
        """
    )


def migration_003_speech_language(conn: sqlite3.Connection) -> None:
    """The language of each video's speech (or subtitles), how sure the detection was and
    where it came from (detected, forced by the setting, a sidecar)."""
    conn.execute("ALTER TABLE videos ADD COLUMN speech_language TEXT NOT NULL DEFAULT ''")
    conn.execute("ALTER TABLE videos ADD COLUMN speech_language_probability REAL")
    conn.execute("ALTER TABLE videos ADD COLUMN speech_language_source TEXT NOT NULL DEFAULT ''")
    conn.execute(
        "ALTER TABLE videos ADD COLUMN speech_language_uncertain INTEGER NOT NULL DEFAULT 0"
    )


def migration_004_job_interruptions(conn: sqlite3.Connection) -> None:
    """How many server stops or crashes a job ran into: a job interrupted too often fails
    instead of resuming on every start."""
    conn.execute("ALTER TABLE jobs ADD COLUMN interruptions INTEGER NOT NULL DEFAULT 0")


# where a segment's thumbnail was taken: its frame, else its start (the nearest-thumbnail key)
FRAME_TIME_SQL = "COALESCE(NULLIF(frame_time_s, 0), start_s)"


def migration_005_thumbnail_times(conn: sqlite3.Connection) -> None:
    """An index on each run's segments by frame time: a search hit's thumbnail is the nearest
    one before or after its time (two index seeks, not a sort of the video's visual rows)."""
    conn.execute(
        f"CREATE INDEX segments_frame_time ON segments(video_id, modality, run_id, {FRAME_TIME_SQL})"
    )


MIGRATIONS: tuple[Migration, ...] = (
    migration_001_initial_schema,
    migration_002_frame_captions,
    migration_003_speech_language,
    migration_004_job_interruptions,
    migration_005_thumbnail_times,
)
SCHEMA_VERSION = len(MIGRATIONS)
