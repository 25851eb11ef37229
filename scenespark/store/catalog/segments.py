"""The segments repository: reads of the catalog's segments; only those of active runs are ever
returned (the runs repository writes them, in :meth:`RunRepository.commit`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from scenespark.store.catalog.database import CatalogDatabase
from scenespark.store.catalog.migrations import FRAME_TIME_SQL
from scenespark.types import Modality, Segment, Word

SEGMENT_COLUMNS = (
    "id, video_id, run_id, modality, start_s, end_s, text, frame_time_s, shot_id, confidence, "
    "words, source, thumbnail"
)


def segment_from_row(row: sqlite3.Row | tuple, with_words: bool = True) -> Segment:
    """Row in SEGMENT_COLUMNS order → Segment (trusted data: validated when written)."""
    (seg_id, video_id, _run, modality, start_s, end_s, text, frame_time_s, shot_id,
     confidence, words, source, thumbnail) = tuple(row)  # fmt: skip
    return Segment.model_construct(
        segment_id=seg_id,
        video_id=video_id,
        modality=Modality(modality),
        start_s=start_s,
        end_s=end_s,
        text=text,
        frame_time_s=frame_time_s,
        shot_id=shot_id,
        confidence=confidence,
        words=[Word.model_construct(**w) for w in json.loads(words)]
        if with_words and words != "[]"
        else [],
        source=source,
        thumbnail=thumbnail,
    )


class SegmentRepository:
    """Active segments: by video and modality, by id, texts for the keyword index, counts."""

    def __init__(self, db: CatalogDatabase) -> None:
        self.db = db

    def active(
        self,
        video_id: str | None = None,
        modalities: Sequence[Modality] | None = None,
        *,
        with_words: bool = True,
    ) -> list[Segment]:
        """Segments of active runs (``segment_id`` set), ordered by video then start time."""
        clauses = ["s.run_id = a.run_id"]
        params: list[object] = []
        if video_id is not None:
            clauses.append("s.video_id = ?")
            params.append(video_id)
        if modalities is not None:
            if not modalities:
                return []
            clauses.append(f"s.modality IN ({','.join('?' * len(modalities))})")
            params.extend(Modality(m).value for m in modalities)
        rows = self.db.read(
            f"SELECT {', '.join('s.' + c.strip() for c in SEGMENT_COLUMNS.split(','))} "
            "FROM segments s JOIN active_runs a "
            "ON a.video_id = s.video_id AND a.modality = s.modality "
            f"WHERE {' AND '.join(clauses)} ORDER BY s.video_id, s.start_s, s.modality, s.idx",
            params,
        )
        return [segment_from_row(row, with_words) for row in rows]

    def texts(self) -> list[tuple[str, str, str, str]]:
        """(segment_id, video_id, modality, text) of active segments with text (keyword index).

        Much cheaper than :meth:`active` for the whole library (no model objects).
        """
        rows = self.db.read(
            "SELECT s.id, s.video_id, s.modality, s.text FROM segments s JOIN active_runs a "
            "ON a.video_id = s.video_id AND a.modality = s.modality "
            "WHERE s.run_id = a.run_id AND s.text != ''"
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]

    def active_ids(
        self, video_ids: Sequence[str], modalities: Sequence[Modality]
    ) -> dict[str, list[str]]:
        """Ids of the active segments of these videos, per modality (search pre-selects a
        video's vectors by them)."""
        out: dict[str, list[str]] = {}
        videos, wanted = list(dict.fromkeys(video_ids)), [Modality(m).value for m in modalities]
        if not videos or not wanted:
            return out
        rows = self.db.read(
            "SELECT s.id, s.modality FROM segments s JOIN active_runs a "
            "ON a.video_id = s.video_id AND a.modality = s.modality AND a.run_id = s.run_id "
            f"WHERE s.video_id IN ({','.join('?' * len(videos))}) "
            f"AND s.modality IN ({','.join('?' * len(wanted))})",
            [*videos, *wanted],
        )
        for seg_id, modality in rows:
            out.setdefault(modality, []).append(seg_id)
        return out

    def by_ids(self, ids: Sequence[str]) -> dict[str, Segment]:
        """Active segments by id (unknown or inactive ids are left out)."""
        found: dict[str, Segment] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            rows = self.db.read(
                f"SELECT {SEGMENT_COLUMNS} FROM segments "
                f"WHERE id IN ({','.join('?' * len(chunk))}) AND EXISTS (SELECT 1 FROM "
                "active_runs a WHERE a.video_id = segments.video_id "
                "AND a.modality = segments.modality AND a.run_id = segments.run_id)",
                chunk,
            )
            for row in rows:
                found[row["id"]] = segment_from_row(row)
        return found

    def nearest_thumbnail(self, video_id: str, time_s: float) -> str:
        """Thumbnail of the video's active visual segment whose frame time (else start) is
        nearest to ``time_s``, the earliest on ties; "" when it has none. One indexed query
        instead of loading every visual segment of a long video."""
        runs = self.db.read(
            "SELECT run_id FROM active_runs WHERE video_id = ? AND modality = ?",
            (video_id, Modality.VISUAL.value),
        )
        if not runs:
            return ""
        key = (video_id, Modality.VISUAL.value, runs[0][0], float(time_s))
        found: list[tuple[float, float, int, str]] = []  # (distance, start_s, idx, thumbnail)
        for op, order in (("<=", "DESC"), (">", "ASC")):  # the nearest on each side (indexed)
            rows = self.db.read(
                f"SELECT {FRAME_TIME_SQL}, start_s, idx, thumbnail FROM segments "
                f"WHERE video_id = ? AND modality = ? AND run_id = ? AND {FRAME_TIME_SQL} {op} ? "
                f"AND thumbnail != '' ORDER BY {FRAME_TIME_SQL} {order}, start_s, idx LIMIT 1",
                key,
            )
            found += [(abs(float(r[0]) - time_s), float(r[1]), int(r[2]), str(r[3])) for r in rows]
        return min(found)[3] if found else ""

    def counts(self, video_id: str | None = None) -> dict[str, int]:
        """Active segment counts by modality (from the active runs' recorded counts)."""
        sql = (
            "SELECT r.modality, SUM(r.segment_count) FROM active_runs a "
            "JOIN runs r ON r.run_id = a.run_id"
        )
        params: tuple[object, ...] = ()
        if video_id is not None:
            sql += " WHERE a.video_id = ?"
            params = (video_id,)
        rows = self.db.read(sql + " GROUP BY r.modality", params)
        return {row[0]: int(row[1]) for row in rows if row[1]}
