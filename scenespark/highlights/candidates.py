"""Highlight candidates (search hits with short ids) and per-video cut-point indexes.

A :class:`Candidate` is what the planner, the LLM step and the solver reason about: one time span
of one video with its fused relevance score and its evidence. A :class:`BoundaryIndex` holds the
places where a cut looks natural in a video: sentence starts and ends (from word timings and
speech segments), gaps between words, and shot cuts.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left, bisect_right

from pydantic import BaseModel, Field, PrivateAttr, computed_field, model_validator

from scenespark.types import Hit, Modality, Segment, Shot

SENTENCE_PAUSE_S = 0.35  # a pause this long after a word ends a sentence
_SENTENCE_PUNCT = (".", "!", "?", "…", "。", "！", "？")
_TRAILING_QUOTES = "\"'”’»)]} "
_EPS_S = 1e-3


class Candidate(BaseModel):
    """One span a highlight may use; ``candidate_id`` is unique within a request ("c1", ...)."""

    candidate_id: str
    video_id: str
    video_title: str = ""
    start_s: float = Field(ge=0.0)
    end_s: float = Field(ge=0.0)
    score: float = Field(ge=0.0, le=1.0)
    modality_scores: dict[str, float] = Field(default_factory=dict)
    transcript: str = ""
    ocr_text: str = ""
    visual_labels: str = ""
    focus_s: float | None = None  # where the evidence is strongest (e.g. the matched frame)
    keyframe: str = ""  # thumbnail of the matched frame, relative to the data dir ("" = none)
    shot_ids: list[int] = Field(default_factory=list)
    # "search": a search hit; "title": a shot of a video whose title names the whole topic;
    # "video": a shot of a video the user chose when nothing in it matched
    origin: str = "search"
    facets: list[str] = Field(default_factory=list)  # the prompt's facets whose search found it
    facet_scores: dict[str, float] = Field(default_factory=dict)  # facet → its search's score

    @model_validator(mode="after")
    def _check_span(self) -> Candidate:
        if self.end_s <= self.start_s:
            raise ValueError(f"candidate {self.candidate_id}: end_s must be after start_s")
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def duration_s(self) -> float:
        return round(self.end_s - self.start_s, 3)

    @property
    def clip_id(self) -> str:
        return clip_id_for(self.video_id, self.start_s, self.end_s)


def clip_id_for(video_id: str, start_s: float, end_s: float) -> str:
    """Stable short id of a clip: hash of the video id and the source span rounded to 0.1 s."""
    key = f"{video_id}:{round(start_s, 1):.1f}:{round(end_s, 1):.1f}"
    return "k" + hashlib.sha1(key.encode()).hexdigest()[:10]


def candidates_from_hits(hits: list[Hit]) -> list[Candidate]:
    """Turn search hits into candidates ordered by score, with ids c1, c2, ...

    Zero-length hits and exact duplicates (same video and span) are dropped.
    """
    ordered = sorted(hits, key=lambda h: (-h.score, h.video_id, h.start_s, h.end_s))
    seen: set[tuple[str, float, float]] = set()
    out: list[Candidate] = []
    for hit in ordered:
        key = (hit.video_id, round(hit.start_s, 2), round(hit.end_s, 2))
        if hit.end_s - hit.start_s <= _EPS_S or key in seen:
            continue
        seen.add(key)
        focus = hit.evidence.frame_time_s
        if focus is None:
            focus = hit.evidence.focus_s
        if focus is not None and not hit.start_s <= focus <= hit.end_s:
            focus = None
        out.append(
            Candidate(
                candidate_id=f"c{len(out) + 1}",
                video_id=hit.video_id,
                video_title=hit.video_title,
                start_s=max(0.0, hit.start_s),
                end_s=hit.end_s,
                score=hit.score,
                modality_scores=dict(hit.modality_scores),
                transcript=hit.evidence.transcript,
                ocr_text=hit.evidence.ocr_text,
                visual_labels=hit.evidence.visual_labels,
                focus_s=focus,
                keyframe=hit.thumbnail,
                shot_ids=list(hit.shot_ids),
            )
        )
    return out


class BoundaryIndex(BaseModel):
    """Natural cut points of one video. All lists are sorted; times in seconds."""

    video_id: str
    duration_s: float = Field(ge=0.0)
    words: list[tuple[float, float, str]] = Field(default_factory=list)
    sentence_starts: list[float] = Field(default_factory=list)
    sentence_ends: list[float] = Field(default_factory=list)
    shot_cuts: list[float] = Field(default_factory=list)  # interior cuts, 0 < t < duration
    shots: list[tuple[float, float]] = Field(default_factory=list)
    _starts_cache: list[float] | None = PrivateAttr(default=None)
    _ends_cache: list[float] | None = PrivateAttr(default=None)

    @classmethod
    def build(
        cls,
        video_id: str,
        duration_s: float,
        segments: list[Segment],
        shots: list[Shot],
    ) -> BoundaryIndex:
        """Index speech segments (word timings optional, e.g. sidecar subtitles) and shots."""
        speech = sorted(
            (s for s in segments if s.modality == Modality.SPEECH and s.end_s > s.start_s),
            key=lambda s: (s.start_s, s.end_s),
        )
        end_limit = duration_s if duration_s > 0 else max((s.end_s for s in speech), default=0.0)
        words = _clean_words(
            [(w.start_s, w.end_s, w.text) for seg in speech for w in seg.words], end_limit
        )
        starts: set[float] = set()
        ends: set[float] = set()
        for i, (w_start, w_end, text) in enumerate(words):
            if i == 0 or _ends_sentence(words[i - 1], w_start):
                starts.add(w_start)
            if i == len(words) - 1 or _ends_sentence((w_start, w_end, text), words[i + 1][0]):
                ends.add(w_end)
        for seg in speech:
            starts.add(min(max(seg.start_s, 0.0), end_limit))
            ends.add(min(max(seg.end_s, 0.0), end_limit))
        shot_spans = sorted(
            (max(0.0, s.start_s), min(end_limit, s.end_s)) for s in shots if s.end_s > s.start_s
        )
        cuts = {round(t, 3) for span in shot_spans for t in span if _EPS_S < t < end_limit - _EPS_S}
        index = cls(
            video_id=video_id,
            duration_s=end_limit,
            words=words,
            shots=shot_spans,
            shot_cuts=sorted(cuts),
        )
        index.sentence_starts = sorted({round(t, 3) for t in starts if not index.inside_word(t)})
        index.sentence_ends = sorted({round(t, 3) for t in ends if not index.inside_word(t)})
        return index

    @classmethod
    def empty(cls, video_id: str, duration_s: float) -> BoundaryIndex:
        """An index with no speech and a single shot (when nothing better is known)."""
        return cls(video_id=video_id, duration_s=duration_s)

    # ---- queries ---------------------------------------------------------------------------
    def _word_starts(self) -> list[float]:
        if self._starts_cache is None or len(self._starts_cache) != len(self.words):
            self._starts_cache = [w[0] for w in self.words]
        return self._starts_cache

    def _word_ends(self) -> list[float]:
        if self._ends_cache is None or len(self._ends_cache) != len(self.words):
            self._ends_cache = [w[1] for w in self.words]
        return self._ends_cache

    def inside_word(self, t: float, margin_s: float = 0.01) -> bool:
        """True when ``t`` falls strictly inside a word (more than ``margin_s`` from its edges)."""
        i = bisect_right(self._word_starts(), t) - 1
        if i < 0:
            return False
        w_start, w_end, _ = self.words[i]
        return w_start + margin_s < t < w_end - margin_s

    def word_at(self, t: float) -> tuple[float, float, str] | None:
        i = bisect_right(self._word_starts(), t) - 1
        if i >= 0 and self.words[i][0] <= t <= self.words[i][1]:
            return self.words[i]
        return None

    def prev_word_end(self, t: float) -> float | None:
        """End of the last word that ends at or before ``t``."""
        ends = self._word_ends()  # sorted: words never overlap after cleaning
        i = bisect_right(ends, t + _EPS_S) - 1
        return ends[i] if i >= 0 else None

    def next_word_start(self, t: float) -> float | None:
        """Start of the first word that starts at or after ``t``."""
        starts = self._word_starts()
        i = bisect_left(starts, t - _EPS_S)
        return starts[i] if i < len(starts) else None

    def word_gaps(self) -> list[tuple[float, float]]:
        """Silences between consecutive words (start, end)."""
        return [
            (a[1], b[0]) for a, b in zip(self.words, self.words[1:], strict=False) if b[0] > a[1]
        ]

    def shot_span(self, t: float) -> tuple[float, float]:
        """The shot containing ``t`` (the whole video when no shots are known)."""
        for start, end in self.shots:
            if start - _EPS_S <= t < end:
                return start, end
        if self.shots and t >= self.shots[-1][1] - _EPS_S:
            return self.shots[-1]
        return 0.0, self.duration_s

    def shots_span(self, start_s: float, end_s: float) -> tuple[float, float]:
        """Union of the shots that the span [start_s, end_s] touches."""
        first = self.shot_span(start_s)
        last = self.shot_span(max(start_s, end_s - _EPS_S))
        return min(first[0], start_s), max(last[1], end_s)

    def cut_before(self, t: float) -> float:
        """The last shot cut at or before ``t`` (0 when none)."""
        i = bisect_right(self.shot_cuts, t + _EPS_S) - 1
        return self.shot_cuts[i] if i >= 0 else 0.0

    def cut_after(self, t: float) -> float:
        """The first shot cut at or after ``t`` (the duration when none)."""
        i = bisect_left(self.shot_cuts, t - _EPS_S)
        return self.shot_cuts[i] if i < len(self.shot_cuts) else self.duration_s

    def distance_to_boundary(self, t: float) -> float:
        """Distance from ``t`` to the nearest sentence boundary or shot cut (inf when none)."""
        best = float("inf")
        for points in (self.sentence_starts, self.sentence_ends, self.shot_cuts):
            i = bisect_left(points, t)
            for j in (i - 1, i):
                if 0 <= j < len(points):
                    best = min(best, abs(points[j] - t))
        return best


def _clean_words(
    raw: list[tuple[float, float, str]], end_limit: float
) -> list[tuple[float, float, str]]:
    """Sort words, clamp them to the video, and remove overlaps between neighbours."""
    out: list[tuple[float, float, str]] = []
    for start, end, text in sorted(raw, key=lambda w: (w[0], w[1])):
        start = max(0.0, start)
        end = min(end, end_limit) if end_limit > 0 else end
        if out and start < out[-1][1]:
            start = out[-1][1]
        if end < start:
            end = start
        out.append((round(start, 3), round(end, 3), text.strip()))
    return out


def _ends_sentence(word: tuple[float, float, str], next_start_s: float) -> bool:
    text = word[2].rstrip(_TRAILING_QUOTES)
    return text.endswith(_SENTENCE_PUNCT) or next_start_s - word[1] >= SENTENCE_PAUSE_S
