"""The vector store room: embeddings in Chroma, one collection per (space, modality).

- :mod:`~scenespark.store.vectors.store`: :class:`VectorStore`, the one entry point.
- :mod:`~scenespark.store.vectors.space`: naming and description of spaces and their collections.
- :mod:`~scenespark.store.vectors.records`: records, matches and their metadata in Chroma.
- :mod:`~scenespark.store.vectors.query`: filtered nearest-neighbour queries on one collection.
- :mod:`~scenespark.store.vectors.layout`: conversion from the earlier one-collection layout.
- :mod:`~scenespark.store.vectors.client`: opening Chroma (embedded, or a Chroma server).
"""

from scenespark.store.vectors.records import VectorMatch, VectorRecord
from scenespark.store.vectors.store import VectorStore

__all__ = ["VectorMatch", "VectorRecord", "VectorStore"]
