"""Deterministic clip labels from evidence: tags, a short title, a description and a reason, in
the language of the material.

- Tags are words or phrases of the evidence: no stopwords, fillers or fragments ("con", "near",
  "finally" are never tags), no single CJK characters, no bare small numbers. Chinese text is
  segmented into words (jieba); a phrase of two or three content words becomes a tag when it
  recurs. Words of the prompt's topic found in the evidence come first.
- Titles come from the first whole sentence of the evidence and are shortened at a clause or
  word boundary, never inside a word or a Chinese word.
- Reasons and descriptions use the material's language table (English or Chinese phrasing).
"""

from __future__ import annotations

import re
from collections import Counter

from scenespark.highlights.candidates import Candidate
from scenespark.language.chinese_script import to_simplified
from scenespark.language.rules import RULES, LanguageRules, rules_for
from scenespark.language.rules.en import TAG_STOPWORDS as ENGLISH_TAG_STOPWORDS
from scenespark.language.scripts import HAN_RE, UNSPACED_RE, dominant_language
from scenespark.language.segment import segment_han
from scenespark.language.sentences import shorten, split_sentences

STOPWORDS = ENGLISH_TAG_STOPWORDS
TAG_STOPWORDS: frozenset[str] = frozenset().union(*(r.tag_stopwords for r in RULES.values()))
_WORD_RE = re.compile(r"[^\W_][\w'-]*[^\W_]|[^\W_]", re.UNICODE)
_HAN_RUN_RE = re.compile(f"{HAN_RE.pattern}+")
_BREAK_RE = re.compile(r"[.,;:!?()\[\]\"“”‘’。，、；：！？（）《》「」…—]+")
MAX_TAGS = 5
TITLE_WORDS = 8
MIN_WORD_CHARS = 3  # a Latin word shorter than this is never a tag ("tv" is, as "TV")


def _keep_word(raw: str) -> str:
    """A word fit for a tag (lower-cased), or "" (stopwords, fragments, small numbers)."""
    word = raw.strip("'-")
    lowered = word.lower()
    if not word or lowered in TAG_STOPWORDS or to_simplified(word) in TAG_STOPWORDS:
        return ""
    if UNSPACED_RE.search(word):
        han = HAN_RE.findall(word)
        if len(word) < 2 or (han and all(ch in "零〇一二两三四五六七八九十百千万亿" for ch in han)):
            return ""  # no single characters, no bare numerals
        return word
    if word.isdigit():
        return word if len(word) >= 3 else ""
    if word.isupper() and word.isalpha() and 2 <= len(word) <= 5:
        return word  # an acronym keeps its case: "TV", "GPU", "NASA"
    if len(word) < MIN_WORD_CHARS:
        return ""  # "tv", "ok" stay out ("con" is a tag stopword)
    return lowered


def _runs(text: str) -> list[list[str]]:
    """Runs of content words between punctuation and stopwords, in order."""
    runs: list[list[str]] = []
    for chunk in _BREAK_RE.split(text):
        current: list[str] = []
        for piece in re.split(f"({HAN_RE.pattern}+)", chunk):
            if not piece.strip():
                continue
            words = segment_han(piece) if HAN_RE.match(piece) else _WORD_RE.findall(piece)
            for raw in words:
                kept = _keep_word(raw)
                if kept:
                    current.append(kept)
                elif current:
                    runs.append(current)
                    current = []
        if current:
            runs.append(current)
    return runs


def tokens(text: str) -> list[str]:
    """Content words of ``text`` (lower-cased; jieba words for Chinese)."""
    return [word for run in _runs(text) for word in run]


def _join(words: list[str]) -> str:
    return "".join(words) if all(UNSPACED_RE.search(w) for w in words) else " ".join(words)


def _label_list(labels: str) -> list[str]:
    return [x.strip().lower() for x in re.split(r"[,;|，、]", labels) if x.strip()]


