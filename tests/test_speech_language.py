"""Speech language end to end on a generated Chinese video (espeak-ng Mandarin narration, a
Chinese title drawn with a CJK font), indexed without subtitles — auto-detected and forced —
and with a ``.zh.srt`` sidecar: the language is stored in the catalog and shown by
``index status``, ``GET /api/v1/videos`` and ``GET /api/v1/health``.

The narration is given as pinyin to espeak-ng's Mandarin voice ``cmn-latn-pinyin``: the Debian
``cmn`` dictionary reads most Han characters as pinyin with English tone digits ("da four jia
one"), which Whisper hears as "4-1-3" whatever language it is told. Whisper base still mistakes
this robotic Mandarin for another language when left to detect it (that is what the
uncertainty flag and ``SCENESPARK_SPEECH_LANGUAGE`` are for)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from litestar.testing import TestClient

from indexer.service import IndexService
from scenespark.config import load_settings
from scenespark.engine import Engine
from scenespark.language.scripts import HAN_RE
from scenespark.types import Modality, Video
from server.app import create_app
from server.demo_media import SynthScene, build_video

pytestmark = pytest.mark.slow

# 大家好。今天我们发布一款新手机。它的价格是八百九十九美元。
NARRATION = (
    "da4 jia1 hao3. jin1 tian1 wo3 men fa1 bu4 yi4 kuan3 xin1 shou3 ji1. "
    "ta1 de jia4 ge2 shi4 ba1 bai3 jiu3 shi2 jiu3 mei3 yuan2."
)
TITLE = "雨夜重逢"
SIDECAR = (
    "1\n00:00:00,500 --> 00:00:03,000\n大家好。今天我们发布一款新手机。\n\n"
    "2\n00:00:03,000 --> 00:00:07,500\n它的价格是八百九十九美元，电池可以用两天。\n"
)


@pytest.fixture(scope="module")
def zh_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("zh-media")
    path = folder / "发布会.mp4"
    build_video(
        path,
        [
            SynthScene(9.0, "testsrc2", TITLE, narration=NARRATION, text_position="top"),
            SynthScene(3.0, "smptebars"),
        ],
        size=(480, 270),
        voice="cmn-latn-pinyin",
    )
    return path


def _index(home: Path, video: Path, **overrides: object) -> Video:
    engine = Engine(load_settings(home=home, **overrides))
    outcome = IndexService(engine).index_file(video, modalities=[Modality.SPEECH])
    assert outcome.action == "indexed", outcome.message
    found = engine.catalog.require_video(outcome.video_id)
    engine.catalog.close()
    return found


def _status_text(home: Path) -> str:
    env = {**os.environ, "SCENESPARK_HOME": str(home)}
    env.pop("SCENESPARK_SPEECH_LANGUAGE", None)
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "index", "status"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_detected_language_is_stored_and_shown(tmp_path: Path, zh_video: Path) -> None:
    home = tmp_path / "home"
    video = _index(home, zh_video)
    assert video.speech_language_source == "detected"
    assert video.speech_language  # whatever Whisper heard, it is recorded...
    probability = video.speech_language_probability
    assert probability is not None and 0.0 < probability <= 1.0
    # ...and flagged when it was not sure
    assert video.speech_language_uncertain is (probability < 0.6)
    status = _status_text(home)
    assert f"speech: {video.speech_language}" in status
    assert f"detected {probability:.2f}" in status
    settings = load_settings(home=home)
    with TestClient(create_app(settings, start_workers=False)) as client:
        listed = client.get("/api/v1/videos").json()["videos"]
        assert [v["speech_language"] for v in listed] == [video.speech_language]
        assert listed[0]["speech_language_probability"] == pytest.approx(probability)
        assert listed[0]["speech_language_source"] == "detected"
        health = client.get("/api/v1/health").json()["speech_languages"]
        assert health["videos"] == {video.speech_language: 1}
        assert health["forced"] == ""
        assert health["uncertain"] == ([video.video_id] if video.speech_language_uncertain else [])


def test_forced_language_is_respected(tmp_path: Path, zh_video: Path) -> None:
    home = tmp_path / "home"
    video = _index(home, zh_video, speech_language="zh-CN")  # a region tag works too
    assert (video.speech_language, video.speech_language_source) == ("zh", "forced")
    assert video.speech_language_probability is None and not video.speech_language_uncertain
    engine = Engine(load_settings(home=home))
    texts = [s.text for s in engine.catalog.segments(video.video_id)]
    engine.catalog.close()
    assert texts and any(HAN_RE.search(t) for t in texts), texts  # written in Chinese
    assert "zh (forced)" in _status_text(home)


def test_chinese_sidecar_is_imported(tmp_path: Path, zh_video: Path) -> None:
    folder = tmp_path / "library"
    folder.mkdir()
    video_path = folder / zh_video.name
    shutil.copyfile(zh_video, video_path)
    (folder / f"{video_path.stem}.zh.srt").write_text(SIDECAR, encoding="utf-8")
    home = tmp_path / "home"
    video = _index(home, video_path)
    assert (video.speech_language, video.speech_language_source) == ("zh", "sidecar")
    engine = Engine(load_settings(home=home))
    segments = engine.catalog.segments(video.video_id)
    engine.catalog.close()
    assert [s.text for s in segments] == [
        "大家好。",
        "今天我们发布一款新手机。",
        "它的价格是八百九十九美元，电池可以用两天。",
    ]
    assert all(s.source == "sidecar" for s in segments)
    assert segments[0].start_s == pytest.approx(0.5) and segments[-1].end_s == pytest.approx(7.5)
