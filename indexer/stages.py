"""One function per indexing stage. Each takes what it needs and returns plain data.

probe → (speech ‖ scan: shots + frames → visual + OCR) → embed → store (see ``indexer.service``).
Speech runs in its own thread beside the frame scan: faster-whisper (CTranslate2) and the decoder
release the GIL, so the two halves overlap on two cores.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from scenespark.engine import Engine
from scenespark.jobs.progress import ProgressFn, no_progress
from scenespark.language.rules import language_code
from scenespark.language.shaping import (
    OcrReading,
    TextSpan,
    merge_ocr_readings,
    sentences_from_words,
    split_text_sentences,
)
from scenespark.media.audio import extract_audio_wav
from scenespark.media.containment import is_contained
from scenespark.media.subtitles import (
    cue_language,
    find_sidecar,
    parse_subtitles,
    sidecar_language,
)
from scenespark.models.ocr import OcrMemory
from scenespark.types import MediaInfo, Modality, Segment, Shot

if TYPE_CHECKING:
    from indexer.captioning import CaptionStats, FrameCaptioning
    from scenespark.media.scan import OcrSample, VisualSample

log = logging.getLogger(__name__)

TAG_MIN_PROBABILITY = 0.05
TAGS_PER_FRAME = 4
VISUAL_BATCH = 16
SCAN_MAX_SIDE = 640  # frames for the tagger, CLIP and thumbnails


# --- speech --------------------------------------------------------------------------------


@dataclass
class SpeechOutput:
    segments: list[Segment]
    source: str  # "sidecar:<file>", "whisper:<model>", "none: no audio"
    language: str = ""  # ISO 639-1 ("" = unknown)
    language_probability: float | None = None  # Whisper's detection probability
    language_source: str = ""  # "detected" | "forced" | "sidecar"


def speech_stage(
    engine: Engine, info: MediaInfo, video_id: str, frames_done: threading.Event | None = None
) -> SpeechOutput:
    """Sidecar subtitles, or Whisper; ``frames_done`` (set when the frame lane has finished)
    lets Whisper take the cores the frame lane no longer needs."""
    path = Path(info.path)
    settings = engine.settings
    forced = language_code(settings.speech_language) or settings.speech_language.strip().lower()
    sidecar = (
        find_sidecar(path, [forced] if forced else ()) if settings.use_sidecar_subtitles else None
    )
    if sidecar is not None and not is_contained(sidecar, path, settings.library_roots):
        log.warning(
            "ignoring subtitle sidecar %s of %s: it resolves outside the library roots",
            sidecar.name,
            path.name,
        )
        sidecar = None
    if sidecar is not None:
        cues = parse_subtitles(sidecar)
        spans: list[TextSpan] = []
        for cue in cues:
            spans.extend(split_text_sentences(cue.start_s, cue.end_s, cue.text))
        return SpeechOutput(
            _speech_segments(video_id, spans, "sidecar"),
            f"sidecar:{sidecar.name}",
            sidecar_language(path, sidecar) or cue_language(cues),
            None,
            "sidecar",
        )
    if not info.has_audio:
        return SpeechOutput([], "none: the video has no audio track")
    recognizer = engine.models.speech()
    with tempfile.TemporaryDirectory(prefix="scenespark-audio-") as tmp:
        wav = Path(tmp) / "audio.wav"
        extract_audio_wav(path, wav, timeout_s=max(60.0, info.duration_s))
        transcript = recognizer.transcribe(wav, language=forced or None, more_lanes=frames_done)
    words = transcript.words
    if words:
        spans = sentences_from_words(words)
    else:
        spans = [
            TextSpan(s.start_s, s.end_s, s.text.strip())
            for s in transcript.segments
            if s.text.strip()
        ]
    spans = [s for s in spans if s.text.strip()]
    detected = bool(not forced and transcript.language)
    return SpeechOutput(
        _speech_segments(video_id, spans, "whisper"),
        f"whisper:{recognizer.info.name}",
        language_code(transcript.language) or transcript.language,
        round(transcript.language_probability, 4) if detected else None,
        "detected" if detected else ("forced" if forced else ""),
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
    captions: CaptionStats | None = None  # vision-LLM backend only


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


def readable_tags(tags: list[tuple[str, float]], describe: Callable[..., str] | None = None) -> str:
    """Searchable text for a frame's tags: the confident labels (with their aliases and
    category words when the tagger offers them), at least the top label."""
    kept = [(label, prob) for label, prob in tags[:TAGS_PER_FRAME] if prob >= TAG_MIN_PROBABILITY]
    if not kept and tags:
        kept = [tags[0]]
    if describe is not None:
        return describe(kept)
    return ", ".join(label for label, _prob in kept)


# --- embeddings ----------------------------------------------------------------------------


def embed_texts(
    engine: Engine, segments: list[Segment], progress: ProgressFn = no_progress
) -> np.ndarray:
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


class _ModelWorker:
    """Runs OCR and visual models on one background thread, beside the decoder.

    A bounded semaphore caps pending samples, so a slow OCR never lets decoded images pile up.
    """

    def __init__(self, max_pending: int = 24) -> None:
        from concurrent.futures import ThreadPoolExecutor
        from threading import BoundedSemaphore

        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="frame-models")
        self._slots = BoundedSemaphore(max_pending)
        self._futures: list = []

    def submit(self, fn: Callable[..., None], *args: object) -> None:
        self._slots.acquire()

        def run() -> None:
            try:
                fn(*args)
            finally:
                self._slots.release()

        self._futures.append(self._pool.submit(run))

    def finish(self) -> None:
        try:
            for future in self._futures:
                future.result()  # re-raise the first model error
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)


class _FrameSteps:
    """The named steps of one frame scan: what happens to each visual and OCR sample.

    The decoder thread calls :meth:`on_visual` / :meth:`on_ocr`; model work runs on a
    background worker (:class:`_ModelWorker`); vision-LLM requests run on their own small
    pool (:class:`~indexer.captioning.FrameCaptioning`).
    """

    def __init__(
        self,
        engine: Engine,
        video_id: str,
        modalities: list[Modality],
        progress: ProgressFn,
    ) -> None:
        settings = engine.settings
        self.settings = settings
        self.video_id = video_id
        self.visual_model = engine.models.visual() if Modality.VISUAL in modalities else None
        self.ocr_model = engine.models.ocr() if Modality.OCR in modalities else None
        self.thumbs_rel = f"media/thumbs/{video_id}"
        self.thumbs_dir = settings.home / self.thumbs_rel
        self.thumbs_dir.mkdir(parents=True, exist_ok=True)
        self.out = FramesOutput(shots=[])
        self.readings: list[OcrReading] = []
        self.ocr_memory = OcrMemory()  # read_text runs on one worker thread, in scan order
        self.pending: list[VisualSample] = []
        self.worker = _ModelWorker()
        self.captioning: FrameCaptioning | None = None
        if self.visual_model is not None and self.visual_model.kind == "vlm":
            from indexer.captioning import FrameCaptioning
            from scenespark.models.vision_llm import VisionCaptioner

            assert isinstance(self.visual_model, VisionCaptioner)
            self.captioning = FrameCaptioning(engine, self.visual_model, video_id, progress)

    @property
    def visual_max_side(self) -> int:
        """Frames for a vision LLM keep up to its max side; the others need 640 px at most."""
        if self.captioning is not None:
            return max(SCAN_MAX_SIDE, self.settings.vision_max_side_px)
        return SCAN_MAX_SIDE

    # ---- visual ----------------------------------------------------------------------------
    def on_visual(self, sample: VisualSample) -> None:
        if self.captioning is not None:
            from indexer.captioning import SampledFrame

            name = self._thumbnail_name(sample.time_s)
            self.worker.submit(self._save_thumbnail, sample.image, name)
            self.captioning.add(
                SampledFrame(sample.time_s, sample.shot_id, sample.phash, self._rel(name)),
                sample.image,
                keyframe=sample.reason == "keyframe",
            )
            return
        self.pending.append(sample)
        if len(self.pending) >= VISUAL_BATCH:
            self.flush_visual()

    def flush_visual(self) -> None:
        if self.pending:
            self.worker.submit(self.visual_batch, list(self.pending))
            self.pending.clear()

    def visual_batch(self, batch: list[VisualSample]) -> None:
        """Tags or CLIP vectors for a batch of frames, plus their thumbnails."""
        visual_model = self.visual_model
        images = [s.image for s in batch]
        if visual_model is not None and visual_model.kind == "clip":
            vectors = visual_model.embed_images(images)
            texts = [""] * len(batch)
            self.out.clip_vectors.extend(np.asarray(v, dtype=np.float32) for v in vectors)
        elif visual_model is not None:
            describe = getattr(visual_model, "describe_tags", None)
            texts = [readable_tags(tags, describe) for tags in visual_model.tag_images(images)]
        else:
            texts = [""] * len(batch)
        for sample, text in zip(batch, texts, strict=True):
            name = self._thumbnail_name(sample.time_s)
            self._save_thumbnail(sample.image, name)
            self.out.visual.append(
                Segment(
                    video_id=self.video_id,
                    modality=Modality.VISUAL,
                    start_s=round(sample.time_s, 3),
                    end_s=round(sample.time_s, 3),
                    text=text,
                    frame_time_s=round(sample.time_s, 3),
                    shot_id=sample.shot_id,
                    source=visual_model.kind if visual_model is not None else "thumbnail",
                    thumbnail=self._rel(name),
                )
            )

    def _thumbnail_name(self, time_s: float) -> str:
        return f"{time_s:010.3f}.jpg"

    def _rel(self, name: str) -> str:
        return f"{self.thumbs_rel}/{name}"

    def _save_thumbnail(self, image: np.ndarray, name: str) -> None:
        from scenespark.media.thumbs import save_thumbnail

        save_thumbnail(image, self.thumbs_dir / name, self.settings.thumbnail_max_side)

    # ---- OCR -------------------------------------------------------------------------------
    def on_ocr(self, sample: OcrSample) -> None:
        self.out.ocr_frames += 1
        if self.ocr_model is not None:
            self.worker.submit(self.read_text, sample)

    def read_text(self, sample: OcrSample) -> None:
        assert self.ocr_model is not None
        lines = [
            (line.text, float(line.confidence))
            for line in self.ocr_model.read(sample.image, self.ocr_memory)
            if line.confidence >= self.settings.ocr_min_confidence
        ]
        self.readings.append(OcrReading(sample.start_s, sample.end_s, lines, sample.shot_id))

    # ---- end -------------------------------------------------------------------------------
    def finish(self, shots: list[Shot]) -> FramesOutput:
        out = self.out
        out.shots = shots
        visual_model = self.visual_model
        if self.captioning is not None:
            out.visual = self.captioning.finish()
            out.frames_sampled = self.captioning.stats.frames_sampled
            out.captions = self.captioning.stats
        else:
            out.frames_sampled = len(out.visual)
        order = sorted(range(len(out.visual)), key=lambda i: out.visual[i].start_s)
        out.visual = [out.visual[i] for i in order]
        if out.clip_vectors:  # keep vectors parallel to the sorted segments
            out.clip_vectors = [out.clip_vectors[i] for i in order]
        _extend_visual_spans(out.visual, shots)
        if visual_model is not None:
            out.visual_source = f"{visual_model.kind}:{visual_model.info.name}"
        if visual_model is not None and visual_model.kind != "clip":
            out.visual = [s for s in out.visual if s.text]
        ocr_source = self.ocr_model.info.name if self.ocr_model is not None else "none"
        out.ocr = ocr_segments(self.video_id, self.readings, f"ocr:{ocr_source}")
        return out


def frames_stage(
    engine: Engine,
    info: MediaInfo,
    video_id: str,
    modalities: list[Modality],
    progress: ProgressFn = no_progress,
) -> FramesOutput:
    """Decode once: shots, visual evidence (tags, captions or CLIP vectors + thumbnails) and
    OCR text."""
    from scenespark.media.scan import scan_video

    settings = engine.settings
    steps = _FrameSteps(engine, video_id, modalities, progress)

    def on_progress(fraction: float, message: str) -> None:
        if steps.captioning is not None:
            steps.captioning.set_fraction(0.95 * fraction)
        progress(0.95 * fraction, message)

    try:
        try:
            scan = scan_video(
                Path(info.path),
                reader=settings.frame_reader,
                frame_interval_s=settings.frame_interval_s,
                ocr_interval_s=settings.ocr_interval_s,
                max_side=steps.visual_max_side,
                on_visual=steps.on_visual,
                on_ocr=steps.on_ocr,
                on_progress=on_progress,
                fps=info.fps or None,
                duration_s=info.duration_s or None,
            )
            steps.flush_visual()
        finally:
            steps.worker.finish()
        out = steps.finish(scan.shots)
    finally:
        if steps.captioning is not None:
            steps.captioning.close()
    progress(1.0, "frames done")
    return out


def _extend_visual_spans(visual: list[Segment], shots: list[Shot]) -> None:
    """A frame's evidence holds until the next sampled frame of its shot (or the shot end)."""
    for index, seg in enumerate(visual):
        shot_end = shots[seg.shot_id].end_s if 0 <= seg.shot_id < len(shots) else seg.start_s + 1.0
        nxt = visual[index + 1] if index + 1 < len(visual) else None
        end = nxt.start_s if nxt is not None and nxt.shot_id == seg.shot_id else shot_end
        seg.end_s = round(max(end, seg.start_s + 0.04), 3)
