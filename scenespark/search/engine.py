"""Hybrid search across the library (docs/architecture.md §6).

Per modality, dense retrieval through the vector store (text embeddings for speech, OCR and
tagger labels; CLIP text→image when CLIP weights are configured) plus a BM25 keyword signal for
names, numbers and on-screen strings. Scores are calibrated to 0..1 per signal, so one threshold
means the same thing for every query: a query that matches nothing returns nothing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from scenespark.engine import CLIP_SPACE, Engine
from scenespark.errors import InvalidInputError
from scenespark.models.resolve_text import known_monolingual
from scenespark.search.calibration import calibration_for
from scenespark.search.dense import dense_matches
from scenespark.search.fusion import (
    ScoredEvidence,
    Span,
    build_spans,
    calibrate,
    confidence_label,
)
from scenespark.search.moments import narrow_speech_hits
from scenespark.search.query_embedding import query_embeddings
from scenespark.search.query_intent import understand
from scenespark.store.catalog import Catalog
from scenespark.types import (
    ALL_MODALITIES,
    Evidence,
    Hit,
    Modality,
    SearchRequest,
    SearchResponse,
    Segment,
    Video,
    VideoHits,
)

if TYPE_CHECKING:
    from scenespark.store.catalog import Catalog

# Text similarities are calibrated per model and language (scenespark.search.calibration).
# CLIP text-image cosine onto 0..1 (0 = unrelated, 1 = certain), set from how that model family
# behaves in general (unrelated < 0.18, strong match > 0.30).
CLIP_SIM_RANGE = (0.18, 0.32)
KEYWORD_WEIGHT = 0.9  # an exact match of every query term is strong, not certain
HINT_BOOST = 1.1
FAILED_DECODE_P = math.exp(-1.0)  # Whisper's default log_prob_threshold, as a probability
FETCH_FACTOR = 8
MIN_FETCH = 60


class SearchEngine:
    """Stateless over an Engine; safe to call from several threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def search(self, request: SearchRequest) -> SearchResponse:
        started = time.perf_counter()
        query = " ".join(request.query.split())
        if not query:
            raise InvalidInputError("the query is empty")
        for video_id in request.video_ids or []:  # a mistyped id is an error, not "no matches"
            self.engine.catalog.require_video(video_id)
        settings = self.engine.settings
        min_score = settings.search_min_score if request.min_score is None else request.min_score
        modalities = list(request.modalities or ALL_MODALITIES)
        intent = understand(query)
        vector = self._query_vector(intent.topic) if self._text_modalities(modalities) else None
        evidence = self.collect_evidence(intent.topic, request, modalities, vector)
        if intent.hint is not None and len(modalities) > 1:
            evidence = [_boost(e, intent.hint) for e in evidence]
        join_floor = 0.6 * min_score
        # build_spans ignores evidence below join_floor: load (and parse the shots of) only the
        # videos that can make a span.
        videos = self._videos({e.segment.video_id for e in evidence if e.score >= join_floor})
        shots = {vid: v.shots for vid, v in videos.items()}
        spans = build_spans(evidence, shots, join_floor=join_floor)
        spans = [s for s in spans if _in_range(s.start_s, s.end_s, request)]
        # hits are ordered as (score, video, start); only the ones returned are built
        ranked = [(score, span) for span in spans if (score := span.fused_score()) >= min_score]
        ranked.sort(key=lambda p: (-p[0], p[1].video_id, round(p[1].start_s, 3)))
        if request.group_by != "video":
            ranked = ranked[: request.top_k]
        hits = [self._to_hit(span, videos.get(span.video_id)) for _score, span in ranked]
        if settings.search_word_moments:  # a speech hit is the moment, not the whole sentence
            narrow_speech_hits(
                hits[: request.top_k], spans, intent.topic, self.engine.models.text().embed_texts
            )
        response = SearchResponse(query=query)
        if request.group_by == "video":
            response.videos = _group_by_video(hits, request.top_k)
            response.results = [h for group in response.videos for h in group.spans]
        else:
            response.results = hits[: request.top_k]
        self._attach_thumbnails(response.results)
        response.took_ms = round((time.perf_counter() - started) * 1000.0, 2)
        return response

    # --- evidence ------------------------------------------------------------------------
    def _text_modalities(self, modalities: list[Modality]) -> list[Modality]:
        """The modalities searched through the text space (tagger and VLM labels are text)."""
        text = [m for m in modalities if m != Modality.VISUAL]
        if Modality.VISUAL in modalities and self.engine.models.visual_kind() in ("tagger", "vlm"):
            text.append(Modality.VISUAL)
        return text

    def _query_vector(self, query: str) -> np.ndarray:
        embedder = self.engine.models.text()
        shared = query_embeddings(embedder)
        shared.cache_size = self.engine.settings.search_query_cache
        return shared.embed_query(query)

    def collect_evidence(
        self,
        query: str,
        request: SearchRequest,
        modalities: list[Modality],
        vector: np.ndarray | None = None,
    ) -> list[ScoredEvidence]:
        """Scored segments for ``query``; ``vector``: its text embedding, when already made."""
        engine = self.engine
        catalog = engine.catalog
        allowed_runs = catalog.active_run_ids()
        if not allowed_runs:
            return []
        fetch_k = max(MIN_FETCH, request.top_k * FETCH_FACTOR)
        video_ids = request.video_ids or None
        # tagger / VLM labels are text evidence: only CLIP needs its model at search time
        visual_kind = engine.models.visual_kind() if Modality.VISUAL in modalities else None
        visual = engine.models.visual() if visual_kind == "clip" else None
        text_modalities = self._text_modalities(modalities)

        best: dict[str, tuple[float, str]] = {}  # segment id -> (score, signal)

        def offer(segment_id: str, score: float, signal: str) -> None:
            if score > best.get(segment_id, (0.0, ""))[0]:
                best[segment_id] = (score, signal)

        known: dict[str, Segment] = {}  # segments read with their dense matches
        counts = _scope_counts(catalog, video_ids)
        if text_modalities:
            space = engine.text_space()
            embedder = engine.models.text()
            if vector is None:
                vector = self._query_vector(query)
            calibration = calibration_for(
                embedder, engine.settings.models_dir, monolingual=known_monolingual(embedder.info)
            ).for_query(vector, _passages(counts, text_modalities))
            for match in dense_matches(
                engine,
                space,
                vector,
                top_k=fetch_k,
                modalities=text_modalities,
                video_ids=video_ids,
                allowed_run_ids=allowed_runs,
                min_results=2 * request.top_k,
                counts=counts,
            ):
                known[match.segment_id] = match.segment
                if failed_decode(match.segment):
                    continue  # its words may still match as keywords below
                is_label = match.segment.modality == Modality.VISUAL
                score = calibration.score(match.cosine, match.segment.text, is_label=is_label)
                offer(match.segment_id, score, "dense")
            keyword_index = engine.keywords.index()
            for kw in keyword_index.search(
                query, top_k=fetch_k, modalities=text_modalities, video_ids=video_ids
            ):
                offer(kw.segment_id, KEYWORD_WEIGHT * _keyword_strength(kw.score), "keyword")
        if visual is not None and visual.kind == "clip":
            space = engine.clip_space()
            if space is not None:
                clip_vector = visual.embed_text(query)
                for match in dense_matches(
                    engine,
                    CLIP_SPACE,
                    clip_vector,
                    top_k=fetch_k,
                    modalities=[Modality.VISUAL],
                    video_ids=video_ids,
                    allowed_run_ids=allowed_runs,
                    min_results=2 * request.top_k,
                    counts=counts,
                ):
                    known[match.segment_id] = match.segment
                    offer(match.segment_id, calibrate(match.cosine, *CLIP_SIM_RANGE), "clip")
        missing = [seg_id for seg_id in best if seg_id not in known]
        segments = known | (catalog.get_segments(missing) if missing else {})
        return [
            ScoredEvidence(seg_id, segments[seg_id], score, signal)
            for seg_id, (score, signal) in best.items()
            if seg_id in segments and score > 0.0
        ]

    # --- assembly ------------------------------------------------------------------------
    def _videos(self, video_ids: Iterable[str]) -> dict[str, Video]:
        found: dict[str, Video] = {}
        for video_id in video_ids:
            video = self.engine.video(video_id)
            if video is not None:
                found[video_id] = video
        return found

    def _to_hit(self, span: Span, video: Video | None) -> Hit:
        score = span.fused_score()
        evidence = _evidence_text(span)
        return Hit(
            video_id=span.video_id,
            video_title=(video.title if video else ""),
            start_s=round(span.start_s, 3),
            end_s=round(span.end_s, 3),
            score=score,
            confidence=confidence_label(score),  # type: ignore[arg-type]
            modality_scores={k: round(v, 4) for k, v in span.modality_scores().items()},
            evidence=evidence,
            shot_ids=span.shot_ids(),
        )

    def _attach_thumbnails(self, hits: list[Hit]) -> None:
        for hit in hits:
            target = hit.evidence.frame_time_s
            if target is None:
                target = (hit.start_s + hit.end_s) / 2.0
            hit.thumbnail = self.engine.catalog.nearest_thumbnail(hit.video_id, target)


