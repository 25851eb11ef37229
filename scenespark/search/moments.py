"""Word-level moments: a speech hit narrows to the words that answer the query.

A hit built from speech covers whole sentences, and Whisper writes long ones (a poem's four
verse lines, a lecturer's run-on): a 3-second quote must not come back as a 12-second sentence.
The words of the hit's speech segments (their Whisper timings are stored with each segment) are
grouped into phrases at pauses and punctuation; every run of consecutive phrases is scored
against the query (dense similarity of its text plus the share of the query's keywords it
holds) and the best run, padded to the surrounding pauses, becomes the hit's extent. Hits with
OCR or visual evidence keep their own extent, and so do hits that fit one subtitle event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from scenespark.language.sentences import join_words
from scenespark.language.tokenize import tokenize
from scenespark.search.fusion import Span
from scenespark.types import Hit, Modality, Word

EmbedTexts = Callable[[list[str]], np.ndarray]

# A speech hit no longer than one subtitle event (7 s, the common subtitling maximum) is already a
# moment; a longer one (a run-on sentence, verse lines Whisper joined) narrows to its best words.
NARROW_FROM_S = 7.0
MIN_MOMENT_S = 1.2  # a moment is never shorter (a lone word is not an answer)
PHRASE_PAUSE_S = 0.2  # a silence this long between two words ends a phrase
MAX_PHRASE_S = 2.5  # a longer phrase splits at its widest gap between words
PRE_PAD_S = 0.15  # padding before the first word (never into the previous word)
POST_PAD_S = 0.25  # padding after the last word (never into the next word)
MAX_PHRASES_PER_WINDOW = 6
MAX_PHRASES = 24  # phrases beyond this are merged pairwise first
MAX_WINDOWS_PER_SEARCH = 800  # texts embedded per search; later hits keep their extent
KEYWORD_WEIGHT = 0.3  # share of the query's keywords held by the window, added to the cosine
SHORTER_BONUS = 0.02  # a tie goes to the shorter window
_PHRASE_END = (",", ";", ":", ".", "!", "?", "…", "—", "，", "；", "：", "。", "！", "？")


@dataclass(frozen=True)
class Window:
    start_s: float
    end_s: float
    text: str
    first: int  # index of its first word in the hit's word list
    last: int


def narrow_speech_hits(
    hits: Sequence[Hit], spans: Sequence[Span], query: str, embed_texts: EmbedTexts
) -> int:
    """Narrow each long speech-only hit (in place) to its best-matching words; returns how
    many hits changed. ``spans`` are the fused spans the hits were made from."""
    by_key = {(s.video_id, round(s.start_s, 3), round(s.end_s, 3)): s for s in spans}
    jobs: list[tuple[Hit, list[Word], list[Window]]] = []
    budget = MAX_WINDOWS_PER_SEARCH
    for hit in hits:
        span = by_key.get((hit.video_id, hit.start_s, hit.end_s))
        if span is None or hit.end_s - hit.start_s < NARROW_FROM_S:
            continue
        if any(e.segment.modality != Modality.SPEECH for e in span.evidence):
            continue  # OCR and visual evidence keep their own extent
        words = speech_words(span)
        windows = candidate_windows(words)
        if len(windows) < 2 or len(windows) > budget:
            continue
        budget -= len(windows)
        jobs.append((hit, words, windows))
    if not jobs:
        return 0
    texts = [query] + [w.text for _, _, windows in jobs for w in windows]
    vectors = embed_texts(texts)
    query_vector, window_vectors = vectors[0], vectors[1:]
    query_terms = set(tokenize(query))
    changed = 0
    offset = 0
    for hit, words, windows in jobs:
        dense = window_vectors[offset : offset + len(windows)] @ query_vector
        offset += len(windows)
        best = pick_window(windows, [float(x) for x in dense], query_terms)
        start_s, end_s = padded(best, words, hit.start_s, hit.end_s)
        if end_s - start_s < hit.end_s - hit.start_s - 1e-3:
            hit.start_s, hit.end_s = round(start_s, 3), round(end_s, 3)
            changed += 1
    return changed


def speech_words(span: Span) -> list[Word]:
    """The timed words of a span's speech segments, in time order, each once."""
    seen: set[tuple[float, float]] = set()
    words: list[Word] = []
    for item in span.evidence:
        for word in item.segment.words:
            key = (round(word.start_s, 3), round(word.end_s, 3))
            if word.text.strip() and word.end_s > word.start_s and key not in seen:
                seen.add(key)
                words.append(word)
    return sorted(words, key=lambda w: w.start_s)


