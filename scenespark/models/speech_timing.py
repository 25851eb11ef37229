"""Tighter word timings for faster-whisper output.

faster-whisper pads each voice-activity chunk (Silero's default 400 ms) before decoding: good for
recognition (the decoder hears each utterance's onset), but the first word of a chunk is then
dated up to ~0.5 s early and the last one may run into the silence after it (measured on TTS
narration). Running the same VAD once more *without* padding gives where speech really is; word
edges that fall in silence are moved onto the nearest speech edge inside the word.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from scenespark.models.base import SpeechSegment
from scenespark.types import Word

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16000
TAIL_REACH_S = 0.5


def decode_audio(audio_path: Path) -> np.ndarray:
    """The file's audio as 16 kHz mono float32 samples (faster-whisper's decoder, PyAV)."""
    from faster_whisper.audio import decode_audio as _decode

    return _decode(str(audio_path), sampling_rate=SAMPLE_RATE)


def speech_regions(
    audio: Path | np.ndarray, *, min_silence_ms: int = 200, pad_ms: int = 30
) -> list[tuple[float, float]]:
    """Where speech is, by Silero VAD (bundled with faster-whisper), in seconds; ``audio`` is a
    file or 16 kHz mono samples (:func:`decode_audio`)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if isinstance(audio, Path | str):
        audio = decode_audio(Path(audio))
    options = VadOptions(min_silence_duration_ms=min_silence_ms, speech_pad_ms=pad_ms)
    return [
        (r["start"] / SAMPLE_RATE, r["end"] / SAMPLE_RATE)
        for r in get_speech_timestamps(audio, options)
    ]


def _inside(t: float, regions: list[tuple[float, float]], starts: list[float]) -> bool:
    i = bisect_right(starts, t) - 1
    return i >= 0 and regions[i][0] <= t <= regions[i][1]


def _speech_share(word: Word, regions: list[tuple[float, float]]) -> float:
    length = word.end_s - word.start_s
    if length <= 0:
        return 1.0
    covered = sum(max(0.0, min(hi, word.end_s) - max(lo, word.start_s)) for lo, hi in regions)
    return covered / length


def refine_word(word: Word, regions: list[tuple[float, float]], starts: list[float]) -> Word:
    start, end = word.start_s, word.end_s
    if not _inside(start, regions, starts):
        onsets = [lo for lo, _hi in regions if start < lo < end]
        if onsets:
            start = onsets[0]
    if not _inside(end, regions, starts):
        offsets = [hi for _lo, hi in regions if start < hi < end]
        if offsets:
            end = offsets[-1]
    if (start, end) == (word.start_s, word.end_s):
        return word
    return word.model_copy(update={"start_s": round(start, 3), "end_s": round(end, 3)})


def refine_segments(
    segments: list[SpeechSegment], regions: list[tuple[float, float]]
) -> list[SpeechSegment]:
    if not regions:
        return segments
    regions = sorted(regions)
    starts = [lo for lo, _hi in regions]
    out = []
    for seg in segments:
        words = list(seg.words)
        if words and _speech_share(words[0], regions) < 0.5:
            # the first word sits mostly in the padded silence: start at the speech onset that
            # comes before the second word
            limit = words[1].start_s if len(words) > 1 else seg.end_s
            onsets = [lo for lo, _hi in regions if words[0].start_s < lo < limit]
            if onsets:
                first = words[0]
                end = min(max(first.end_s, onsets[0] + 0.05), limit)
                words[0] = first.model_copy(
                    update={"start_s": round(onsets[0], 3), "end_s": round(end, 3)}
                )
        words = [refine_word(w, regions, starts) for w in words]
        if words:
            # whisper tends to close the last word before the voice fades: extend it to the
            # end of its speech region when that is close
            last = words[-1]
            i = bisect_right(starts, last.end_s) - 1
            if i >= 0 and last.end_s < regions[i][1] <= last.end_s + TAIL_REACH_S:
                words[-1] = last.model_copy(update={"end_s": round(regions[i][1], 3)})
        if words:
            seg = replace(seg, words=words, start_s=words[0].start_s, end_s=words[-1].end_s)
        out.append(seg)
    return out