def _scope_counts(catalog: Catalog, video_ids: list[str] | None) -> dict[str, int]:
    """Active segments per modality value in the searched videos (all when None)."""
    counts: dict[str, int] = {}
    for found in (
        [catalog.count_segments(v) for v in video_ids] if video_ids else [catalog.count_segments()]
    ):
        for modality, n in found.items():
            counts[modality] = counts.get(modality, 0) + n
    return counts


def _passages(counts: dict[str, int], modalities: list[Modality]) -> int:
    """Text passages the query is matched against (the calibration's library size)."""
    return sum(counts.get(m.value, 0) for m in modalities)


def _boost(item: ScoredEvidence, hint: Modality) -> ScoredEvidence:
    """The phrasing named a modality ("where do they say ..."): favour it a little."""
    factor = HINT_BOOST if item.segment.modality == hint else 1.0 / HINT_BOOST
    return replace(item, score=min(1.0, item.score * factor))


def failed_decode(segment: Segment) -> bool:
    """Speech Whisper itself would call a failed decode: mean word probability under
    exp(-1), the probability of its default ``log_prob_threshold`` (-1.0). Such text is often
    a hallucination ("That?" on a noise, digits for a language it does not know) and an
    embedding places it near anything, so it is not dense evidence; its words still count as
    keywords. Subtitles and OCR are never failed decodes."""
    return (
        segment.modality == Modality.SPEECH
        and bool(segment.words)
        and segment.confidence < FAILED_DECODE_P
    )


