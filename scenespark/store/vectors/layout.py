"""Conversion of a space from the earlier one-collection layout to one collection per modality."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scenespark.store.vectors.records import partition_of


def split_by_modality(
    old: Any,
    partition_collection: Callable[[str], Any],
    *,
    batch_size: int,
    layout_metadata: dict[str, Any],
) -> None:
    """Move every record of Chroma collection ``old`` into its modality's collection.

    Records are copied with upsert (a re-run after a crash is harmless), then deleted from
    ``old``; only when ``old`` is empty is ``layout_metadata`` written to it, marking the space
    as converted. Embeddings, documents and metadata (llama-index's node content included) are
    copied as they are.
    """
    while True:
        batch = old.get(include=["embeddings", "documents", "metadatas"], limit=batch_size)
        ids = list(batch["ids"] or [])
        if not ids:
            break
        metadatas = batch["metadatas"] or [{} for _ in ids]
        documents = batch["documents"] or [None for _ in ids]
        groups: dict[str, list[int]] = {}
        for i, meta in enumerate(metadatas):
            groups.setdefault(partition_of(meta or {}), []).append(i)
        for partition, rows in groups.items():
            partition_collection(partition).upsert(
                ids=[ids[i] for i in rows],
                embeddings=[batch["embeddings"][i] for i in rows],
                documents=[documents[i] for i in rows],
                metadatas=[metadatas[i] for i in rows],
            )
        old.delete(ids=ids)
    metadata = {k: v for k, v in (old.metadata or {}).items() if not k.startswith("hnsw:")}
    old.modify(metadata={**metadata, **layout_metadata})
