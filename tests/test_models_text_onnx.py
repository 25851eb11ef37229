"""The ONNX Runtime text runtime: same vectors as sentence-transformers, chosen when it fits,
and no torch on the way (real bundled all-MiniLM-L6-v2 weights, real onnxruntime)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scenespark.config import load_settings
from scenespark.errors import ModelUnavailableError
from scenespark.models.registry import build_text
from scenespark.models.resolve_text import resolve_text
from scenespark.models.text import SentenceTransformerEmbedder
from scenespark.models.text_onnx import OnnxSentenceEmbedder, onnx_unsupported

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = [
    "Welcome to the garden. Today we plant red tomatoes and sweet basil.",
    "SPRING SALE 42",
    "GATE B12 closes at 4.2 million past Q3",
    "",
    "  padded   with  spaces  ",
    "dog catching a frisbee",
    "日本語のテキストと English mixed",
    "café naïve résumé Ünïcödé",
    "word " * 400,  # longer than the model's 256 tokens: truncated the same way
    *[f"sentence number {i} about the harbour, the ferry and the market" for i in range(40)],
]


@pytest.fixture(scope="module")
def minilm(tmp_path_factory: pytest.TempPathFactory):
    settings = load_settings(home=tmp_path_factory.mktemp("onnx") / "home", text_model="minilm")
    return resolve_text(settings), settings


def test_onnx_vectors_match_sentence_transformers(minilm) -> None:
    resolution, settings = minilm
    onnx = OnnxSentenceEmbedder(resolution, settings)
    torch_based = SentenceTransformerEmbedder(resolution, settings)
    a, b = onnx.embed_texts(SAMPLE), torch_based.embed_texts(SAMPLE)
    assert a.shape == b.shape == (len(SAMPLE), 384) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    cosines = (a * b).sum(axis=1)
    assert cosines.min() >= 0.99999, cosines
    query = onnx.embed_query("a dog catches a frisbee")
    assert float(query @ torch_based.embed_query("a dog catches a frisbee")) >= 0.99999
    # and it is a real model: the related sentence is nearer than the unrelated ones
    nearest = int(np.argmax(a @ query))
    assert SAMPLE[nearest] == "dog catching a frisbee"


def test_the_model_identity_is_the_same_whichever_runtime(minilm, tmp_path: Path) -> None:
    resolution, _ = minilm
    home = tmp_path / "home"
    auto = build_text(resolution, load_settings(home=home, text_model="minilm"))
    forced = build_text(resolution, load_settings(home=home, text_runtime="torch"))
    assert isinstance(auto, OnnxSentenceEmbedder)
    assert isinstance(forced, SentenceTransformerEmbedder)
    for field in ("modality", "backend", "name", "version", "dimension"):
        assert getattr(auto.info, field) == getattr(forced.info, field), field
    assert "ONNX Runtime" in auto.info.reason


def _copy_config(source: Path, target: Path) -> Path:
    target.mkdir()
    for item in source.iterdir():
        if item.name == "model.safetensors":
            (target / item.name).symlink_to(item)
        elif item.is_dir():
            shutil.copytree(item, target / item.name)
        else:
            shutil.copy(item, target / item.name)
    return target


def test_models_the_graph_does_not_describe_run_with_torch(minilm, tmp_path: Path) -> None:
    resolution, _ = minilm
    source = Path(resolution.location)
    assert onnx_unsupported(source) is None
    cls_pooled = _copy_config(source, tmp_path / "cls")
    pooling = cls_pooled / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    pooling.write_text(json.dumps(config))
    assert "mean pooling" in (onnx_unsupported(cls_pooled) or "")
    other = _copy_config(source, tmp_path / "roberta")
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps(config | {"model_type": "roberta"}))
    assert "bert" in (onnx_unsupported(other) or "")

    home = tmp_path / "home"
    chosen = load_settings(home=home, text_model=str(cls_pooled))
    assert isinstance(build_text(resolve_text(chosen), chosen), SentenceTransformerEmbedder)
    forced = load_settings(home=home, text_model=str(cls_pooled), text_runtime="onnx")
    embedder = build_text(resolve_text(forced), forced)
    with pytest.raises(ModelUnavailableError, match="mean pooling"):
        embedder.embed_query("anything")


def test_searching_text_needs_no_torch_and_later_starts_read_the_kept_graph(
    tmp_path: Path,
) -> None:
    """The serve path's text model loads without torch or sentence-transformers; the first
    load keeps the graph, later processes read it without importing onnx (or building it)."""
    home = tmp_path / "home"
    script = (
        "import sys\n"
        "from scenespark.config import load_settings\n"
        "from scenespark.models.registry import ModelRegistry\n"
        f"settings = load_settings(home={str(home)!r})\n"
        "vector = ModelRegistry(settings).text().embed_query('red tomatoes')\n"
        "heavy = sorted(m for m in ('onnx', 'sentence_transformers', 'torch') if m in sys.modules)\n"
        "print(vector.shape[0], ','.join(heavy) or '-', round(float(vector[:8].sum()), 5))\n"
    )

    def run() -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={
                "PYTHONPATH": str(ROOT),
                "HF_HUB_OFFLINE": "1",
                "PATH": "/usr/bin:/bin",
                "SCENESPARK_CACHE_DIR": str(tmp_path / "cache"),
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-1000:]
        return done.stdout.split()

    first = run()
    assert first[:2] == ["384", "onnx"]  # built the graph
    kept = list((tmp_path / "cache" / "onnx").glob("*.onnx"))
    assert len(kept) == 1 and kept[0].stat().st_size > 50_000_000
    second = run()
    assert second[:2] == ["384", "-"] and second[2] == first[2]  # read it: same vector
    kept[0].write_bytes(b"not a graph")  # a damaged cache is rebuilt, not fatal
    assert run() == first
    assert kept[0].stat().st_size > 50_000_000
