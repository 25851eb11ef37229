"""Nearest-neighbour queries on one Chroma collection, with run and video filters.

At 100k-200k vectors an unfiltered HNSW query takes a few ms and one with a ``where`` filter
60-500 ms, so :func:`filtered_query` over-fetches unfiltered and post-filters in Python, falling
back to Chroma's ``where`` only when too few matches survive (or when the filter names so few
videos that the post-filter would keep almost nothing).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from scenespark.errors import StoreError
from scenespark.store.vectors.records import VectorMatch, one_line, restore_metadata

if TYPE_CHECKING:
    from llama_index.vector_stores.chroma import ChromaVectorStore

OVERFETCH_FACTOR = 3  # first unfiltered window = top_k × factor + OVERFETCH_MIN, then × 4
OVERFETCH_MIN = 30
RUN_SLACK = 10  # extra results fetched when only stale runs can be filtered out
DIRECT_WHERE_MAX_VIDEOS = 3  # video filters this narrow go straight to Chroma's `where`
MAX_WHERE_RUN_IDS = 1_000  # larger allowed sets are post-filtered, not sent as `$in`


def filtered_query(
    store: ChromaVectorStore,
    embedding: list[float],
    *,
    top_k: int,
    video_ids: set[str] | None,
    allowed_run_ids: set[str] | None,
    min_results: int | None,
    what: str,
) -> list[VectorMatch]:
    """The ``top_k`` nearest records of ``store`` whose run and video are allowed.

    ``min_results`` (default ``top_k``): how many filtered matches the fast post-filtered path
    must find before it is trusted. ``what`` names the collection in errors.
    """

    def keep(match: VectorMatch) -> bool:
        meta = match.metadata
        return (allowed_run_ids is None or meta.get("run_id") in allowed_run_ids) and (
            video_ids is None or meta.get("video_id") in video_ids
        )

    if video_ids is None and allowed_run_ids is None:
        return query_collection(store, embedding, top_k, None, what=what)
    # 1. Unfiltered HNSW query over a wider window, post-filtered in Python (fast path).
    #    With only a run filter (stale vectors are few) start a little above top_k and widen
    #    until enough or exhausted: every extra result costs llama-index a node to parse.
    window = top_k + RUN_SLACK if video_ids is None else top_k * OVERFETCH_FACTOR + OVERFETCH_MIN
    huge_run_set = allowed_run_ids is not None and len(allowed_run_ids) > MAX_WHERE_RUN_IDS
    attempts = 2 if video_ids is not None else (1_000 if huge_run_set else 3)
    if video_ids is not None and len(video_ids) <= DIRECT_WHERE_MAX_VIDEOS:
        attempts = 0  # a few videos of a library: the post-filter would keep almost nothing
    enough = top_k if min_results is None else max(1, min(min_results, top_k))
    matches: list[VectorMatch] = []
    for _ in range(attempts):
        found = query_collection(store, embedding, window, None, what=what)
        matches = [m for m in found if keep(m)]
        if len(matches) >= top_k or len(found) < window:
            return matches[:top_k]
        window *= 4
    if attempts and len(matches) >= enough:
        return matches[:top_k]
    # 2. Too few survived: let Chroma filter on the most selective key and post-filter the
    #    rest, widening the window until enough results or the filtered set is exhausted.
    if video_ids is not None:
        where = ("video_id", sorted(video_ids))
    else:
        where = ("run_id", sorted(allowed_run_ids or ()))
    window = top_k + RUN_SLACK  # the `where` did the selective part: only stale runs remain
    while True:
        found = query_collection(store, embedding, window, [where], what=what)
        matches = [m for m in found if keep(m)]
        if len(matches) >= top_k or len(found) < window:
            return matches[:top_k]
        window *= 4


def query_collection(
    store: ChromaVectorStore,
    embedding: list[float],
    n_results: int,
    where: list[tuple[str, list[str]]] | None,
    *,
    what: str,
) -> list[VectorMatch]:
    """One llama-index query (``where``: keys whose value must be in a list)."""
    from llama_index.core.vector_stores.types import (
        FilterOperator,
        MetadataFilter,
        MetadataFilters,
        VectorStoreQuery,
    )

    filters = None
    if where:
        filters = MetadataFilters(
            filters=[
                MetadataFilter(key=key, value=values, operator=FilterOperator.IN)
                for key, values in where
            ]
        )
    query = VectorStoreQuery(
        query_embedding=embedding, similarity_top_k=max(1, n_results), filters=filters
    )
    try:
        result = store.query(query)
    except Exception as exc:
        raise StoreError(f"vector query on {what} failed: {one_line(exc)}") from exc
    matches: list[VectorMatch] = []
    for node, similarity in zip(result.nodes or [], result.similarities or [], strict=False):
        # llama-index reports exp(-distance); with cosine distance d = 1 - cos.
        cosine = 1.0 + math.log(similarity) if similarity > 0 else -1.0
        matches.append(
            VectorMatch(
                id=node.node_id,
                score=max(-1.0, min(1.0, cosine)),
                metadata=restore_metadata(node.metadata),
                text=node.get_content(),
            )
        )
    return matches
