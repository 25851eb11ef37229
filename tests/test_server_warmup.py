"""Server start-up: the warm-up loads what a search needs and nothing else, and a search over
image-tagger labels answers without loading the tagger (real text model, Chroma, SQLite)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from litestar.testing import TestClient

from scenespark.config import Settings
from scenespark.engine import Engine
from scenespark.store.vectors.records import segment_records
from scenespark.types import Modality, Segment, Shot, Video, VideoStatus
from server.app import create_app

ROOT = Path(__file__).resolve().parents[1]
LABELS = ["golden retriever, tennis ball, lawn", "espresso, coffee mug, table", "canoe, lake"]


def _library(settings: Settings) -> str:
    """One video whose visual evidence is tagger labels, stored as the indexer stores them."""
    engine = Engine(settings)
    try:
        video = Video(
            video_id="vid1",
            path="/media/dogs.mp4",
            title="Dogs",
            duration_s=30.0,
            fps=25.0,
            width=640,
            height=360,
            content_sha256="ab" * 32,
            size_bytes=1,
            status=VideoStatus.READY,
            shots=[
                Shot(shot_id=i, start_s=i * 10.0, end_s=i * 10.0 + 10.0, keyframe_s=i * 10.0 + 5.0)
                for i in range(3)
            ],
        )
        engine.catalog.upsert_video(video)
        segments = [
            Segment(
                video_id="vid1",
                modality=Modality.VISUAL,
                start_s=i * 10.0,
                end_s=i * 10.0 + 10.0,
                text=text,
                shot_id=i,
                frame_time_s=i * 10.0 + 5.0,
                source="tagger",
            )
            for i, text in enumerate(LABELS)
        ]
        run_id = engine.catalog.begin_run("vid1", Modality.VISUAL, {"visual": "tagger"})
        ids = [f"{run_id}:{i}" for i in range(len(segments))]
        space = engine.text_space()
        vectors = engine.models.text().embed_texts(LABELS)
        engine.vectors.add(space, segment_records(ids, vectors, segments, run_id))
        engine.catalog.commit_run("vid1", Modality.VISUAL, run_id, segments)
        return ids[0]
    finally:
        engine.close()


def test_warm_up_loads_the_search_models_only_and_tagger_labels_need_no_tagger(
    tmp_path: Path,
) -> None:
    settings = Settings(home=tmp_path / "home", visual_backend="tagger")
    _library(settings)
    app = create_app(settings, start_workers=False, warm_up=True)
    with TestClient(app) as client:
        runtime = app.state.runtime
        names = [name for name, _ in runtime.warm_up_steps()]
        assert names == ["text model", "text vectors", "keyword index", "first query"]
        deadline = time.monotonic() + 120
        while client.get("/api/v1/health").json()["status"] == "warming":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert runtime.engine.models.loaded() == ["text"]
        assert runtime.engine.keywords.index().generation == runtime.engine.catalog.generation()

        answer = client.post(
            "/api/v1/search", json={"query": "a dog with a ball", "modalities": ["visual"]}
        )
        assert answer.status_code == 200, answer.text
        results = answer.json()["results"]
        assert results and results[0]["evidence"]["visual_labels"] == LABELS[0]
        assert runtime.engine.models.loaded() == ["text"]  # the tagger was not loaded
        assert runtime.engine.models.visual_kind() == "tagger"
    if "torch" in sys.modules:  # another test of this process loaded it: nothing to tell
        return
    assert "timm" not in sys.modules


def test_warm_up_includes_clip_only_when_search_needs_it(tmp_path: Path) -> None:
    """CLIP embeds the query at search time, so it is warmed; a disabled visual model is not.
    (The steps are only listed here: loading is the slow CLIP test's business.)"""
    checkpoint = tmp_path / "clip.pt"
    checkpoint.write_bytes(b"weights are not read to list the steps")
    cases = {
        "none": Settings(home=tmp_path / "none", visual_backend="none"),
        "clip": Settings(
            home=tmp_path / "clip",
            visual_backend="clip",
            clip_model="ViT-S-32",
            clip_pretrained=str(checkpoint),
        ),
    }
    text = ["text model", "text vectors", "keyword index", "first query"]
    expected = {"none": text, "clip": [*text, "CLIP model", "CLIP vectors"]}
    for name, settings in cases.items():
        app = create_app(settings, start_workers=False, warm_up=False)
        with TestClient(app):
            steps = [step for step, _ in app.state.runtime.warm_up_steps()]
            assert app.state.runtime.engine.models.loaded() == []  # listing loads nothing
        assert steps == expected[name], name


def test_a_started_server_searches_without_torch_or_llama_index(tmp_path: Path) -> None:
    """In a fresh process: warm-up, then a library-wide search, and neither torch (text model
    on ONNX Runtime, no tagger) nor llama-index (lean vector reads) was imported."""
    settings = Settings(home=tmp_path / "home", visual_backend="tagger")
    _library(settings)
    script = f"""
import sys, time
from litestar.testing import TestClient
from scenespark.config import Settings
from server.app import create_app
app = create_app(Settings(home={str(settings.home)!r}, visual_backend="tagger"),
                 start_workers=False, warm_up=True)
with TestClient(app) as client:
    deadline = time.monotonic() + 120
    while client.get("/api/v1/health").json()["status"] == "warming":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    answer = client.post("/api/v1/search", json={{"query": "a cup of coffee"}})
    assert answer.status_code == 200, answer.text
    print(answer.json()["results"][0]["evidence"]["visual_labels"])
print(sorted(m for m in ("torch", "timm", "llama_index", "sentence_transformers") if m in sys.modules))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-2:] == [LABELS[1], "[]"], done.stdout
