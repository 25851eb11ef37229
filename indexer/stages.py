"""One function per indexing stage. Each takes what it needs and returns plain data.

probe → (speech ‖ scan: shots + frames → visual + OCR) → embed → store (see ``indexer.service``).
Speech runs in its own thread beside the frame scan: faster-whisper (CTranslate2) and the decoder
release the GIL, so the two halves overlap on two cores.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from scenespark.engine import Engine
from scenespark.media.audio import extract_audio_wav
from scenespark.media.subtitles import find_sidecar, parse_subtitles
from scenespark.textsegments import (
    OcrReading,
    TextSpan,
    merge_ocr_readings,
    sentences_from_words,
    split_text_sentences,
)
from scenespark.types import MediaInfo, Modality, Segment, Shot

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
TAG_MIN_PROBABILITY = 0.05
TAGS_PER_FRAME = 4
VISUAL_BATCH = 16


def _noop(_fraction: float, _message: str) -> None:
    return None


# --- speech --------------------------------------------------------------------------------


@dataclass
class SpeechOutput:
    segments: list[Segment]
    source: str  # "sidecar:<file>", "whisper:<model>", "none: no audio"
    language: str = ""


def speech_stage(engine: Engine, info: MediaInfo, video_id: str) -> SpeechOutput:
    path = Path(info.path)
    settings = engine.settings
    sidecar = find_sidecar(path) if settings.use_sidecar_subtitles else None
    if sidecar is not None:
        spans: list[TextSpan] = []
        for cue in parse_subtitles(sidecar):
            spans.extend(split_text_sentences(cue.start_s, cue.end_s, cue.text))
        return SpeechOutput(_speech_segments(video_id, spans, "sidecar"), f"sidecar:{sidecar.name}")
    if not info.has_audio:
        return SpeechOutput([], "none: the video has no audio track")
    recognizer = engine.models.speech()
    with tempfile.TemporaryDirectory(prefix="scenespark-audio-") as tmp:
        wav = Path(tmp) / "audio.wav"
        extract_audio_wav(path, wav, timeout_s=max(60.0, info.duration_s))
        transcript = recognizer.transcribe(wav, language=settings.speech_language or None)
    words = transcript.words
    if words:
        spans = sentences_from_words(words)
    else:
        spans = [
            TextSpan(s.start_s, s.end_s, s.text.strip()) for s in transcript.segments if s.text.strip()
        ]
    spans = [s for s in spans if s.text.strip()]
    return SpeechOutput(
        _speech_segments(video_id, spans, "whisper"),
        f"whisper:{recognizer.info.name}",
        transcript.language,
    )


def _speech_segments(video_id: str, spans: list[TextSpan], source: str) -> list[Segment]:
    return [
        Segment(
            video_id=video_id,
            modality=Modality.SPEECH,
            start_s=round(span.start_s, 3),
            end_s=round(max(span.end_s, span.start_s + 0.05), 3),
            text=span.text,
            confidence=round(span.confidence, 4),
            words=span.words,
            source=source,
        )
        for span in spans
    ]


def assign_shots(segments: list[Segment], shots: list[Shot]) -> None:
    """Give each segment the shot that contains its midpoint."""
    if not shots:
        return
    starts = np.array([s.start_s for s in shots])
    for seg in segments:
        if seg.shot_id >= 0:
            continue
        mid = (seg.start_s + seg.end_s) / 2.0
        seg.shot_id = int(max(0, np.searchsorted(starts, mid, side="right") - 1))


# --- frames: shots, visual evidence, OCR ---------------------------------------------------


@dataclass
class FramesOutput:
    shots: list[Shot]
    visual: list[Segment] = field(default_factory=list)
    clip_vectors: list[np.ndarray] = field(default_factory=list)  # parallel to visual (CLIP only)
    ocr: list[Segment] = field(default_factory=list)
    visual_source: str = ""
    frames_sampled: int = 0
    ocr_frames: int = 0


def ocr_segments(video_id: str, readings: list[OcrReading], source: str) -> list[Segment]:
    return [
        Segment(
            video_id=video_id,
            modality=Modality.OCR,
            start_s=round(span.start_s, 3),
            end_s=round(span.end_s, 3),
            text=span.text,
            confidence=round(span.confidence, 4),
            source=source,
        )
        for span in merge_ocr_readings(readings)
        if len(span.text.strip()) >= 2
    ]


def readable_tags(tags: list[tuple[str, float]]) -> str:
    kept = [label for label, prob in tags[:TAGS_PER_FRAME] if prob >= TAG_MIN_PROBABILITY]
    if not kept and tags:
        kept = [tags[0][0]]
    return ", ".join(kept)


# --- embeddings ----------------------------------------------------------------------------


def embed_texts(engine: Engine, segments: list[Segment], progress: Progress = _noop) -> np.ndarray:
    embedder = engine.models.text()
    if not segments:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    vectors = []
    batch = 64
    for start in range(0, len(segments), batch):
        chunk = segments[start : start + batch]
        vectors.append(embedder.embed_texts([_embedding_text(s) for s in chunk]))
        progress(min(1.0, (start + len(chunk)) / len(segments)), "embedding text")
    return np.vstack(vectors).astype(np.float32)


def _embedding_text(segment: Segment) -> str:
    if segment.modality == Modality.VISUAL:
        return f"a picture of {segment.text}"
    return segment.text