def _keyword_strength(score: float) -> float:
    """Partial keyword matches (one common word of a long query) count for little."""
    return score if score >= 0.5 else score * score


def _evidence_text(span: Span) -> Evidence:
    by_modality: dict[Modality, list[ScoredEvidence]] = {}
    for item in sorted(span.evidence, key=lambda e: -e.score):
        by_modality.setdefault(item.segment.modality, []).append(item)
    speech = by_modality.get(Modality.SPEECH, [])
    ocr = by_modality.get(Modality.OCR, [])
    visual = by_modality.get(Modality.VISUAL, [])
    ocr_lines: list[str] = []
    for item in ocr:
        if item.segment.text not in ocr_lines:
            ocr_lines.append(item.segment.text)
    return Evidence(
        transcript=" ".join(e.segment.text for e in sorted(speech[:3], key=_start)),
        ocr_text=" | ".join(ocr_lines[:4]),
        visual_labels=visual[0].segment.text if visual and visual[0].signal != "clip" else "",
        frame_time_s=(visual[0].segment.frame_time_s if visual else None),
        focus_s=_focus_s(span),
    )


def _focus_s(span: Span) -> float | None:
    """The middle of the span's strongest evidence segment (where a shortened clip stays)."""
    if not span.evidence:
        return None
    best = max(span.evidence, key=lambda e: e.score).segment
    return round((max(best.start_s, span.start_s) + min(best.end_s, span.end_s)) / 2.0, 3)


def _start(item: ScoredEvidence) -> float:
    return item.segment.start_s


def _in_range(start_s: float, end_s: float, request: SearchRequest) -> bool:
    if request.start_s is not None and end_s < request.start_s:
        return False
    return not (request.end_s is not None and start_s > request.end_s)


def _group_by_video(hits: list[Hit], top_k: int) -> list[VideoHits]:
    groups: dict[str, VideoHits] = {}
    for hit in hits:
        group = groups.get(hit.video_id)
        if group is None:
            group = groups[hit.video_id] = VideoHits(
                video_id=hit.video_id, video_title=hit.video_title, score=hit.score, spans=[]
            )
        group.spans.append(hit)
    ordered = sorted(groups.values(), key=lambda g: -g.score)
    return ordered[:top_k]
