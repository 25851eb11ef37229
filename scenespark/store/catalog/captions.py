"""The captions repository: frames described by a vision LLM, per (video, model, frame time).

A cache and a ledger: a frame described once is never sent again for the same model (a rebuild
sends only the frames whose row is ``missing``), and the counts shown by ``index status`` and
``/api/v1/health`` (frames captioned / missing, requests, images and bytes sent) come from here.
Rows are written after each request, so an interrupted run keeps what it paid for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from scenespark.store.catalog.database import CatalogDatabase

CaptionStatus = Literal["captioned", "missing"]


@dataclass(frozen=True)
class StoredCaption:
    time_ms: int
    phash: int
    status: CaptionStatus
    caption: str = ""
    tags: list[str] = field(default_factory=list)
    error: str = ""


@dataclass(frozen=True)
class VisionUsage:
    """Totals over the library (or one video) for one vision model."""

    frames_captioned: int = 0
    frames_missing: int = 0
    requests: int = 0
    images: int = 0
    image_bytes: int = 0
    hosts: tuple[str, ...] = ()


class CaptionRepository:
    """``frame_captions`` and ``vision_usage`` tables."""

    def __init__(self, db: CatalogDatabase) -> None:
        self.db = db

    def of_video(self, video_id: str, model: str) -> list[StoredCaption]:
        rows = self.db.read(
            "SELECT time_ms, phash, status, caption, tags, error FROM frame_captions "
            "WHERE video_id = ? AND model = ? ORDER BY time_ms",
            (video_id, model),
        )
        return [
            StoredCaption(
                time_ms=int(r[0]),
                phash=int(r[1], 16) if r[1] else 0,
                status=r[2],
                caption=r[3],
                tags=list(json.loads(r[4])),
                error=r[5],
            )
            for r in rows
        ]

    def save(self, video_id: str, model: str, rows: Iterable[StoredCaption]) -> None:
        """Insert or replace rows; a ``missing`` row never overwrites a ``captioned`` one."""
        values = [
            (
                video_id,
                model,
                r.time_ms,
                f"{r.phash:016x}",
                r.caption,
                json.dumps(r.tags, ensure_ascii=False),
                r.status,
                r.error[:500],
            )
            for r in rows
        ]
        if not values:
            return
        with self.db.write() as conn:
            conn.executemany(
                "INSERT INTO frame_captions(video_id, model, time_ms, phash, caption, tags, "
                "status, error) VALUES (?,?,?,?,?,?,?,?) "
                "ON CONFLICT(video_id, model, time_ms) DO UPDATE SET phash=excluded.phash, "
                "caption=excluded.caption, tags=excluded.tags, status=excluded.status, "
                "error=excluded.error "
                "WHERE excluded.status = 'captioned' OR frame_captions.status != 'captioned'",
                values,
            )

    def keep_only(self, video_id: str, model: str, times_ms: Iterable[int]) -> None:
        """Forget this video's rows (for ``model``) whose frame is not in ``times_ms``: the
        ledger then describes the frames of the latest run only."""
        keep = sorted(set(times_ms))
        with self.db.write() as conn:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS keep_times (time_ms INTEGER)")
            conn.execute("DELETE FROM keep_times")
            conn.executemany("INSERT INTO keep_times VALUES (?)", [(t,) for t in keep])
            conn.execute(
                "DELETE FROM frame_captions WHERE video_id = ? AND model = ? "
                "AND time_ms NOT IN (SELECT time_ms FROM keep_times)",
                (video_id, model),
            )
            conn.execute("DELETE FROM keep_times")

    def add_usage(
        self, video_id: str, model: str, host: str, *, requests: int, images: int, image_bytes: int
    ) -> None:
        if not requests:
            return
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO vision_usage(video_id, model, host, requests, images, image_bytes) "
                "VALUES (?,?,?,?,?,?) ON CONFLICT(video_id, model) DO UPDATE SET "
                "host=excluded.host, requests=requests+excluded.requests, "
                "images=images+excluded.images, image_bytes=image_bytes+excluded.image_bytes",
                (video_id, model, host, requests, images, image_bytes),
            )

    def usage(self, model: str, video_id: str | None = None) -> VisionUsage:
        where, params = ("model = ?", [model])
        if video_id is not None:
            where, params = ("model = ? AND video_id = ?", [model, video_id])
        counts = dict(
            (str(r[0]), int(r[1]))
            for r in self.db.read(
                f"SELECT status, COUNT(*) FROM frame_captions WHERE {where} GROUP BY status",
                params,
            )
        )
        usage = self.db.read(
            "SELECT COALESCE(SUM(requests),0), COALESCE(SUM(images),0), "
            f"COALESCE(SUM(image_bytes),0), group_concat(DISTINCT host) FROM vision_usage "
            f"WHERE {where}",
            params,
        )[0]
        return VisionUsage(
            frames_captioned=counts.get("captioned", 0),
            frames_missing=counts.get("missing", 0),
            requests=int(usage[0]),
            images=int(usage[1]),
            image_bytes=int(usage[2]),
            hosts=tuple(sorted(h for h in (usage[3] or "").split(",") if h)),
        )
