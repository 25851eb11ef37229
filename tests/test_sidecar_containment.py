"""Subtitle sidecars must lie inside the library roots: a ``video.srt`` symlink leaving them is
ignored at indexing, with a warning in the index log (real Engine, real ffprobe, real files)."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from indexer.stages import speech_stage
from scenespark.config import Settings
from scenespark.engine import Engine
from scenespark.media.containment import allowed_folders, is_contained
from scenespark.media.probe import probe_media

SRT = "1\n00:00:00,000 --> 00:00:02,000\n{text}\n"


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "library"
    (root / "talks").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.srt").write_text(SRT.format(text="the launch code is swordfish"))
    (root / "shared.srt").write_text(SRT.format(text="welcome to the garden"))
    return {"root": root, "outside": outside}


def test_containment_rules(layout: dict[str, Path], tmp_path: Path) -> None:
    root, outside = layout["root"], layout["outside"]
    video = root / "talks" / "a.mp4"
    video.write_bytes(b"x")
    inside_link = root / "talks" / "a.srt"
    os.symlink(root / "shared.srt", inside_link)
    escaping = root / "talks" / "b.srt"
    os.symlink(outside / "secret.srt", escaping)
    assert is_contained(inside_link, video, [root])
    assert not is_contained(escaping, video, [root])
    assert not is_contained(outside / "secret.srt", video, [root])
    # a video outside every root (local CLI): only its own folder
    loose = outside / "loose.mp4"
    loose.write_bytes(b"x")
    assert allowed_folders(loose, [root]) == [outside.resolve()]
    assert is_contained(outside / "secret.srt", loose, [root])
    assert not is_contained(root / "shared.srt", loose, [root])
    loop = root / "talks" / "loop.srt"
    os.symlink(loop, loop)
    assert not is_contained(loop, video, [root])


def _settings(tmp_path: Path, root: Path) -> Settings:
    return Settings(home=tmp_path / "home", library_roots=[root])


def test_an_escaping_sidecar_is_ignored_with_a_warning(
    layout: dict[str, Path],
    tmp_path: Path,
    silent_video: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    root, outside = layout["root"], layout["outside"]
    video = root / "talks" / "video.mp4"
    shutil.copy(silent_video, video)
    os.symlink(outside / "secret.srt", root / "talks" / "video.srt")
    engine = Engine(_settings(tmp_path, root))
    try:
        info = probe_media(video)
        with caplog.at_level(logging.WARNING):
            output = speech_stage(engine, info, info.video_id)
    finally:
        engine.close()
    assert output.segments == [] and not output.source.startswith("sidecar")
    assert not any("swordfish" in s.text for s in output.segments)
    assert any("outside the library roots" in r.getMessage() for r in caplog.records)


def test_a_sidecar_inside_the_roots_is_read(
    layout: dict[str, Path], tmp_path: Path, silent_video: Path
) -> None:
    root = layout["root"]
    video = root / "talks" / "video.mp4"
    shutil.copy(silent_video, video)
    os.symlink(root / "shared.srt", root / "talks" / "video.srt")  # a link that stays inside
    engine = Engine(_settings(tmp_path, root))
    try:
        info = probe_media(video)
        output = speech_stage(engine, info, info.video_id)
    finally:
        engine.close()
    assert output.source == "sidecar:video.srt"
    assert any("garden" in s.text for s in output.segments)