def tags_for(candidates: list[Candidate], topic: str = "", limit: int = MAX_TAGS) -> list[str]:
    """Top words and phrases of the evidence; words of the topic that occur in it rank first,
    then recurring phrases, then words by frequency (first seen first)."""
    counts: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    phrases: set[str] = set()

    def add(term: str, weight: float) -> None:
        counts[term] += weight
        first_seen.setdefault(term, len(first_seen))

    for c in candidates:
        for run in _runs(f"{c.transcript} . {c.ocr_text}"):
            for word in run:
                add(word, 1.0)
            for n in (2, 3):
                for i in range(len(run) - n + 1):
                    phrase = _join(run[i : i + n])
                    phrases.add(phrase)
                    add(phrase, 1.0)
        for label in _label_list(c.visual_labels)[:3]:
            if len(label.split()) > 3:  # a frame caption: its words count like spoken ones
                for word in (w for run in _runs(label) for w in run):
                    add(word, 1.0)
            else:
                add(label, 1.5)
    topic_words = set(tokens(topic))

    def rank(term: str) -> tuple[float, int]:
        score = counts[term]
        if term in phrases:
            score = score + 0.5 if counts[term] >= 2 else 0.0  # a phrase must recur
        if term in topic_words:
            score += 10.0
        return (-score, first_seen[term])

    tags: list[str] = []
    for term in sorted((t for t in counts if rank(t)[0] < 0), key=rank):
        if not any(term in t or t in term for t in tags):
            tags.append(term)
        if len(tags) >= limit:
            break
    return tags


def snippet(text: str, max_words: int = 20) -> str:
    """``text`` shortened to about ``max_words`` words (twice as many CJK characters)."""
    cjk = bool(UNSPACED_RE.search(text)) and dominant_language(text) != "en"
    return shorten(text, max_words * 2 if cjk else max_words)


def title_for(c: Candidate) -> str:
    """A short phrase from the best evidence (first sentence of speech, OCR, or labels)."""
    if c.transcript.strip():
        sentences = split_sentences(c.transcript) or [c.transcript.strip()]
        return snippet(sentences[0].rstrip(".!?。！？；"), TITLE_WORDS)
    if c.ocr_text.strip():
        return snippet(c.ocr_text.strip().splitlines()[0], TITLE_WORDS)
    labels = _label_list(c.visual_labels)
    if labels:
        return labels[0].capitalize()
    return f"{c.video_title or c.video_id} at {format_time(c.start_s)}"


def best_modality(c: Candidate) -> str:
    if c.modality_scores:
        return max(sorted(c.modality_scores), key=lambda m: c.modality_scores[m])
    for name, text in (("speech", c.transcript), ("ocr", c.ocr_text), ("visual", c.visual_labels)):
        if text.strip():
            return name
    return "search"


def _material_rules(c: Candidate) -> LanguageRules:
    """The language table of a candidate's evidence (English unless it is CJK text)."""
    return rules_for(f"{c.transcript} {c.ocr_text} {c.visual_labels}")


def _quote(rules: LanguageRules, head: str, text: str, words: int) -> str:
    return rules.phrases["quote"].format(head=head, text=snippet(text, words))


def reason_for(c: Candidate) -> str:
    """Which modality matched, with its score and the evidence snippet (in the language of the
    evidence)."""
    rules = _material_rules(c)
    phrases = rules.phrases
    if c.origin != "search":
        why = (
            phrases["title_topic"].format(video=c.video_title or c.video_id)
            if c.origin == "title"
            else phrases["chosen_video"]
        )
        said = c.transcript.strip()
        return _quote(rules, why, said, 25) if said else why
    modality = best_modality(c)
    evidence = {"speech": c.transcript, "ocr": c.ocr_text, "visual": c.visual_labels}.get(
        modality, ""
    ) or (c.transcript or c.ocr_text or c.visual_labels)
    score = c.modality_scores.get(modality, c.score)
    text = phrases["matched"].format(modality=phrases.get(modality, modality), score=score)
    if evidence.strip():
        text = _quote(rules, text, evidence.strip(), 25)
    return text


def description_for(c: Candidate, start_s: float, end_s: float) -> str:
    where = f"{c.video_title or c.video_id} {format_time(start_s)}–{format_time(end_s)}"
    evidence = c.transcript or c.ocr_text or c.visual_labels
    return f"{where}: {snippet(evidence.strip(), 30)}" if evidence.strip() else where


def reel_title(topic: str) -> str:
    """The reel's title from its topic, in the topic's language ("Goals highlights", "进球集锦")."""
    template = rules_for(topic).phrases["reel_title"]
    return template.format(topic=topic, Topic=f"{topic[:1].upper()}{topic[1:]}")


def reel_description(topic: str, clips: int, seconds: float, videos: int) -> str:
    template = rules_for(topic).phrases["reel_description"]
    plural = "s" if videos != 1 else ""
    return template.format(n=clips, seconds=seconds, videos=videos, plural=plural, topic=topic)


def format_time(seconds: float) -> str:
    seconds = max(0.0, seconds)
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
