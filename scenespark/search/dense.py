"""The dense candidates of a search: ids and cosines from the vector store, the segments (and
with them the run and video filters) from the catalog.

The catalog holds every segment's text, times and run, and search reads the matched segments
from it anyway; asking Chroma for the same facts as metadata tripled the cost of a query
(:mod:`scenespark.store.vectors.nearest`). So the vector store returns ids and cosines only,
one catalog read turns them into segments of active runs (a stale run's vectors are dropped
by not being found), and the window widens in the rare case that too few survive.

A filter on a few videos pre-selects their vectors by id and scores them exactly, instead of
Chroma's slow ``where`` filter; a filter whose videos hold more vectors than that is worth
goes through :meth:`VectorStore.query`, which over-fetches and post-filters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scenespark.engine import Engine
from scenespark.store.vectors.nearest import IdScore
from scenespark.types import Modality, Segment

PRESELECT_MAX = 4_000  # vectors per collection a video filter scores exactly (~30 µs each)
RUN_SLACK = 10  # extra matches fetched beyond what is needed: stale runs' vectors are few
WIDEN_FACTOR = 4
WIDEN_ATTEMPTS = 4  # window × 4 each time, then whatever survived is the answer


@dataclass(frozen=True)
class DenseMatch:
    segment_id: str
    cosine: float
    segment: Segment


def dense_matches(
    engine: Engine,
    space: str,
    vector: np.ndarray,
    *,
    top_k: int,
    modalities: Sequence[Modality],
    video_ids: Sequence[str] | None,
    allowed_run_ids: set[str],
    min_results: int,
    counts: dict[str, int] | None = None,
) -> list[DenseMatch]:
    """The ``top_k`` nearest active segments of these modalities (and videos), best first.

    ``counts``: active segments per modality value in the filtered videos, when known (it
    decides between pre-selected ids and an over-fetched query)."""
    if (
        top_k <= 0
        or not modalities
        or not allowed_run_ids
        or (video_ids is not None and not video_ids)
    ):
        return []
    names = [m.value for m in modalities]
    if video_ids:
        if counts is None or all(counts.get(n, 0) <= PRESELECT_MAX for n in names):
            ids = engine.catalog.active_segment_ids(video_ids, modalities)
            if all(len(found) <= PRESELECT_MAX for found in ids.values()):
                scored = engine.vectors.score_ids(space, vector, ids, top_k=top_k)
                return _merge(engine, scored, set(video_ids), top_k)
        return _filtered_query(
            engine, space, vector, top_k, names, video_ids, allowed_run_ids, min_results
        )
    window = top_k + RUN_SLACK
    pending = names
    found: dict[str, list[IdScore]] = {}
    for _ in range(WIDEN_ATTEMPTS):
        found |= engine.vectors.nearest(space, vector, top_k=window, modalities=pending)
        kept = _active_prefix(engine, found, top_k)
        # A collection that filled its window may hold more beyond it: it matters when too few
        # matches are active (stale runs' vectors crowd the window), or when its window ends
        # above the weakest match kept (what lies beyond could still make the cut).
        full = [n for n in pending if len(found.get(n, [])) >= window]
        if len(kept) >= top_k:
            weakest = kept[top_k - 1].cosine
            full = [n for n in full if found[n][-1][1] > weakest]
        if not full:
            return kept
        pending = full
        window *= WIDEN_FACTOR
    return _active_prefix(engine, found, top_k)


def _active_prefix(engine: Engine, found: dict[str, list[IdScore]], top_k: int) -> list[DenseMatch]:
    """The ``top_k`` best active matches of every collection's nearest, best first: catalog
    rows are read only for the best few beyond ``top_k`` (more if stale ones are among them)."""
    ranked = sorted((hit for hits in found.values() for hit in hits), key=lambda h: -h[1])
    kept: list[DenseMatch] = []
    start, chunk = 0, top_k + RUN_SLACK
    while start < len(ranked) and len(kept) < top_k:
        part = ranked[start : start + chunk]
        segments = engine.catalog.get_segments([i for i, _s in part])
        kept += [DenseMatch(i, s, segments[i]) for i, s in part if i in segments]
        start += len(part)
        chunk = max(chunk, 4 * (top_k - len(kept)))
    return kept[:top_k]


def _merge(
    engine: Engine, scored: dict[str, list[IdScore]], video_ids: set[str], top_k: int
) -> list[DenseMatch]:
    segments = engine.catalog.get_segments([i for hits in scored.values() for i, _s in hits])
    kept = {
        name: [
            DenseMatch(i, s, segments[i])
            for i, s in hits
            if i in segments and segments[i].video_id in video_ids
        ]
        for name, hits in scored.items()
    }
    return _best(kept, top_k)


def _best(kept: dict[str, list[DenseMatch]], top_k: int) -> list[DenseMatch]:
    matches = [m for found in kept.values() for m in found[:top_k]]
    matches.sort(key=lambda m: -m.cosine)
    return matches[:top_k]


def _filtered_query(
    engine: Engine,
    space: str,
    vector: np.ndarray,
    top_k: int,
    names: list[str],
    video_ids: Sequence[str],
    allowed_run_ids: set[str],
    min_results: int,
) -> list[DenseMatch]:
    """Videos with too many vectors to pre-select: the store's over-fetching filtered query."""
    matches = engine.vectors.query(
        space,
        vector,
        top_k=top_k,
        modalities=names,
        video_ids=video_ids,
        allowed_run_ids=allowed_run_ids,
        min_results=min_results,
    )
    segments = engine.catalog.get_segments([m.id for m in matches])
    return [DenseMatch(m.id, m.score, segments[m.id]) for m in matches if m.id in segments]
