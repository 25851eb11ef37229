"""Vectors in Chroma, accessed through llama-index's ``ChromaVectorStore`` (DESIGN.md §4).

One collection per embedding space ("text", "clip", ...). Each collection records the model name
and dimension in its metadata, and the store refuses to mix spaces. Embeddings are always ours:
collections are created with ``embedding_function=None`` and cosine distance, so Chroma never
loads (or downloads) its default embedding model.

Search speed: at 100k vectors an unfiltered HNSW query takes ~3 ms and one with a ``where``
filter 60-190 ms (DESIGN.md §10, measured again here), so :meth:`VectorStore.query` over-fetches unfiltered and post-filters in Python
(active run ids, videos, modalities), falling back to a Chroma ``where`` filter only when the
post-filter leaves fewer than ``top_k`` results.
"""

from __future__ import annotations

import contextlib
import math
import re
import threading
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import numpy as np

from scenespark.config import Settings, apply_offline_env
from scenespark.errors import StoreError

if TYPE_CHECKING:
    from llama_index.vector_stores.chroma import ChromaVectorStore

COLLECTION_PREFIX = "scenespark_"
MODEL_KEY = "scenespark_model"
DIMENSION_KEY = "scenespark_dimension"
MAX_BATCH = 5_461  # Chroma's max records per add (the client may report less)
OVERFETCH_FACTOR = 3  # first unfiltered window = top_k × factor + OVERFETCH_MIN, then × 4
OVERFETCH_MIN = 30
DIRECT_WHERE_MAX_VIDEOS = 3  # video filters this narrow go straight to Chroma's `where`
MAX_WHERE_RUN_IDS = 1_000  # larger allowed sets are post-filtered, not sent as `$in`
_SPACE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")


@dataclass
class VectorRecord:
    """One vector to store: ``id`` is the catalog segment id (f"{run_id}:{index}")."""

    id: str
    vector: np.ndarray
    text: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)  # video_id, modality, run_id, ...


@dataclass
class VectorMatch:
    id: str
    score: float  # cosine similarity, -1..1
    metadata: dict[str, Any]
    text: str = ""


