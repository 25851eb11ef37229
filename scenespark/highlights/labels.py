"""Deterministic clip labels from evidence: tags, a short title, a description and a reason."""

from __future__ import annotations

import re
from collections import Counter

from scenespark.highlights.candidates import Candidate

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because
    been before being below between both but by can can't cannot could did do does doing don't
    down during each even ever every few for from further get gets got had has have having he
    her here hers herself him himself his how i i'm if in into is isn't it it's its itself just
    let's like me more most much my myself no nor not now of off on once one only or other our
    ours ourselves out over own really right same she should so some such than that that's the
    their theirs them themselves then there there's these they they're this those through to
    too under until up us very was we we're were what when where which while who whom why will
    with would yeah yes you you're your yours yourself okay oh um uh well going gonna know think
    thing things want see look say said go come make made way back lot little""".split()  # noqa: SIM905
)
_WORD_RE = re.compile(r"[^\W_][\w'-]*[^\W_]|[^\W_]", re.UNICODE)
MAX_TAGS = 5
TITLE_WORDS = 8


def tokens(text: str) -> list[str]:
    """Lower-case content words (no stopwords, no pure numbers shorter than 3 digits)."""
    out = []
    for raw in _WORD_RE.findall(text.lower()):
        word = raw.strip("'-")
        if len(word) < 3 or word in STOPWORDS or (word.isdigit() and len(word) < 3):
            continue
        out.append(word)
    return out


def _label_list(labels: str) -> list[str]:
    return [x.strip().lower() for x in re.split(r"[,;|]", labels) if x.strip()]


def tags_for(candidates: list[Candidate], topic: str = "", limit: int = MAX_TAGS) -> list[str]:
    """Top keywords of the evidence; words of the topic that occur in it rank first."""
    counts: Counter[str] = Counter()
    for c in candidates:
        for word in tokens(f"{c.transcript} {c.ocr_text}"):
            counts[word] += 1.0
        for label in _label_list(c.visual_labels)[:3]:
            if len(label.split()) > 3:  # a frame caption: its words count like spoken ones
                for word in tokens(label):
                    counts[word] += 1.0
            else:
                counts[label] += 1.5
    topic_words = set(tokens(topic))
    ranked = sorted(counts, key=lambda w: (-(counts[w] + (10 if w in topic_words else 0)), w))
    tags: list[str] = []
    for word in ranked:
        if not any(word in t or t in word for t in tags):
            tags.append(word)
        if len(tags) >= limit:
            break
    return tags


def snippet(text: str, max_words: int = 20) -> str:
    words = text.split()
    short = " ".join(words[:max_words])
    return short + ("…" if len(words) > max_words else "")


def title_for(c: Candidate) -> str:
    """A short phrase from the best evidence (first sentence of speech, OCR, or labels)."""
    if c.transcript.strip():
        first = re.split(r"(?<=[.!?])\s+", c.transcript.strip())[0]
        return snippet(first.rstrip(".!?"), TITLE_WORDS)
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


def reason_for(c: Candidate) -> str:
    """Which modality matched, with its score and the evidence snippet."""
    if c.origin != "search":
        why = (
            f"the video's title names the topic ({c.video_title or c.video_id})"
            if c.origin == "title"
            else "from a chosen video (nothing in it matched the prompt)"
        )
        said = c.transcript.strip()
        return f'{why}: "{snippet(said, 25)}"' if said else why
    modality = best_modality(c)
    evidence = {"speech": c.transcript, "ocr": c.ocr_text, "visual": c.visual_labels}.get(
        modality, ""
    ) or (c.transcript or c.ocr_text or c.visual_labels)
    score = c.modality_scores.get(modality, c.score)
    text = f"matched {modality} ({score:.2f})"
    if evidence.strip():
        text += f': "{snippet(evidence.strip(), 25)}"'
    return text


def description_for(c: Candidate, start_s: float, end_s: float) -> str:
    where = f"{c.video_title or c.video_id} {format_time(start_s)}–{format_time(end_s)}"
    evidence = c.transcript or c.ocr_text or c.visual_labels
    return f"{where}: {snippet(evidence.strip(), 30)}" if evidence.strip() else where


def format_time(seconds: float) -> str:
    seconds = max(0.0, seconds)
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
