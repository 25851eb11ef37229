"""Shaping raw recogniser output into searchable segments.

- Speech: whisper segments can run for 30 s; search and cut points want sentences. Words are
  regrouped into sentence-like segments at sentence punctuation and long pauses, and very long
  sentences are split at the widest pause.
- OCR: the same on-screen line read on consecutive candidate frames becomes one segment whose
  span runs from its first sighting until the frame after its last sighting.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from scenespark.types import Word

SENTENCE_END = re.compile(r"[.!?…]['\")\]]*$")
PAUSE_SPLIT_S = 0.8  # a silence this long ends a sentence
MAX_SENTENCE_S = 12.0  # longer sentences are split at their widest pause
MIN_SPLIT_PART_S = 1.5


@dataclass
class TextSpan:
    start_s: float
    end_s: float
    text: str
    words: list[Word] = field(default_factory=list)
    confidence: float = 1.0


def sentences_from_words(words: Sequence[Word]) -> list[TextSpan]:
    """Group timed words into sentence-like spans."""
    spans: list[TextSpan] = []
    current: list[Word] = []
    for index, word in enumerate(words):
        current.append(word)
        next_word = words[index + 1] if index + 1 < len(words) else None
        ends_sentence = bool(SENTENCE_END.search(word.text.strip()))
        long_pause = next_word is not None and next_word.start_s - word.end_s >= PAUSE_SPLIT_S
        if next_word is None or ends_sentence or long_pause:
            spans.extend(_split_long(current))
            current = []
    return spans


def _split_long(words: list[Word]) -> list[TextSpan]:
    if not words:
        return []
    duration = words[-1].end_s - words[0].start_s
    if duration <= MAX_SENTENCE_S or len(words) < 4:
        return [_span(words)]
    best_index, best_score = -1, -1.0
    for i in range(1, len(words)):
        left = words[i - 1].end_s - words[0].start_s
        right = words[-1].end_s - words[i].start_s
        if left < MIN_SPLIT_PART_S or right < MIN_SPLIT_PART_S:
            continue
        gap = words[i].start_s - words[i - 1].end_s
        clause_bonus = 0.3 if re.search(r"[,;:]$", words[i - 1].text.strip()) else 0.0
        balance = 1.0 - abs(left - right) / duration  # prefer splits near the middle
        score = gap + clause_bonus + 0.2 * balance
        if score > best_score:
            best_index, best_score = i, score
    if best_index < 0:
        return [_span(words)]
    return _split_long(words[:best_index]) + _split_long(words[best_index:])


def _span(words: list[Word]) -> TextSpan:
    text = "".join(_join_token(w.text, i) for i, w in enumerate(words)).strip()
    confidence = sum(w.probability for w in words) / len(words)
    return TextSpan(words[0].start_s, words[-1].end_s, text, list(words), confidence)


def _join_token(token: str, index: int) -> str:
    # faster-whisper words carry their leading space; sidecar words may not
    if index == 0 or token.startswith(" "):
        return token
    return " " + token


def split_text_sentences(start_s: float, end_s: float, text: str) -> list[TextSpan]:
    """Split an untimed cue into sentences, sharing its time in proportion to their length."""
    parts = [p.strip() for p in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if p.strip()]
    if len(parts) <= 1:
        return [TextSpan(start_s, end_s, " ".join(text.split()))]
    total = sum(len(p) for p in parts)
    spans: list[TextSpan] = []
    cursor = start_s
    for part in parts:
        share = (end_s - start_s) * len(part) / total
        spans.append(TextSpan(round(cursor, 3), round(cursor + share, 3), part))
        cursor += share
    spans[-1].end_s = end_s
    return spans


# --- OCR -----------------------------------------------------------------------------------


@dataclass
class OcrReading:
    """The lines read on one OCR candidate frame, valid until ``valid_until_s``."""

    time_s: float
    valid_until_s: float
    lines: list[tuple[str, float]]  # (text, confidence)
    shot_id: int = -1


@dataclass
class _Track:
    text: str
    start_s: float
    end_s: float
    confidences: list[float]
    shot_id: int
    last_seen_index: int


def normalise_ocr_text(text: str) -> str:
    return " ".join(text.split())


def same_line(a: str, b: str, threshold: float = 0.8) -> bool:
    a_key, b_key = a.lower(), b.lower()
    if a_key == b_key:
        return True
    return SequenceMatcher(None, a_key, b_key).ratio() >= threshold


def merge_ocr_readings(
    readings: Sequence[OcrReading], *, max_gap_frames: int = 1
) -> list[TextSpan]:
    """Merge consecutive readings of the same line into spans.

    A line missing from one reading (OCR flicker) but seen again right after stays one span when
    ``max_gap_frames`` allows it. The longest variant of a line (most characters) is kept.
    """
    tracks: list[_Track] = []
    done: list[_Track] = []
    for index, reading in enumerate(sorted(readings, key=lambda r: r.time_s)):
        seen: set[int] = set()
        for raw_text, confidence in reading.lines:
            text = normalise_ocr_text(raw_text)
            if not text:
                continue
            match = next(
                (i for i, t in enumerate(tracks) if i not in seen and same_line(t.text, text)),
                None,
            )
            if match is None:
                tracks.append(
                    _Track(
                        text,
                        reading.time_s,
                        reading.valid_until_s,
                        [confidence],
                        reading.shot_id,
                        index,
                    )
                )
                seen.add(len(tracks) - 1)
                continue
            track = tracks[match]
            track.end_s = max(track.end_s, reading.valid_until_s)
            track.confidences.append(confidence)
            track.last_seen_index = index
            if len(text) > len(track.text) and confidence >= min(track.confidences):
                track.text = text
            seen.add(match)
        still_open = []
        for track in tracks:
            if index - track.last_seen_index > max_gap_frames:
                done.append(track)
            else:
                still_open.append(track)
        tracks = still_open
    done.extend(tracks)
    done.sort(key=lambda t: (t.start_s, t.text))
    return [
        TextSpan(t.start_s, t.end_s, t.text, [], sum(t.confidences) / len(t.confidences))
        for t in done
    ]
