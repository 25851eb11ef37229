"""Word-level moments: a long speech hit narrows to the words that answer the query.

Pure helpers on hand-made word timings, then the real MiniLM text model (offline) on a
four-line sentence: a quoted line and a paraphrase come back as their line, not the sentence.
"""

from __future__ import annotations

import pytest

from scenespark.config import load_settings
from scenespark.search.fusion import ScoredEvidence, Span
from scenespark.search.moments import (
    MIN_MOMENT_S,
    NARROW_FROM_S,
    candidate_windows,
    narrow_speech_hits,
    padded,
    phrases,
)
from scenespark.types import Evidence, Hit, Modality, Segment, Word

# four verse lines read as one sentence (as Whisper writes them), ~0.3 s per word
LINES = [
    "the woods are lovely dark and deep,",
    "but I have promises to keep,",
    "and miles to go before I sleep,",
    "the river carries the old boat home.",
]


def timed_words(lines: list[str], start_s: float = 2.0) -> tuple[list[Word], list[tuple]]:
    words, extents, t = [], [], start_s
    for line in lines:
        first = t
        for token in line.split():
            words.append(Word(start_s=round(t, 3), end_s=round(t + 0.28, 3), text=token))
            t += 0.32
        extents.append((first, round(t - 0.04, 3)))
        t += 0.45  # a breath between lines
    return words, extents


def speech_span(words: list[Word], video_id: str = "v1") -> tuple[Span, Hit]:
    segment = Segment(
        video_id=video_id,
        modality=Modality.SPEECH,
        start_s=words[0].start_s,
        end_s=words[-1].end_s,
        text=" ".join(w.text for w in words),
        words=words,
    )
    span = Span(
        video_id, segment.start_s, segment.end_s, 0.8, [ScoredEvidence("s1", segment, 0.8, "dense")]
    )
    hit = Hit(
        video_id=video_id,
        start_s=round(span.start_s, 3),
        end_s=round(span.end_s, 3),
        score=0.8,
        evidence=Evidence(transcript=segment.text),
    )
    return span, hit


def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    return inter / (max(a[1], b[1]) - min(a[0], b[0]))


def test_phrases_split_at_punctuation_and_pauses() -> None:
    words, _ = timed_words(LINES)
    groups = phrases(words)
    assert len(groups) == 4
    assert [" ".join(w.text for w in words[a : b + 1]) for a, b in groups] == LINES


def test_windows_are_runs_of_phrases_never_shorter_than_a_moment() -> None:
    words, _ = timed_words(LINES)
    windows = candidate_windows(words)
    assert len(windows) == 10  # 4 + 3 + 2 + 1 runs
    assert all(w.end_s - w.start_s >= MIN_MOMENT_S for w in windows)


def test_padding_stays_in_the_pauses() -> None:
    words, _ = timed_words(LINES)
    line2 = next(w for w in candidate_windows(words) if w.text == LINES[1])
    start_s, end_s = padded(line2, words, words[0].start_s, words[-1].end_s)
    assert words[line2.first - 1].end_s <= start_s < line2.start_s
    assert line2.end_s < end_s <= words[line2.last + 1].start_s


@pytest.fixture(scope="module")
def embed(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from scenespark.models.text import SentenceTransformerEmbedder

    home = tmp_path_factory.mktemp("moments-home")
    return SentenceTransformerEmbedder.from_settings(load_settings(home=home)).embed_texts


@pytest.mark.parametrize(
    ("query", "line"),
    [
        ("but I have promises to keep", 1),
        ("miles to go before I sleep", 2),
        ("a boat brought back home along the stream", 3),  # paraphrase
        ("lovely deep dark forest", 0),  # paraphrase
    ],
)
def test_a_quote_or_paraphrase_of_one_line_comes_back_as_that_line(
    embed, query: str, line: int
) -> None:
    words, extents = timed_words(LINES)
    span, hit = speech_span(words)
    sentence_s = hit.end_s - hit.start_s
    assert narrow_speech_hits([hit], [span], query, embed) == 1
    assert iou((hit.start_s, hit.end_s), extents[line]) >= 0.7, (hit, extents[line])
    assert hit.end_s - hit.start_s < 0.4 * sentence_s


def test_short_hits_and_hits_with_screen_evidence_keep_their_extent(embed) -> None:
    words, _ = timed_words(LINES[:1])
    span, hit = speech_span(words)  # one line, under NARROW_FROM_S
    assert narrow_speech_hits([hit], [span], "lovely woods", embed) == 0
    words, _ = timed_words(LINES)
    span, hit = speech_span(words)
    ocr = Segment(video_id="v1", modality=Modality.OCR, start_s=2.0, end_s=9.0, text="MILES")
    span.evidence.append(ScoredEvidence("o1", ocr, 0.7, "keyword"))
    before = (hit.start_s, hit.end_s)
    assert narrow_speech_hits([hit], [span], "miles to go before I sleep", embed) == 0
    assert (hit.start_s, hit.end_s) == before


def test_a_sentence_that_fits_one_subtitle_event_is_already_the_moment(embed) -> None:
    words, _ = timed_words(LINES[1:3])  # two short lines, one ~5 s sentence
    span, hit = speech_span(words)
    assert hit.end_s - hit.start_s < NARROW_FROM_S
    assert narrow_speech_hits([hit], [span], "miles to go before I sleep", embed) == 0


def test_word_moments_are_on_by_default(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert load_settings(home=tmp_path).search_word_moments


def test_chinese_windows_join_characters_without_spaces() -> None:
    words = [
        Word(start_s=round(1.0 + 0.25 * i, 3), end_s=round(1.2 + 0.25 * i, 3), text=ch)
        for i, ch in enumerate("今天天气很好，我们去公园散步吧。")
    ]
    texts = {w.text for w in candidate_windows(words)}
    assert "今天天气很好，" in texts
    assert not any(" " in t for t in texts)
