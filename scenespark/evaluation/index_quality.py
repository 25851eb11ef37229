"""Index quality against a ``scenespark-eval/1`` dataset's ground truth.

- speech: word error rate of the indexed transcript against the narration (case, punctuation
  and number forms normalised);
- OCR: how many on-screen texts were read, with a span overlapping the truth;
- shots: share of the true cuts found within a tolerance, and the number of extra cuts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

from scenespark.types import Segment, Shot

_NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    "thirteen": "13", "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17",
    "eighteen": "18", "nineteen": "19", "twenty": "20", "fourteenth": "14", "first": "1",
}  # fmt: skip


def normalise_words(text: str) -> list[str]:
    text = text.lower().replace("-", " ")
    text = re.sub(r"(\d)\s*\.\s*(\d)", r"\1 point \2", text)  # "4.2" / "4 .2" → "4 point 2"
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    words = []
    for word in text.split():
        word = word.strip("'")
        if word.endswith("th") and word[:-2].isdigit():
            word = word[:-2]
        words.append(_NUMBER_WORDS.get(word, word))
    return [w for w in words if w]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, computed by jiwer on the
    normalised words (an empty reference: 0 for an empty hypothesis, else 1)."""
    import jiwer

    ref, hyp = normalise_words(reference), normalise_words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    if not hyp:
        return 1.0  # every reference word deleted
    return float(jiwer.wer(" ".join(ref), " ".join(hyp)))


def transcript_wer(narration: Sequence[dict], speech: Sequence[Segment]) -> float:
    reference = " ".join(n["text"] for n in sorted(narration, key=lambda n: n["start_s"]))
    hypothesis = " ".join(s.text for s in sorted(speech, key=lambda s: s.start_s))
    return word_error_rate(reference, hypothesis)


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def ocr_matches(
    overlays: Sequence[dict], ocr: Sequence[Segment], *, min_ratio: float = 0.8
) -> list[dict]:
    """For each true overlay: the best-matching OCR segment whose span overlaps it."""
    rows = []
    for overlay in overlays:
        truth = _squash(overlay["text"])
        best_ratio, best_seg = 0.0, None
        for seg in ocr:
            if min(seg.end_s, overlay["end_s"]) <= max(seg.start_s, overlay["start_s"]):
                continue
            ratio = SequenceMatcher(None, truth, _squash(seg.text)).ratio()
            if ratio > best_ratio:
                best_ratio, best_seg = ratio, seg
        rows.append(
            {
                "text": overlay["text"],
                "found": best_ratio >= min_ratio,
                "ratio": round(best_ratio, 3),
                "read": best_seg.text if best_seg else "",
                "span": [best_seg.start_s, best_seg.end_s] if best_seg else None,
                "truth_span": [overlay["start_s"], overlay["end_s"]],
            }
        )
    return rows


def true_cuts(scenes: Sequence[dict]) -> list[float]:
    cuts = {round(shot["start_s"], 3) for scene in scenes for shot in scene["shots"]}
    return sorted(c for c in cuts if c > 0)


def cut_recall(truth: Sequence[float], shots: Sequence[Shot], tolerance_s: float = 0.5) -> dict:
    found = [s.start_s for s in shots if s.start_s > 0]
    hits = sum(1 for t in truth if any(abs(t - f) <= tolerance_s for f in found))
    extra = sum(1 for f in found if not any(abs(t - f) <= tolerance_s for t in truth))
    return {
        "truth": len(truth),
        "found_within": hits,
        "recall": round(hits / len(truth), 3) if truth else 1.0,
        "extra_cuts": extra,
    }