@dataclass
class _Space:
    name: str
    model_name: str
    dimension: int
    collection: Any
    store: ChromaVectorStore


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def _clean_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Chroma metadata values must be str/int/float/bool (no None)."""
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        if value is None:
            if key == "frame_time_s":
                out[key] = -1.0
            continue
        if hasattr(value, "value") and isinstance(value.value, str):  # StrEnum
            value = value.value
        out[key] = value if isinstance(value, str | int | float | bool) else str(value)
    return out


def _restore_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    out = dict(metadata)
    frame = out.get("frame_time_s")
    if isinstance(frame, int | float) and frame < 0:
        out["frame_time_s"] = None
    return out


class VectorStore:
    """Chroma (embedded PersistentClient, or HttpClient when ``settings.chroma_url`` is set)."""

    def __init__(self, settings: Settings) -> None:
        apply_offline_env()
        self.settings = settings
        self._lock = threading.RLock()
        self._spaces: dict[str, _Space] = {}
        self._client = self._connect()
        try:
            reported = int(self._client.get_max_batch_size())
        except Exception:
            reported = MAX_BATCH
        self.max_batch = max(1, min(MAX_BATCH, reported if reported > 0 else MAX_BATCH))

    # ------------------------------------------------------------------ connection
    def _connect(self) -> Any:
        try:
            import chromadb
        except ImportError as exc:  # pragma: no cover - dependency of the package
            raise StoreError(f"chromadb is not installed: {exc}") from exc
        chroma_settings = chromadb.Settings(anonymized_telemetry=False, allow_reset=False)
        url = self.settings.chroma_url.strip()
        if url:
            parsed = urlparse(url if "://" in url else f"http://{url}")
            if not parsed.hostname:
                raise StoreError(
                    f"SCENESPARK_CHROMA_URL {url!r} is not a URL like http://host:8000"
                )
            ssl = parsed.scheme == "https"
            port = parsed.port or (443 if ssl else 8000)
            self.location = f"{parsed.scheme}://{parsed.hostname}:{port}"
            try:
                client = chromadb.HttpClient(
                    host=parsed.hostname, port=port, ssl=ssl, settings=chroma_settings
                )
                client.heartbeat()
            except Exception as exc:
                raise StoreError(
                    f"cannot reach the Chroma server at {self.location}: {_one_line(exc)}"
                ) from exc
            return client
        path = self.settings.chroma_dir
        self.location = str(path)
        try:
            path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except Exception as exc:
            raise StoreError(f"cannot open the Chroma store at {path}: {_one_line(exc)}") from exc

    def close(self) -> None:
        with self._lock:
            self._spaces.clear()
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
    def _collection_name(name: str) -> str:
        if not _SPACE_NAME.match(name):
            raise StoreError(
                f"invalid embedding space name {name!r} (use lowercase letters, digits, _ or -)"
            )
        return COLLECTION_PREFIX + name

    def open_space(self, name: str, model_name: str, dimension: int) -> None:
        """Open (or create) the collection of an embedding space; refuse a different model."""
        if dimension <= 0:
            raise StoreError(
                f"embedding space {name!r}: dimension must be positive, got {dimension}"
            )
        collection_name = self._collection_name(name)
        with self._lock:
            known = self._spaces.get(name)
            if known is not None:
                self._check_same(
                    known.name, known.model_name, known.dimension, model_name, dimension
                )
                return
            try:
                collection = self._client.get_or_create_collection(
                    name=collection_name,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata={MODEL_KEY: model_name, DIMENSION_KEY: int(dimension)},
                )
            except Exception as exc:
                raise StoreError(f"cannot open embedding space {name!r}: {_one_line(exc)}") from exc
            metadata = collection.metadata or {}
            stored_model = str(metadata.get(MODEL_KEY, model_name))
            stored_dim = int(metadata.get(DIMENSION_KEY, dimension))
            self._check_same(name, stored_model, stored_dim, model_name, dimension)
            with warnings.catch_warnings():  # "legacy embedding function config" = none, ours
                warnings.simplefilter("ignore", DeprecationWarning)
                space_cfg = (getattr(collection, "configuration", None) or {}).get("hnsw") or {}
            if space_cfg.get("space", "cosine") != "cosine":
                raise StoreError(
                    f"embedding space {name!r} uses {space_cfg.get('space')} distance, not cosine; "
                    "run `scenespark index rebuild`"
                )
            from llama_index.vector_stores.chroma import ChromaVectorStore

            store = ChromaVectorStore(chroma_collection=collection)
            self._spaces[name] = _Space(name, stored_model, stored_dim, collection, store)

    @staticmethod
    def _check_same(name: str, stored_model: str, stored_dim: int, model: str, dim: int) -> None:
        if stored_model != model or stored_dim != dim:
            raise StoreError(
                f"embedding space {name!r} holds vectors of {stored_model} ({stored_dim}-d), "
                f"not {model} ({dim}-d); run `scenespark index rebuild` to re-embed the library"
            )

    def reset_space(self, name: str) -> None:
        """Drop the collection of a space (for a rebuild with another model)."""
        collection_name = self._collection_name(name)
        with self._lock:
            self._spaces.pop(name, None)
            try:
                existing = {
                    c.name if hasattr(c, "name") else str(c)
                    for c in self._client.list_collections()
                }
                if collection_name in existing:
                    self._client.delete_collection(collection_name)
            except Exception as exc:
                raise StoreError(
                    f"cannot reset embedding space {name!r}: {_one_line(exc)}"
                ) from exc

    def spaces(self) -> dict[str, dict[str, Any]]:
        """Every SceneSpark space in the store: name → {model, dimension, count}."""
        out: dict[str, dict[str, Any]] = {}
        try:
            for item in self._client.list_collections():
                cname = item.name if hasattr(item, "name") else str(item)
                if not cname.startswith(COLLECTION_PREFIX):
                    continue
                collection = self._client.get_collection(cname, embedding_function=None)
                meta = collection.metadata or {}
                out[cname[len(COLLECTION_PREFIX) :]] = {
                    "model": meta.get(MODEL_KEY, ""),
                    "dimension": meta.get(DIMENSION_KEY, 0),
                    "count": collection.count(),
                }
        except Exception as exc:
            raise StoreError(f"cannot list embedding spaces: {_one_line(exc)}") from exc
        return out

    def _space(self, name: str) -> _Space:
        space = self._spaces.get(name)
        if space is None:
            raise StoreError(f"embedding space {name!r} is not open (call open_space first)")
        return space

    def _vector(self, space: _Space, vector: np.ndarray | Sequence[float]) -> list[float]:
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
        from llama_index.core.schema import TextNode

        target = self._space(space)
        nodes = [
            TextNode(
                id_=rec.id,
                text=rec.text,
                embedding=self._vector(target, rec.vector),
                metadata=_clean_metadata(rec.metadata),
            )
            for rec in records
        ]
        for start in range(0, len(nodes), self.max_batch):
            try:
                target.store.add(nodes[start : start + self.max_batch])
            except Exception as exc:
                raise StoreError(
                    f"cannot add vectors to space {space!r}: {_one_line(exc)}"
                ) from exc
        return len(nodes)

    def _delete_where(self, space: str, key: str, values: Iterable[str]) -> None:
        # Straight to the collection: llama-index's delete_nodes(filters=...) passes ids=[],
        # which chromadb>=1.0 rejects ("Expected IDs to be a non-empty list").
        target = self._space(space)
        items = sorted(set(values))
        for start in range(0, len(items), 500):
            chunk = items[start : start + 500]
            try:
                target.collection.delete(where={key: {"$in": chunk}})
            except Exception as exc:
                raise StoreError(
                    f"cannot delete vectors from space {space!r}: {_one_line(exc)}"
                ) from exc

    def delete_runs(self, space: str, run_ids: Iterable[str]) -> None:
        self._delete_where(space, "run_id", run_ids)

    def delete_video(self, space: str, video_id: str) -> None:
        self._delete_where(space, "video_id", [video_id])

    def count(self, space: str) -> int:
        try:
            return int(self._space(space).collection.count())
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot count vectors of space {space!r}: {_one_line(exc)}") from exc

    def run_ids(self, space: str) -> set[str]:
        """Every run id that has vectors in the space (to find orphans unknown to the catalog)."""
        target = self._space(space)
        found: set[str] = set()
        total = self.count(space)
        try:
            for offset in range(0, total, 5_000):
                batch = target.collection.get(include=["metadatas"], limit=5_000, offset=offset)
                found.update(str(m.get("run_id", "")) for m in batch["metadatas"] or [])
        except Exception as exc:
            raise StoreError(f"cannot list runs of space {space!r}: {_one_line(exc)}") from exc
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

        ``min_results`` (default ``top_k``): how many filtered matches the fast post-filtered
        path must find before it is trusted; below that, Chroma's (slower) ``where`` filter runs.

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

        def keep(match: VectorMatch) -> bool:
            meta = match.metadata
            return (
                (allowed_run_ids is None or meta.get("run_id") in allowed_run_ids)
                and (vids is None or meta.get("video_id") in vids)
                and (mods is None or meta.get("modality") in mods)
            )

        if mods is None and vids is None and allowed_run_ids is None:
            return self._query(target, embedding, top_k, None)
        # 1. Unfiltered HNSW query over a wider window, post-filtered in Python (fast path).
        #    With only a run filter (stale vectors are few) widen until enough or exhausted.
        window = top_k * OVERFETCH_FACTOR + OVERFETCH_MIN
        only_runs = mods is None and vids is None
        huge_run_set = allowed_run_ids is not None and len(allowed_run_ids) > MAX_WHERE_RUN_IDS
        attempts = 2 if not only_runs else (1_000 if huge_run_set else 3)
        if vids is not None and len(vids) <= DIRECT_WHERE_MAX_VIDEOS:
            attempts = 0  # a few videos of a library: the post-filter would keep almost nothing
        enough = top_k if min_results is None else max(1, min(min_results, top_k))
        for _ in range(attempts):
            found = self._query(target, embedding, window, None)
            matches = [m for m in found if keep(m)]
            if len(matches) >= top_k or len(found) < window:
                return matches[:top_k]
            window *= 4
        if attempts and len(matches) >= enough:
            return matches[:top_k]
        # 2. Too few survived: let Chroma filter on the most selective key and post-filter the
        #    rest, widening the window until enough results or the filtered set is exhausted.
        if vids is not None:
            where = ("video_id", sorted(vids))
        elif mods is not None:
            where = ("modality", sorted(mods))
        else:
            where = ("run_id", sorted(allowed_run_ids or ()))
        window = top_k * OVERFETCH_FACTOR + OVERFETCH_MIN
        while True:
            found = self._query(target, embedding, window, [where])
            matches = [m for m in found if keep(m)]
            if len(matches) >= top_k or len(found) < window:
                return matches[:top_k]
            window *= 4

    def _query(
        self,
        space: _Space,
        embedding: list[float],
        n_results: int,
        where: list[tuple[str, list[str]]] | None,
    ) -> list[VectorMatch]:
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
            result = space.store.query(query)
        except Exception as exc:
            raise StoreError(
                f"vector query on space {space.name!r} failed: {_one_line(exc)}"
            ) from exc
        matches: list[VectorMatch] = []
        for node, similarity in zip(result.nodes or [], result.similarities or [], strict=False):
            # llama-index reports exp(-distance); with cosine distance d = 1 - cos.
            cosine = 1.0 + math.log(similarity) if similarity > 0 else -1.0
            matches.append(
                VectorMatch(
                    id=node.node_id,
                    score=max(-1.0, min(1.0, cosine)),
                    metadata=_restore_metadata(node.metadata),
                    text=node.get_content(),
                )
            )
        return matches
