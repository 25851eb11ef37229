"""Shaping raw recogniser output into searchable segments.

- Speech: whisper segments can run for 30 s; search and cut points want sentences. Words are
  regrouped into sentences by punctuation (Latin and CJK: . ! ? 。！？；), by pauses and by a
  maximum length, so units are neither run-ons nor fragments:
  - a pause of ``PAUSE_SPLIT_S`` ends a sentence, unless the word before it is one a sentence
    does not end on ("the", "of", "and", "和") and the pause is shorter than ``LONG_PAUSE_S``;
  - a sentence longer than ``MAX_SENTENCE_S`` is split where a pause, a clause mark (, ; ，、)
    or a capitalised word after a pause says a new sentence starts, never after a "the";
  - a lone word left between two splits joins its nearer neighbour;
  - a word Whisper timed at the end of a sentence across a long silence although it starts the
    next one ("…laptop the | base model costs") moves to the next sentence.
- Untimed cues (SRT) are split into sentences and long clauses, sharing the cue's time.
- OCR: the same on-screen line read on consecutive candidate frames becomes one segment whose
  span runs from its first sighting until the frame after its last sighting.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from scenespark.language.rules import RULES
from scenespark.language.sentences import join_words, split_sentences
from scenespark.types import Word

SENTENCE_END = re.compile(r"[.!?…。！？；]['\")\]”’」』）]*$")
CLAUSE_END = re.compile(r"[,;:，、；：]['\")\]”’」』）]*$")
PAUSE_SPLIT_S = 0.8  # a silence this long ends a sentence
LONG_PAUSE_S = 2.0  # ... even after a word sentences do not end on
MAX_SENTENCE_S = 12.0  # longer sentences are split at their best break
MIN_SPLIT_PART_S = 1.5
CONTINUATION_WORDS: frozenset[str] = frozenset().union(
    *(rules.continuation_words for rules in RULES.values())
)


@dataclass
class TextSpan:
    start_s: float
    end_s: float
    text: str
    words: list[Word] = field(default_factory=list)
    confidence: float = 1.0


ABBREVIATIONS: frozenset[str] = frozenset().union(
    *(rules.abbreviations for rules in RULES.values())
)
_INITIAL = re.compile(r"^[A-Z]\.$")  # "J." in "J. R. R. Tolkien"


def ends_sentence(word: Word) -> bool:
    """Sentence punctuation at the end of ``word``, not the full stop of "Mr." or "J."."""
    text = word.text.strip()
    if not SENTENCE_END.search(text):
        return False
    return not (text.lower() in ABBREVIATIONS or _INITIAL.match(text))


def _bare(word: Word) -> str:
    return word.text.strip().strip("'\"()[]“”‘’「」").lower()


def _continues(word: Word) -> bool:
    """A word a sentence does not end on (article, preposition, conjunction...)."""
    text = word.text.strip()
    return (
        not SENTENCE_END.search(text)
        and not CLAUSE_END.search(text)
        and (_bare(word) in CONTINUATION_WORDS)
    )


def _starts_sentence(word: Word) -> bool:
    text = word.text.strip().lstrip("'\"(“‘")
    return bool(text[:1].isupper()) and text not in ("I", "I'm", "I'll", "I've", "I'd")


def sentences_from_words(words: Sequence[Word]) -> list[TextSpan]:
    """Group timed words into sentence-like spans (see the module docstring)."""
    groups: list[list[Word]] = []
    current: list[Word] = []
    for index, word in enumerate(words):
        current.append(word)
        next_word = words[index + 1] if index + 1 < len(words) else None
        gap = next_word.start_s - word.end_s if next_word is not None else 0.0
        long_pause = next_word is not None and gap >= PAUSE_SPLIT_S
        if long_pause and _continues(word) and gap < LONG_PAUSE_S:
            long_pause = False  # "... the | base model": the sentence goes on
        if next_word is None or ends_sentence(word) or long_pause:
            carried = _misplaced_lead(current, gap) if next_word is not None else None
            if carried is not None:
                current.pop()
            groups.extend(_split_long(current))
            current = [_retimed_before(carried, next_word)] if carried and next_word else []
    return [_span(group) for group in _merge_lone_words(groups) if group]


def _misplaced_lead(current: list[Word], gap_s: float) -> Word | None:
    """The first word of the next sentence that Whisper timed at the end of this one, across a
    long silence ("…lightweight laptop the | base model costs", "…video playback Thank | you
    for watching"): a word no sentence ends on, or a capitalised word squeezed onto the word
    before it (it starts before that word ends)."""
    if gap_s < LONG_PAUSE_S or len(current) < 2 or ends_sentence(current[-2]):
        return None
    word, before = current[-1], current[-2]
    if _continues(word):
        return word
    squeezed = word.start_s < before.end_s - 0.01
    return word if _starts_sentence(word) and squeezed else None


def _retimed_before(word: Word, next_word: Word) -> Word:
    """``word`` moved to just before ``next_word``, keeping a plausible length."""
    length_s = min(max(word.end_s - word.start_s, 0.12), 0.5)
    start_s = max(word.end_s, next_word.start_s - length_s)
    return Word(
        start_s=round(start_s, 3),
        end_s=round(next_word.start_s, 3),
        text=word.text,
        probability=word.probability,
    )


def _merge_lone_words(groups: list[list[Word]]) -> list[list[Word]]:
    """A one-word group without sentence punctuation joins its nearer neighbour: the previous
    one when it is still open and the word does not start a sentence, the next one when that
    does not start a new sentence itself; never beyond the maximum length or a long pause."""
    out = [list(g) for g in groups if g]
    i = 0
    while i < len(out):
        group = out[i]
        if len(group) != 1 or ends_sentence(group[0]) or len(out) == 1:
            i += 1
            continue
        word = group[0]
        options: list[tuple[float, int]] = []
        previous_open = i > 0 and not ends_sentence(out[i - 1][-1])
        if (
            previous_open
            and not _starts_sentence(word)  # "…playback | Thank": "Thank" starts the next one
            and word.end_s - out[i - 1][0].start_s <= MAX_SENTENCE_S
        ):
            options.append((word.start_s - out[i - 1][-1].end_s, i - 1))
        if (
            i + 1 < len(out)
            and out[i + 1][-1].end_s - word.start_s <= MAX_SENTENCE_S
            and (not _starts_sentence(out[i + 1][0]) or _continues(word))
        ):
            options.append((out[i + 1][0].start_s - word.end_s, i + 1))
        options = [o for o in options if o[0] < LONG_PAUSE_S]
        if not options:
            i += 1
            continue
        _gap, target = min(options)
        if target < i:
            out[target].extend(group)
        else:
            out[target][:0] = group
        del out[i]
        i = max(0, i - 1)
    return out


def _split_long(words: list[Word]) -> list[list[Word]]:
    if not words:
        return []
    duration = words[-1].end_s - words[0].start_s
    if duration <= MAX_SENTENCE_S or len(words) < 4:
        return [words]
    best_index, best_score = -1, float("-inf")
    for i in range(1, len(words)):
        left = words[i - 1].end_s - words[0].start_s
        right = words[-1].end_s - words[i].start_s
        if left < MIN_SPLIT_PART_S or right < MIN_SPLIT_PART_S:
            continue
        gap = words[i].start_s - words[i - 1].end_s
        clause_bonus = 0.3 if CLAUSE_END.search(words[i - 1].text.strip()) else 0.0
        start_bonus = 0.15 if _starts_sentence(words[i]) else 0.0
        continuation_penalty = 0.6 if _continues(words[i - 1]) else 0.0
        balance = 1.0 - abs(left - right) / duration  # prefer splits near the middle
        score = gap + clause_bonus + start_bonus - continuation_penalty + 0.2 * balance
        if score > best_score:
            best_index, best_score = i, score
    if best_index < 0:
        return [words]
    return _split_long(words[:best_index]) + _split_long(words[best_index:])


def _span(words: list[Word]) -> TextSpan:
    text = join_words([w.text for w in words])
    confidence = sum(w.probability for w in words) / len(words)
    return TextSpan(words[0].start_s, words[-1].end_s, text, list(words), confidence)


def split_text_sentences(start_s: float, end_s: float, text: str) -> list[TextSpan]:
    """Split an untimed cue into sentences (and over-long clauses), sharing its time in
    proportion to their length."""
    parts = split_sentences(text)
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


_NUMBER = re.compile(r"\d+")


def same_line(a: str, b: str, threshold: float = 0.8) -> bool:
    """The same on-screen line read twice (OCR noise tolerated), unless its numbers changed:
    "Reading, part 1" → "part 2", a score, a counter or a price are new text on screen."""
    a_key, b_key = a.lower(), b.lower()
    if a_key == b_key:
        return True
    a_digits, b_digits = "".join(_NUMBER.findall(a_key)), "".join(_NUMBER.findall(b_key))
    if a_digits and len(a_digits) == len(b_digits) and a_digits != b_digits:
        return False  # as many digits, other values: changed (a misread drops one: "42"/"4Z")
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