def phrases(words: list[Word]) -> list[tuple[int, int]]:
    """(first, last) word indexes of each phrase: split at punctuation and pauses."""
    out: list[tuple[int, int]] = []
    first = 0
    for i, word in enumerate(words):
        last_word = i == len(words) - 1
        pause = not last_word and words[i + 1].start_s - word.end_s >= PHRASE_PAUSE_S
        if last_word or pause or word.text.strip().endswith(_PHRASE_END):
            out.extend(_split_long(words, first, i))
            first = i + 1
    while len(out) > MAX_PHRASES:  # merge neighbours pairwise
        out = [(out[k][0], out[min(k + 1, len(out) - 1)][1]) for k in range(0, len(out), 2)]
    return out


def _split_long(words: list[Word], first: int, last: int) -> list[tuple[int, int]]:
    """A phrase longer than MAX_PHRASE_S split at its widest gaps (halves of 2+ words)."""
    if words[last].end_s - words[first].start_s <= MAX_PHRASE_S or last - first < 3:
        return [(first, last)]
    cut = max(range(first + 1, last - 1), key=lambda k: (words[k + 1].start_s - words[k].end_s, -k))
    return _split_long(words, first, cut) + _split_long(words, cut + 1, last)


def candidate_windows(words: list[Word]) -> list[Window]:
    """Every run of 1..MAX_PHRASES_PER_WINDOW consecutive phrases lasting MIN_MOMENT_S or more
    (the whole span among them when it is short enough)."""
    groups = phrases(words)
    out: list[Window] = []
    for a in range(len(groups)):
        for b in range(a, min(len(groups), a + MAX_PHRASES_PER_WINDOW)):
            first, last = groups[a][0], groups[b][1]
            start_s, end_s = words[first].start_s, words[last].end_s
            if end_s - start_s < MIN_MOMENT_S and not (a == 0 and b == len(groups) - 1):
                continue
            text = join_words([w.text for w in words[first : last + 1]])
            out.append(Window(start_s, end_s, text, first, last))
    return out


def pick_window(windows: list[Window], dense: list[float], query_terms: set[str]) -> Window:
    """The window whose text matches the query best (cosine + keyword share); ties → shorter."""
    longest = max(w.end_s - w.start_s for w in windows) or 1.0

    def value(k: int) -> float:
        w = windows[k]
        share = 0.0
        if query_terms:
            share = len(query_terms & set(tokenize(w.text))) / len(query_terms)
        brevity = 1.0 - (w.end_s - w.start_s) / longest
        return dense[k] + KEYWORD_WEIGHT * share + SHORTER_BONUS * brevity

    return windows[max(range(len(windows)), key=value)]


def padded(window: Window, words: list[Word], lo_s: float, hi_s: float) -> tuple[float, float]:
    """The window's extent padded into the pauses around it, never into a neighbouring word
    and never outside lo_s..hi_s."""
    start_s = window.start_s - PRE_PAD_S
    if window.first > 0:
        start_s = max(start_s, words[window.first - 1].end_s)
    end_s = window.end_s + POST_PAD_S
    if window.last + 1 < len(words):
        end_s = min(end_s, words[window.last + 1].start_s)
    start_s, end_s = max(lo_s, start_s), min(hi_s, end_s)
    if end_s - start_s < MIN_MOMENT_S:  # grow evenly into the hit's own extent
        need = MIN_MOMENT_S - (end_s - start_s)
        start_s = max(lo_s, start_s - need / 2)
        end_s = min(hi_s, start_s + MIN_MOMENT_S)
    return start_s, end_s
