"""Shared fixtures: settings in a temp home, and media generated once per session with real
tools (ffmpeg lavfi sources + drawtext, espeak-ng). Nothing is downloaded or committed."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from scenespark.config import Settings, apply_offline_env, load_settings

apply_offline_env()
# Litestar's TestClient sends ``Host: testserver.local``: the test environment names it as one of
# the server's hosts (tests of the Host check pass their own ``allowed_hosts``).
os.environ.setdefault("SCENESPARK_ALLOWED_HOSTS", "localhost,127.0.0.1,::1,testserver.local")

from scenespark.media.ffmpeg import ffmpeg  # noqa: E402
from server.demo_media import SynthScene, SynthTruth, build_video, still_image, tts_to_wav  # noqa: E402

SAMPLE_NARRATION = "Welcome to the garden. Today we plant red tomatoes and sweet basil."
SAMPLE_TEXT = "SPRING SALE 42"


@dataclass(frozen=True)
class GeneratedVideo:
    path: Path
    truth: SynthTruth


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(home=tmp_path / "home")


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def still_png(media_dir: Path) -> Path:
    return still_image(media_dir / "still.png", "mandelbrot", size=(640, 360))


@pytest.fixture(scope="session")
def sample_video(media_dir: Path, still_png: Path) -> GeneratedVideo:
    """~20 s, 3 scenes with hard cuts at 7 s and 13 s, narration in scene 1, a caption window
    (10 s–12.5 s) on the still picture of scene 2 (text appears on a static image)."""
    path = media_dir / "sample.mp4"
    truth = build_video(
        path,
        [
            SynthScene(7.0, "testsrc2", narration=SAMPLE_NARRATION),
            SynthScene(6.0, str(still_png), SAMPLE_TEXT, text_start_s=3.0, text_end_s=5.5),
            SynthScene(7.0, "smptebars"),
        ],
        size=(640, 360),
        fps=25,
    )
    return GeneratedVideo(path, truth)


@pytest.fixture(scope="session")
def zoom_video(media_dir: Path, still_png: Path) -> GeneratedVideo:
    """A slow zoom on a still picture between two other scenes (cuts at 4 s and 12 s)."""
    path = media_dir / "zoom.mp4"
    truth = build_video(
        path,
        [
            SynthScene(4.0, "color=c=navy"),
            SynthScene(8.0, str(still_png), zoom=True),
            SynthScene(3.0, "testsrc2"),
        ],
        size=(480, 270),
        with_audio=False,
    )
    return GeneratedVideo(path, truth)


@pytest.fixture(scope="session")
def speech_wav(media_dir: Path) -> Path:
    return tts_to_wav(SAMPLE_NARRATION, media_dir / "speech.wav", engine="espeak-ng")


@pytest.fixture(scope="session")
def silent_video(media_dir: Path) -> Path:
    path = media_dir / "silent.mp4"
    build_video(path, [SynthScene(3.0, "testsrc2")], size=(320, 180), with_audio=False)
    return path


@pytest.fixture(scope="session")
def audio_only(media_dir: Path, speech_wav: Path) -> Path:
    path = media_dir / "audio_only.m4a"
    ffmpeg(["-i", speech_wav, "-c:a", "aac", "-b:a", "64k", path], timeout_s=60)
    return path


@pytest.fixture(scope="session")
def corrupt_video(media_dir: Path, silent_video: Path) -> Path:
    """An mp4 cut in half (moov atom at the end is lost)."""
    path = media_dir / "corrupt.mp4"
    src = media_dir / "corrupt_src.mp4"
    ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=25",
            "-t",
            "4",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            src,
        ],
        timeout_s=60,
    )
    data = src.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.fixture(scope="session")
def truncated_faststart_video(media_dir: Path) -> Path:
    """moov at the front (faststart) but the media data is cut: the header lies about duration."""
    path = media_dir / "truncated_faststart.mp4"
    src = media_dir / "faststart_src.mp4"
    ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=25",
            "-t",
            "10",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-movflags",
            "+faststart",
            src,
        ],
        timeout_s=60,
    )
    data = src.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


@pytest.fixture(scope="session")
def empty_file(media_dir: Path) -> Path:
    path = media_dir / "empty.mp4"
    path.write_bytes(b"")
    return path


@pytest.fixture(scope="session")
def short_video(media_dir: Path) -> Path:
    path = media_dir / "short.mp4"
    build_video(path, [SynthScene(0.48, "testsrc2")], size=(320, 180), with_audio=False)
    return path


@pytest.fixture(scope="session")
def unicode_name_video(media_dir: Path, silent_video: Path) -> Path:
    path = media_dir / "vidéo de test ü.mp4"
    shutil.copyfile(silent_video, path)
    return path
