"""The stage actors: each wraps a stage function of :mod:`indexer.stages` and keeps its models.

An actor builds one :class:`~scenespark.engine.Engine` over a scratch data dir on its machine
(models load on the first call and stay loaded; the bundled Whisper is joined there once per
machine). It never opens the catalog or the vector store: results go back to the driver.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import ray

from indexer import stages
from scenespark.config import Settings, apply_offline_env
from scenespark.engine import Engine
from scenespark.errors import MediaNotVisibleError
from scenespark.types import MediaInfo, Modality


def worker_home() -> Path:
    """The scratch data dir of stage actors on this machine."""
    return Path(tempfile.gettempdir()) / f"scenespark-ray-{os.getuid()}"


@dataclass
class FramesResult:
    frames: stages.FramesOutput
    thumbnails: dict[str, bytes]  # data-dir relative path -> JPEG bytes
    elapsed_s: float
    node_ip: str


@dataclass
class SpeechResult:
    speech: stages.SpeechOutput
    elapsed_s: float
    node_ip: str


class _StageActor:
    def __init__(self, settings: Settings) -> None:
        apply_offline_env()
        home = worker_home()
        self.engine = Engine(settings.model_copy(update={"home": home}))
        self.node_ip = ray.util.get_node_ip_address()

    def ready(self) -> str:
        return ray.get_runtime_context().get_node_id()

    def _require_visible(self, info: MediaInfo) -> None:
        path = Path(info.path)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise MediaNotVisibleError(
                f"{path} is not readable on the Ray node {self.node_ip}: {exc.strerror or exc}"
            ) from None
        if info.size_bytes and size != info.size_bytes:
            raise MediaNotVisibleError(
                f"{path} on the Ray node {self.node_ip} is not the driver's file "
                f"({size} bytes, expected {info.size_bytes})"
            )


class FramesActor(_StageActor):
    """Decode once: shots, visual evidence and OCR (the frame models of one lane)."""

    def run(self, info: MediaInfo, video_id: str, modalities: list[Modality]) -> FramesResult:
        self._require_visible(info)
        started = time.perf_counter()
        frames = stages.frames_stage(self.engine, info, video_id, modalities)
        home = self.engine.settings.home
        thumbnails = {}
        for seg in frames.visual:
            if seg.thumbnail:
                thumbnails[seg.thumbnail] = (home / seg.thumbnail).read_bytes()
        shutil.rmtree(home / "media" / "thumbs" / video_id, ignore_errors=True)
        return FramesResult(
            frames, thumbnails, round(time.perf_counter() - started, 3), self.node_ip
        )


class SpeechActor(_StageActor):
    """Sidecar subtitles or Whisper (its model stays loaded)."""

    def run(self, info: MediaInfo, video_id: str) -> SpeechResult:
        self._require_visible(info)
        started = time.perf_counter()
        speech = stages.speech_stage(self.engine, info, video_id)
        return SpeechResult(speech, round(time.perf_counter() - started, 3), self.node_ip)
