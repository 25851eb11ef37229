"""Lean reads of one Chroma collection for search: ids and cosine similarities only.

Search needs the ids and scores of the nearest records; everything else about a record (text,
video, run, times) is in the catalog, which search reads anyway. Asking Chroma for the
metadata and documents of the matches is what made a query slow, not the HNSW search: at 229k
vectors (bench/search_latency.py, 100 h) a 90-result query took 7-12 ms per collection with
metadata and documents, 1.7-2.6 ms with distances only (llama-index's node parsing on top
added 1-3 ms). A filter on one video is faster by its pre-selected ids: fetching a video's
few hundred vectors and scoring them exactly takes 1-5 ms per collection, where Chroma's
``where`` filter took 14-173 ms (and a query restricted to ``ids`` 11-124 ms).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from scenespark.errors import StoreError
from scenespark.store.vectors.records import one_line

IdScore = tuple[str, float]  # (record id, cosine similarity -1..1)
GET_CHUNK = 5_000  # ids per get (SQLite's variable limit is lower than some videos' counts)


def nearest_ids(
    collection: Any, embedding: list[float], n_results: int, *, what: str
) -> list[IdScore]:
    """The ``n_results`` nearest records of the collection (HNSW), best first."""
    try:
        found = collection.query(
            query_embeddings=[embedding], n_results=max(1, n_results), include=["distances"]
        )
    except Exception as exc:
        raise StoreError(f"vector query on {what} failed: {one_line(exc)}") from exc
    ids = (found.get("ids") or [[]])[0]
    distances = (found.get("distances") or [[]])[0]
    # cosine distance d = 1 - cos
    return [
        (str(i), max(-1.0, min(1.0, 1.0 - float(d)))) for i, d in zip(ids, distances, strict=False)
    ]


def fetch_vectors(
    collection: Any, ids: Sequence[str], *, what: str
) -> tuple[list[str], np.ndarray]:
    """(found ids, their unit vectors as rows) of ``ids`` in the collection; unknown ids are
    skipped."""
    found_ids: list[str] = []
    blocks: list[np.ndarray] = []
    try:
        for start in range(0, len(ids), GET_CHUNK):
            got = collection.get(ids=list(ids[start : start + GET_CHUNK]), include=["embeddings"])
            embeddings = got.get("embeddings")
            if embeddings is None or len(got["ids"]) == 0:
                continue
            found_ids.extend(str(i) for i in got["ids"])
            blocks.append(np.asarray(embeddings, dtype=np.float32))
    except Exception as exc:
        raise StoreError(f"reading vectors of {what} failed: {one_line(exc)}") from exc
    if not found_ids:
        return [], np.zeros((0, 0), dtype=np.float32)
    matrix = np.vstack(blocks)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    matrix /= norms
    matrix.setflags(write=False)
    return found_ids, matrix


def top_cosines(
    ids: list[str], matrix: np.ndarray, query: np.ndarray, n_results: int
) -> list[IdScore]:
    """The ``n_results`` rows of ``matrix`` (unit vectors) most similar to ``query``."""
    if not ids or n_results <= 0:
        return []
    q = np.asarray(query, dtype=np.float32).reshape(-1)
    q = q / (float(np.linalg.norm(q)) or 1.0)
    cosines = matrix @ q
    k = min(n_results, len(ids))
    best = np.argpartition(-cosines, k - 1)[:k] if k < len(ids) else np.arange(k)
    best = best[np.lexsort((best, -cosines[best]))]  # best first, ties by position
    return [(ids[i], max(-1.0, min(1.0, float(cosines[i])))) for i in best]


class VectorCache:
    """Recently pre-selected vectors (e.g. one video's), by collection and id list, within a
    byte budget. A run's vectors never change once written (a new index run has new ids), so
    an entry stays right until its space is reset or records are deleted (then all go)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(0, max_bytes)
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[Any, ...], tuple[list[str], np.ndarray]] = OrderedDict()
        self._bytes = 0

    def get(self, key: tuple[Any, ...]) -> tuple[list[str], np.ndarray] | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], ids: list[str], matrix: np.ndarray) -> None:
        size = matrix.nbytes + 64 * len(ids)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1].nbytes + 64 * len(old[0])
            self._entries[key] = (ids, matrix)
            self._bytes += size
            while self._bytes > self.max_bytes and self._entries:
                _key, (gone_ids, gone) = self._entries.popitem(last=False)
                self._bytes -= gone.nbytes + 64 * len(gone_ids)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
