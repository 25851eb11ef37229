"""Query vectors shared by concurrent searches (scenespark.search.query_embedding).

The real bundled MiniLM embedder, wrapped only to hold its first call until the other callers
are waiting, so the micro-batch is deterministic; and the real e5 embedder (queries prefixed).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from scenespark.config import load_settings
from scenespark.models.registry import ModelRegistry
from scenespark.search.query_embedding import QueryEmbeddings, query_embeddings

QUERIES = [
    "a tram crossing a bridge at night",
    "the mayor opens the new library",
    "someone repairs a bicycle tyre",
    "fireworks over the harbour",
    "two people play chess in a park",
    "a recipe with lemons and garlic",
]


@pytest.fixture(scope="module")
def minilm(tmp_path_factory: pytest.TempPathFactory):
    registry = ModelRegistry(load_settings(home=tmp_path_factory.mktemp("minilm")))
    embedder = registry.text()
    embedder.embed_query("load")
    return embedder


class HeldFirstCall:
    """The real embedder; its first call waits until ``release`` is set (a busy model)."""

    def __init__(self, inner) -> None:
        self.inner, self.info = inner, inner.info
        self.release = threading.Event()
        self.calls: list[list[str]] = []

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_texts(texts)

    def embed_query(self, text: str) -> np.ndarray:
        self.calls.append([text])
        assert self.release.wait(30)
        return self.inner.embed_query(text)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return self.inner.embed_queries(texts)


def test_queries_arriving_while_the_model_is_busy_share_one_batch(minilm) -> None:
    held = HeldFirstCall(minilm)
    shared = QueryEmbeddings(held)
    with ThreadPoolExecutor(len(QUERIES)) as pool:
        first = pool.submit(shared.embed_query, QUERIES[0])
        while not held.calls:  # the first query is in the model
            threading.Event().wait(0.005)
        rest = [pool.submit(shared.embed_query, q) for q in QUERIES[1:]]
        for _ in range(2_000):  # every other query waits for the model
            with shared._lock:
                if len(shared._waiting) == len(QUERIES) - 1:
                    break
            threading.Event().wait(0.005)
        held.release.set()
        vectors = [first.result(30), *(f.result(30) for f in rest)]
    assert held.calls == [[QUERIES[0]], QUERIES[1:]]  # two model calls for six queries
    assert shared.batches == 2
    direct = minilm.embed_texts(QUERIES)
    for got, expected in zip(vectors, direct, strict=True):
        assert got.shape == (minilm.dimension,) and got.dtype == np.float32
        assert np.allclose(got, expected, atol=1e-5)


def test_a_repeated_query_comes_from_the_cache(minilm) -> None:
    shared = QueryEmbeddings(minilm, cache_size=2)
    a = shared.embed_query(QUERIES[0])
    assert shared.embed_query(f"  {QUERIES[0]}  ") is a and shared.hits == 1
    assert not a.flags.writeable  # shared: nobody may change it in place
    shared.embed_query(QUERIES[1])
    shared.embed_query(QUERIES[2])  # evicts the least recently used (QUERIES[0])
    assert shared.batches == 3
    shared.embed_query(QUERIES[0])
    assert shared.batches == 4 and shared.hits == 1


def test_an_error_reaches_every_caller_and_the_next_query_works(minilm) -> None:
    class FailsOnce(HeldFirstCall):
        def embed_queries(self, texts: list[str]) -> np.ndarray:
            self.calls.append(list(texts))
            raise RuntimeError("model crashed")

    failing = FailsOnce(minilm)
    shared = QueryEmbeddings(failing)
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(shared.embed_query, QUERIES[0])
        while not failing.calls:
            threading.Event().wait(0.005)
        rest = [pool.submit(shared.embed_query, q) for q in QUERIES[1:3]]
        for _ in range(2_000):
            with shared._lock:
                if len(shared._waiting) == 2:
                    break
            threading.Event().wait(0.005)
        failing.release.set()
        assert first.result(30).shape == (minilm.dimension,)
        for future in rest:
            with pytest.raises(RuntimeError, match="model crashed"):
                future.result(30)
    assert np.allclose(shared.embed_query(QUERIES[1]), minilm.embed_query(QUERIES[1]), atol=1e-5)


def test_one_instance_per_embedder(minilm, tmp_path: Path) -> None:
    assert query_embeddings(minilm) is query_embeddings(minilm)
    other = ModelRegistry(load_settings(home=tmp_path / "home", text_model="e5")).text()
    e5 = query_embeddings(other)
    assert e5 is not query_embeddings(minilm)
    # e5 embeds queries with its query prefix: the batched path must keep it
    batched = e5._vectors(QUERIES[:3])
    assert np.allclose(batched[1], other.embed_query(QUERIES[1]), atol=1e-4)


def test_a_cache_of_zero_keeps_nothing(minilm) -> None:
    shared = QueryEmbeddings(minilm, cache_size=0)
    first = shared.embed_query(QUERIES[0])
    again = shared.embed_query(QUERIES[0])
    assert shared.batches == 2 and shared.hits == 0
    assert np.allclose(first, again, atol=1e-6)
