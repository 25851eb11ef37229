"""Query vectors for searches that arrive together: an LRU cache, and one batched model call.

A search embeds its query once (a few ms of MiniLM on one core), but twenty searches arriving
at once each calling the model cost twenty forward passes fighting for the GIL and the cores.
:class:`QueryEmbeddings` wraps a text embedder without changing it:

* a query seen recently (the same words, after whitespace is collapsed) reuses its vector;
* queries that arrive while the model is busy wait for it, then go through the model together
  in one batch (adaptive micro-batching: no timer, so a lone query never waits);
* the first waiting caller embeds the whole waiting batch and hands every caller its vector,
  so no extra thread is needed and an error reaches every caller of that batch.

One instance per embedder (:func:`query_embeddings`), shared by every search of the process.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from scenespark.models.base import TextEmbedder

CACHE_SIZE = 2_048  # query vectors kept (384-d float32: 1.5 KB each)
MAX_BATCH = 32  # queries embedded in one model call


@dataclass
class _Pending:
    text: str
    done: threading.Event = field(default_factory=threading.Event)
    vector: np.ndarray | None = None
    error: BaseException | None = None
    lead: bool = False  # set when this caller is to embed the waiting batch


class QueryEmbeddings:
    """Cached, micro-batched ``embed_query`` over one text embedder; thread-safe."""

    def __init__(
        self, embedder: TextEmbedder, *, cache_size: int = CACHE_SIZE, max_batch: int = MAX_BATCH
    ) -> None:
        self.embedder = embedder
        self.cache_size = max(0, cache_size)
        self.max_batch = max(1, max_batch)
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._waiting: list[_Pending] = []
        self._busy = False  # a caller is running the model for a batch
        self.batches = 0  # model calls made (for benches and tests)
        self.hits = 0  # queries answered from the cache

    def embed_query(self, text: str) -> np.ndarray:
        """The query's vector (float32, L2-normalised); callers must not modify it."""
        key = " ".join(text.split())
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                self.hits += 1
                return cached
            mine = _Pending(key)
            self._waiting.append(mine)
            mine.lead = not self._busy
            self._busy = True
        while True:
            if mine.lead:
                self._run_batches(mine)
            else:
                mine.done.wait()
            if mine.vector is not None:
                return mine.vector
            if mine.error is not None:
                raise mine.error
            mine.done.clear()  # woken to lead the next batch (its query is in it)

    def _run_batches(self, leader: _Pending) -> None:
        """Embed waiting batches until the leader's query is done, then hand over the lead."""
        while leader.vector is None and leader.error is None:
            with self._lock:
                batch = self._waiting[: self.max_batch]
                del self._waiting[: len(batch)]
            if not batch:  # pragma: no cover - the leader is always waiting until served
                break
            self._embed(batch)
        with self._lock:
            if self._waiting:
                successor = self._waiting[0]
                successor.lead = True
                successor.done.set()
            else:
                self._busy = False

    def _embed(self, batch: list[_Pending]) -> None:
        texts = list(dict.fromkeys(p.text for p in batch))
        try:
            vectors = self._vectors(texts)
        except BaseException as exc:  # every caller of the batch gets the error
            for item in batch:
                item.error = exc
                item.done.set()
            return
        self.batches += 1
        by_text = {}
        for text, vector in zip(texts, vectors, strict=True):
            vector = np.ascontiguousarray(vector, dtype=np.float32)
            vector.setflags(write=False)  # shared between callers and the cache
            by_text[text] = vector
        with self._lock:
            for text, vector in by_text.items():
                if self.cache_size:
                    self._cache[text] = vector
                    self._cache.move_to_end(text)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        for item in batch:
            item.vector = by_text[item.text]
            item.done.set()

    def _vectors(self, texts: list[str]) -> np.ndarray:
        if len(texts) == 1:
            return np.asarray(self.embedder.embed_query(texts[0]), dtype=np.float32)[None, :]
        batched = getattr(self.embedder, "embed_queries", None)
        if callable(batched):
            return np.asarray(batched(texts), dtype=np.float32)
        return np.stack([np.asarray(self.embedder.embed_query(t)) for t in texts])


_instances: weakref.WeakKeyDictionary[object, QueryEmbeddings] = weakref.WeakKeyDictionary()
_instances_lock = threading.Lock()


def query_embeddings(embedder: TextEmbedder) -> QueryEmbeddings:
    """The process's :class:`QueryEmbeddings` for ``embedder`` (made on first use)."""
    with _instances_lock:
        found = _instances.get(embedder)
        if found is None:
            found = _instances[embedder] = QueryEmbeddings(embedder)
        return found
