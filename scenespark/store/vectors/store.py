"""Vectors in Chroma, accessed through llama-index's ``ChromaVectorStore`` (docs/architecture.md §4).

An embedding space ("text", "clip", ...) is one small descriptor collection that records the
model name and dimension, plus one collection per modality ("scenespark_text.speech",
"scenespark_text.ocr", ...). The store refuses to mix models in a space. Embeddings are always
ours: collections are created with ``embedding_function=None`` and cosine distance, so Chroma
never loads (or downloads) its default embedding model.

Search speed: an unfiltered HNSW query takes a few ms, one with a ``where`` filter 60-500 ms at
100k-200k vectors (docs/architecture.md §10, measured again here). A modality filter is therefore a choice
of collections, never a ``where``; :meth:`VectorStore.query` over-fetches unfiltered and
post-filters the rest in Python (active run ids, videos), falling back to a Chroma ``where``
filter only when the post-filter leaves too few results. Data dirs written with the earlier
single-collection layout are split into per-modality collections when the space is opened.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from scenespark.config import Settings, apply_offline_env
from scenespark.errors import StoreError
from scenespark.store.vectors.client import connect
from scenespark.store.vectors.layout import split_by_modality
from scenespark.store.vectors.nearest import (
    IdScore,
    VectorCache,
    fetch_vectors,
    nearest_ids,
    top_cosines,
)
from scenespark.store.vectors.query import filtered_query
from scenespark.store.vectors.records import (
    NAME_PATTERN,
    VectorMatch,
    VectorRecord,
    clean_metadata,
    one_line,
    partition_of,
)
from scenespark.store.vectors.space import (
    COLLECTION_PREFIX,
    DIMENSION_KEY,
    HNSW_EF_SEARCH,
    LAYOUT,
    LAYOUT_KEY,
    MODEL_KEY,
    Partition,
    Space,
)

__all__ = ["VectorMatch", "VectorRecord", "VectorStore"]

if TYPE_CHECKING:
    from llama_index.vector_stores.chroma import ChromaVectorStore

MIGRATION_BATCH = 2_000
QUERY_THREADS = 4  # modality collections searched at once
MAX_BATCH = 5_461  # Chroma's max records per add (the client may report less)
VECTOR_CACHE_BYTES = 48 * 2**20  # pre-selected vectors kept (~30k 384-d: ~15 h of video)


_LLAMA_INDEX_IMPORT = threading.Lock()


def import_llama_index() -> None:
    """Import llama-index once, one thread at a time: its package has import cycles, and two
    threads importing it for the first time at once (e.g. two videos stored together) get
    "partially initialized module" ImportErrors."""
    with _LLAMA_INDEX_IMPORT:
        import llama_index.core.schema
        import llama_index.vector_stores.chroma  # noqa: F401


class VectorStore:
    """Chroma (embedded PersistentClient, or HttpClient when ``settings.chroma_url`` is set)."""

    def __init__(self, settings: Settings) -> None:
        apply_offline_env()
        self.settings = settings
        self._lock = threading.RLock()
        self._spaces: dict[str, Space] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._vector_cache = VectorCache(VECTOR_CACHE_BYTES)
        self._client, self.location = connect(settings)
        try:
            reported = int(self._client.get_max_batch_size())
        except Exception:
            reported = MAX_BATCH
        self.max_batch = max(1, min(MAX_BATCH, reported if reported > 0 else MAX_BATCH))

    def _llama_store(self, partition: Partition) -> ChromaVectorStore:
        """The llama-index store over a partition's collection, made on first use: writes and
        the filtered query need it; a search's lean reads do not, so a server's start need not
        import llama-index (0.8-2 s) before its first search."""
        if partition.store is None:
            import_llama_index()
            from llama_index.vector_stores.chroma import ChromaVectorStore

            with self._lock:
                if partition.store is None:
                    partition.store = ChromaVectorStore(chroma_collection=partition.collection)
        return partition.store

    def _query_pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=QUERY_THREADS, thread_name_prefix="scenespark-vectors"
                )
            return self._pool

    def close(self) -> None:
        with self._lock:
            self._spaces.clear()
            self._vector_cache.clear()
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
            close = getattr(self._client, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()

    def __enter__(self) -> VectorStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ spaces
    @staticmethod
    def _collection_name(name: str, partition: str | None = None) -> str:
        for part in (name, partition):
            if part is not None and not NAME_PATTERN.match(part):
                raise StoreError(
                    f"invalid embedding space or modality name {part!r} "
                    "(use lowercase letters, digits, _ or -)"
                )
        base = COLLECTION_PREFIX + name
        return base if partition is None else f"{base}.{partition}"

    def _collection_names(self) -> set[str]:
        return {c.name if hasattr(c, "name") else str(c) for c in self._client.list_collections()}

    def _get_or_create(self, collection_name: str, model_name: str, dimension: int) -> Any:
        collection = self._client.get_or_create_collection(
            name=collection_name,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine", "ef_search": HNSW_EF_SEARCH}},
            metadata={MODEL_KEY: model_name, DIMENSION_KEY: int(dimension), LAYOUT_KEY: LAYOUT},
        )
        with warnings.catch_warnings():  # "legacy embedding function config" = none, ours
            warnings.simplefilter("ignore", DeprecationWarning)
            hnsw = (getattr(collection, "configuration", None) or {}).get("hnsw") or {}
            if int(hnsw.get("ef_search") or 0) < HNSW_EF_SEARCH:  # made with Chroma's default
                collection.modify(configuration={"hnsw": {"ef_search": HNSW_EF_SEARCH}})
        return collection

    def open_space(self, name: str, model_name: str, dimension: int) -> None:
        """Open (or create) an embedding space; refuse a different model than it holds."""
        if dimension <= 0:
            raise StoreError(
                f"embedding space {name!r}: dimension must be positive, got {dimension}"
            )
        descriptor_name = self._collection_name(name)
        with self._lock:
            known = self._spaces.get(name)
            if known is not None:
                self._check_same(
                    known.name, known.model_name, known.dimension, model_name, dimension
                )
                return
            try:
                existing = self._collection_names()
                descriptor = self._get_or_create(descriptor_name, model_name, dimension)
            except Exception as exc:
                raise StoreError(f"cannot open embedding space {name!r}: {one_line(exc)}") from exc
            metadata = descriptor.metadata or {}
            stored_model = str(metadata.get(MODEL_KEY, model_name))
            stored_dim = int(metadata.get(DIMENSION_KEY, dimension))
            self._check_same(name, stored_model, stored_dim, model_name, dimension)
            self._check_cosine(name, descriptor)
            space = Space(name, stored_model, stored_dim, descriptor)
            prefix = descriptor_name + "."
            for collection_name in sorted(existing):
                if collection_name.startswith(prefix):
                    self._open_partition(space, collection_name[len(prefix) :])
            if metadata.get(LAYOUT_KEY) != LAYOUT:
                self._migrate_single_collection(space)
            self._spaces[name] = space

    def open_stored_space(self, name: str) -> None:
        """Open a space that exists in the store with the model it was written with (to delete
        from it without loading that model); a no-op when it is already open."""
        if name in self._spaces:
            return
        info = self.spaces().get(name)
        if info is None:
            raise StoreError(f"no embedding space {name!r} in the store")
        self.open_space(name, str(info["model"]), int(info["dimension"]))

    def _check_cosine(self, name: str, collection: Any) -> None:
        with warnings.catch_warnings():  # "legacy embedding function config" = none, ours
            warnings.simplefilter("ignore", DeprecationWarning)
            space_cfg = (getattr(collection, "configuration", None) or {}).get("hnsw") or {}
        if space_cfg.get("space", "cosine") != "cosine":
            raise StoreError(
                f"embedding space {name!r} uses {space_cfg.get('space')} distance, not cosine; "
                "run `scenespark index rebuild`"
            )

    def _open_partition(self, space: Space, partition: str) -> Partition:
        found = space.partitions.get(partition)
        if found is not None:
            return found
        collection_name = self._collection_name(space.name, partition)
        try:
            collection = self._get_or_create(collection_name, space.model_name, space.dimension)
        except Exception as exc:
            raise StoreError(
                f"cannot open the {partition} vectors of space {space.name!r}: {one_line(exc)}"
            ) from exc
        self._check_cosine(space.name, collection)
        found = Partition(partition, collection)
        space.partitions[partition] = found
        return found

    def _migrate_single_collection(self, space: Space) -> None:
        try:
            split_by_modality(
                space.descriptor,
                lambda partition: self._open_partition(space, partition).collection,
                batch_size=MIGRATION_BATCH,
                layout_metadata={LAYOUT_KEY: LAYOUT},
            )
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(
                f"cannot convert embedding space {space.name!r} to per-modality collections: "
                f"{one_line(exc)}"
            ) from exc

    @staticmethod
    def _check_same(name: str, stored_model: str, stored_dim: int, model: str, dim: int) -> None:
        if not same_model(stored_model, model) or stored_dim != dim:
            raise StoreError(
                f"embedding space {name!r} holds vectors of {stored_model} ({stored_dim}-d), "
                f"not {model} ({dim}-d); run `scenespark index rebuild` to re-embed the library"
            )

    def forget_space(self, name: str) -> None:
        """Drop this process's handle of a space (another process may have re-embedded it)."""
        with self._lock:
            self._spaces.pop(name, None)
            self._vector_cache.clear()

    def reset_space(self, name: str) -> None:
        """Drop every collection of a space (for a rebuild with another model)."""
        descriptor_name = self._collection_name(name)
        with self._lock:
            self._spaces.pop(name, None)
            self._vector_cache.clear()
            try:
                for collection_name in self._collection_names():
                    if collection_name == descriptor_name or collection_name.startswith(
                        descriptor_name + "."
                    ):
                        self._client.delete_collection(collection_name)
            except Exception as exc:
                raise StoreError(f"cannot reset embedding space {name!r}: {one_line(exc)}") from exc

    def spaces(self) -> dict[str, dict[str, Any]]:
        """Every SceneSpark space in the store: name → {model, dimension, count}."""
        out: dict[str, dict[str, Any]] = {}
        try:
            names = self._collection_names()
            for cname in sorted(names):
                if not cname.startswith(COLLECTION_PREFIX) or "." in cname:
                    continue
                collection = self._client.get_collection(cname, embedding_function=None)
                meta = collection.metadata or {}
                count = collection.count()  # records left in a not yet converted space
                prefix = cname + "."
                for part in names:
                    if part.startswith(prefix):
                        count += self._client.get_collection(part, embedding_function=None).count()
                out[cname[len(COLLECTION_PREFIX) :]] = {
                    "model": meta.get(MODEL_KEY, ""),
                    "dimension": meta.get(DIMENSION_KEY, 0),
                    "count": count,
                }
        except Exception as exc:
            raise StoreError(f"cannot list embedding spaces: {one_line(exc)}") from exc
        return out

    def _space(self, name: str) -> Space:
        space = self._spaces.get(name)
        if space is None:
            raise StoreError(f"embedding space {name!r} is not open (call open_space first)")
        return space

    def _vector(self, space: Space, vector: np.ndarray | Sequence[float]) -> list[float]:
        array = np.asarray(vector, dtype=np.float32).reshape(-1)
        if array.shape[0] != space.dimension:
            raise StoreError(
                f"embedding space {space.name!r} is {space.dimension}-d, "
                f"got a {array.shape[0]}-d vector"
            )
        if not np.all(np.isfinite(array)):
            raise StoreError(f"embedding space {space.name!r}: vector has NaN or infinite values")
        return array.tolist()

    # ------------------------------------------------------------------ write
    def add(self, space: str, records: Sequence[VectorRecord]) -> int:
        """Add (or overwrite) records in batches under Chroma's limit; returns how many."""
        import_llama_index()
        from llama_index.core.schema import TextNode

        target = self._space(space)
        self._vector_cache.clear()  # an id written again may get another vector
        groups: dict[str, list[TextNode]] = {}
        for rec in records:
            metadata = clean_metadata(rec.metadata)
            groups.setdefault(partition_of(metadata), []).append(
                TextNode(
                    id_=rec.id,
                    text=rec.text,
                    embedding=self._vector(target, rec.vector),
                    metadata=metadata,
                )
            )
        with self._lock:
            partitions = {name: self._open_partition(target, name) for name in groups}
        for name, nodes in groups.items():
            for start in range(0, len(nodes), self.max_batch):
                try:
                    store = self._llama_store(partitions[name])
                    store.add(nodes[start : start + self.max_batch])
                except Exception as exc:
                    raise StoreError(
                        f"cannot add vectors to space {space!r}: {one_line(exc)}"
                    ) from exc
        return len(records)

    def _delete_where(self, space: str, key: str, values: Iterable[str]) -> None:
        # Straight to the collections: llama-index's delete_nodes(filters=...) passes ids=[],
        # which chromadb>=1.0 rejects ("Expected IDs to be a non-empty list").
        target = self._space(space)
        self._vector_cache.clear()
        items = sorted(set(values))
        for partition in list(target.partitions.values()):
            for start in range(0, len(items), 500):
                chunk = items[start : start + 500]
                try:
                    partition.collection.delete(where={key: {"$in": chunk}})
                except Exception as exc:
                    raise StoreError(
                        f"cannot delete vectors from space {space!r}: {one_line(exc)}"
                    ) from exc

    def delete_runs(self, space: str, run_ids: Iterable[str]) -> None:
        self._delete_where(space, "run_id", run_ids)

    def delete_video(self, space: str, video_id: str) -> None:
        self._delete_where(space, "video_id", [video_id])

    def count(self, space: str) -> int:
        target = self._space(space)
        try:
            return sum(int(p.collection.count()) for p in list(target.partitions.values()))
        except Exception as exc:
            raise StoreError(f"cannot count vectors of space {space!r}: {one_line(exc)}") from exc

    def run_ids(self, space: str) -> set[str]:
        """Every run id that has vectors in the space (to find orphans unknown to the catalog)."""
        target = self._space(space)
        found: set[str] = set()
        try:
            for partition in list(target.partitions.values()):
                total = int(partition.collection.count())
                for offset in range(0, total, 5_000):
                    batch = partition.collection.get(
                        include=["metadatas"], limit=5_000, offset=offset
                    )
                    found.update(str(m.get("run_id", "")) for m in batch["metadatas"] or [])
        except Exception as exc:
            raise StoreError(f"cannot list runs of space {space!r}: {one_line(exc)}") from exc
        found.discard("")
        return found

    # ------------------------------------------------------------------ read
    def query(
        self,
        space: str,
        vector: np.ndarray | Sequence[float],
        *,
        top_k: int,
        modalities: Sequence[str] | None = None,
        video_ids: Sequence[str] | None = None,
        allowed_run_ids: set[str] | None = None,
        min_results: int | None = None,
    ) -> list[VectorMatch]:
        """Nearest records by cosine similarity, best first, after filtering.

        Each wanted modality's collection is queried on its own and the matches merged, so a
        modality filter costs nothing. ``min_results`` (default ``top_k``): how many filtered
        matches the fast post-filtered path must find in a collection before it is trusted;
        below that, Chroma's (slower) ``where`` filter runs.

        ``allowed_run_ids`` (normally ``catalog.active_run_ids()``) drops vectors of uncommitted,
        failed or superseded runs. An empty filter list/set means "nothing allowed".
        """
        target = self._space(space)
        embedding = self._vector(target, vector)
        if top_k <= 0:
            return []
        mods = {str(getattr(m, "value", m)) for m in modalities} if modalities is not None else None
        vids = set(video_ids) if video_ids is not None else None
        if any(f is not None and not f for f in (mods, vids, allowed_run_ids)):
            return []
        partitions = [
            p for name, p in sorted(target.partitions.items()) if mods is None or name in mods
        ]

        def one(partition: Partition) -> list[VectorMatch]:
            return filtered_query(
                self._llama_store(partition),
                embedding,
                top_k=top_k,
                video_ids=vids,
                allowed_run_ids=allowed_run_ids,
                min_results=min_results,
                what=f"the {partition.name} vectors of space {space!r}",
            )

        # Chroma's Rust core releases the GIL: the collections are searched side by side
        # (one-video filter at 100 h: median 134 -> 92 ms; unfiltered 37 -> 21 ms on 2 cores).
        if len(partitions) > 1:
            results = list(self._query_pool().map(one, partitions))
        else:
            results = [one(p) for p in partitions]
        matches = [m for found in results for m in found]
        matches.sort(key=lambda m: -m.score)
        return matches[:top_k]

    # ------------------------------------------------------------------ lean reads (search)
    def nearest(
        self,
        space: str,
        vector: np.ndarray | Sequence[float],
        *,
        top_k: int,
        modalities: Sequence[str] | None = None,
    ) -> dict[str, list[IdScore]]:
        """Per modality collection, the ``top_k`` nearest record ids and their cosine
        similarities, best first: no metadata, no text, no filter (the caller filters with the
        catalog, which it reads anyway; see :mod:`~scenespark.store.vectors.nearest`)."""
        target = self._space(space)
        embedding = self._vector(target, vector)
        names = self._wanted(target, modalities)
        if top_k <= 0 or not names:
            return {}

        def one(name: str) -> list[IdScore]:
            partition = target.partitions[name]
            what = f"the {name} vectors of space {space!r}"
            return nearest_ids(partition.collection, embedding, top_k, what=what)

        return dict(zip(names, self._each(one, names), strict=True))

    def score_ids(
        self,
        space: str,
        vector: np.ndarray | Sequence[float],
        ids_by_modality: Mapping[str, Sequence[str]],
        *,
        top_k: int,
    ) -> dict[str, list[IdScore]]:
        """Exact cosine against pre-selected records (e.g. one video's), per modality: the
        ``top_k`` best of each, best first. Faster than Chroma's ``where`` for a few thousand
        records per collection or fewer."""
        target = self._space(space)
        query = np.asarray(self._vector(target, vector), dtype=np.float32)
        names = [
            n for n in sorted(ids_by_modality) if n in target.partitions and ids_by_modality[n]
        ]
        if top_k <= 0 or not names:
            return {}

        def one(name: str) -> list[IdScore]:
            ids = tuple(ids_by_modality[name])
            key = (target.name, target.model_name, name, ids)
            cached = self._vector_cache.get(key)
            if cached is None:
                collection = target.partitions[name].collection
                what = f"the {name} vectors of space {space!r}"
                cached = fetch_vectors(collection, ids, what=what)
                self._vector_cache.put(key, *cached)
            return top_cosines(*cached, query, top_k)

        return dict(zip(names, self._each(one, names), strict=True))

    @staticmethod
    def _wanted(target: Space, modalities: Sequence[str] | None) -> list[str]:
        if modalities is None:
            return sorted(target.partitions)
        wanted = {str(getattr(m, "value", m)) for m in modalities}
        return [name for name in sorted(target.partitions) if name in wanted]

    def _each(self, fn: Callable[[str], list[IdScore]], names: list[str]) -> list[list[IdScore]]:
        """``fn`` over the collections, side by side when there are several (Chroma's core
        releases the GIL)."""
        if len(names) > 1:
            return list(self._query_pool().map(fn, names))
        return [fn(name) for name in names]


def same_model(a: str, b: str) -> bool:
    """Two stored model names name the same model (wherever its virtualenv lives)."""
    return _model_key(a) == _model_key(b)


def _model_key(model_name: str) -> str:
    """A model's identity without where its environment lives: a bundled model is named by
    its folder inside site-packages, and a re-created or moved virtualenv (a new clone, a
    new Python) must not make a library look as if another model had embedded it."""
    for marker in ("/site-packages/", "/dist-packages/"):
        if marker in model_name:
            return model_name.rsplit(marker, 1)[1]
    return model_name
