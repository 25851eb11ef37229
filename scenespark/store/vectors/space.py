"""Embedding spaces in Chroma: how a space and its per-modality collections are named and
described (model name, dimension, layout version), and the in-memory handle of an open space."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llama_index.vector_stores.chroma import ChromaVectorStore

COLLECTION_PREFIX = "scenespark_"
MODEL_KEY = "scenespark_model"
DIMENSION_KEY = "scenespark_dimension"
LAYOUT_KEY = "scenespark_layout"
LAYOUT = "per-modality"  # descriptor collections of the earlier layout lack this key
# HNSW search breadth. Chroma's default (100) found the true nearest neighbour of 6 in 10 test
# queries in a 90k-vector collection of clustered, partly duplicated vectors; 200 found 9 in 10
# for +0.3 ms per query (bench/search_latency.py library, docs/architecture.md §10).
HNSW_EF_SEARCH = 200


@dataclass
class Partition:
    """The collection of one modality of a space."""

    name: str
    collection: Any
    store: ChromaVectorStore | None = None  # llama-index's view, made on first write or query


@dataclass
class Space:
    name: str
    model_name: str
    dimension: int
    descriptor: Any  # collection holding the model metadata (no records)
    partitions: dict[str, Partition] = field(default_factory=dict)
