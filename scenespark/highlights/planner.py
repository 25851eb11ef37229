"""Highlight planner: candidates → ranked selection (LLM or deterministic) → solver → clips.

``plan_highlight`` is the entry point. Without an LLM (the embedded default) or when the LLM
fails, a deterministic planner ranks candidates by relevance × diversity (MMR-like), drops weak
candidates and near-duplicates, and labels clips from their evidence. The budget solver then cuts
the clips; it enforces durations, clip counts and locks whatever the ranking step returned.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel, Field

from scenespark.config import Settings
from scenespark.errors import LLMError, ValidationFailedError
from scenespark.highlights.candidates import BoundaryIndex, Candidate
from scenespark.highlights.labels import (
    description_for,
    reason_for,
    tags_for,
    title_for,
    tokens,
)
from scenespark.highlights.llm import MAX_LLM_CANDIDATES, LLMClipChoice, LLMPlan, LLMPlanner
from scenespark.highlights.llm import sanitize_text as _clean
from scenespark.highlights.prompt_parse import parse_prompt
from scenespark.highlights.solver import SolverParams, solve
from scenespark.types import Clip, HighlightRequest

log = logging.getLogger(__name__)
DETERMINISTIC = "deterministic"


class PlannerParams(BaseModel):
    min_relative_score: float = Field(0.55, ge=0.0, le=1.0)  # of the best candidate's score
    min_score: float = Field(0.0, ge=0.0, le=1.0)
    mmr_lambda: float = Field(0.75, ge=0.0, le=1.0)  # relevance weight vs. redundancy
    video_penalty: float = Field(0.05, ge=0.0)  # per clip already chosen from the same video
    duplicate_similarity: float = Field(0.8, gt=0.0, le=1.0)
    shared_shot_weight: float = Field(0.6, ge=0.0, le=1.0)
    max_llm_candidates: int = Field(MAX_LLM_CANDIDATES, ge=1)


class PlanResult(BaseModel):
    title: str = ""
    description: str = ""
    planner: str = DETERMINISTIC  # "llm:<model>" or "deterministic"
    topic: str = ""
    target_duration_s: float = 0.0
    duration_s: float = 0.0
    clips: list[Clip] = Field(default_factory=list)
    clip_sources: dict[str, list[str]] = Field(default_factory=dict)  # clip_id → candidate ids
    warnings: list[str] = Field(default_factory=list)


# ---- ranking ---------------------------------------------------------------------------------
def _evidence_tokens(c: Candidate) -> frozenset[str]:
    return frozenset(tokens(f"{c.transcript} {c.ocr_text}"))


def similarity(
    a: Candidate,
    b: Candidate,
    shared_shot_weight: float = 0.6,
    tokens_a: frozenset[str] | None = None,
    tokens_b: frozenset[str] | None = None,
) -> float:
    """0..1: time containment in one video, shared shots, or near-identical evidence text."""
    sim = 0.0
    if a.video_id == b.video_id:
        overlap = min(a.end_s, b.end_s) - max(a.start_s, b.start_s)
        if overlap > 0:
            sim = overlap / max(1e-6, min(a.end_s - a.start_s, b.end_s - b.start_s))
        if a.shot_ids and b.shot_ids:
            sa, sb = set(a.shot_ids), set(b.shot_ids)
            sim = max(sim, shared_shot_weight * len(sa & sb) / len(sa | sb))
    ta = _evidence_tokens(a) if tokens_a is None else tokens_a
    tb = _evidence_tokens(b) if tokens_b is None else tokens_b
    if len(ta) >= 4 and len(tb) >= 4:
        sim = max(sim, len(ta & tb) / len(ta | tb))
    return min(sim, 1.0)


def filter_relevant(
    candidates: list[Candidate], params: PlannerParams, keep: set[str] | None = None
) -> tuple[list[Candidate], int]:
    """Drop candidates far below the best score (kept ids survive); returns (kept, n_dropped).

    Shots of a video whose title names the topic are relevant by that title, whatever their
    score: they stay, ranked below the real matches.
    """
    keep = keep or set()
    if not candidates:
        return [], 0
    top = max(c.score for c in candidates)
    floor = max(params.min_score, params.min_relative_score * top)
    kept = [
        c
        for c in candidates
        if c.score >= floor or c.candidate_id in keep or (c.origin == "title" and c.score > 0)
    ]
    return kept, len(candidates) - len(kept)


def rank_candidates(
    candidates: list[Candidate], params: PlannerParams, keep: set[str] | None = None
) -> tuple[list[Candidate], list[str]]:
    """MMR ordering (relevance vs. redundancy, spread across videos); drops near-duplicates.

    Returns (ranked, ids dropped as near-duplicates). Ids in ``keep`` are never dropped.
    """
    keep = keep or set()
    if not candidates:
        return [], []
    top = max(c.score for c in candidates) or 1.0
    remaining = sorted(candidates, key=lambda c: (-c.score, c.video_id, c.start_s))
    toks = {c.candidate_id: _evidence_tokens(c) for c in remaining}
    redundancy = {c.candidate_id: 0.0 for c in remaining}  # max similarity to the chosen ones
    chosen: list[Candidate] = []
    dropped: list[str] = []
    per_video: dict[str, int] = {}
    lam = params.mmr_lambda

    def value(c: Candidate) -> float:
        return (
            lam * c.score / top
            - (1 - lam) * redundancy[c.candidate_id]
            - params.video_penalty * per_video.get(c.video_id, 0)
        )

    while remaining:
        best = max(remaining, key=value)  # ties: first in score order
        remaining.remove(best)
        if (
            redundancy[best.candidate_id] >= params.duplicate_similarity
            and best.candidate_id not in keep
        ):
            dropped.append(best.candidate_id)
            continue
        chosen.append(best)
        per_video[best.video_id] = per_video.get(best.video_id, 0) + 1
        for c in remaining:
            sim = similarity(
                c, best, params.shared_shot_weight, toks[c.candidate_id], toks[best.candidate_id]
            )
            redundancy[c.candidate_id] = max(redundancy[c.candidate_id], sim)
    return chosen, dropped


def available_duration_s(ranked: list[Candidate], request: HighlightRequest) -> float:
    """Material the best ``max_clips`` candidates offer, each clamped to the clip limits."""
    lengths = [
        min(max(c.end_s - c.start_s, request.min_clip_s), request.max_clip_s)
        for c in ranked[: request.max_clips]
    ]
    return sum(lengths)


# ---- entry point -----------------------------------------------------------------------------
def plan_highlight(
    request: HighlightRequest,
    candidates: list[Candidate],
    boundaries: dict[str, BoundaryIndex],
    *,
    settings: Settings | None = None,
    llm: LLMPlanner | None = None,
    params: PlannerParams | None = None,
) -> PlanResult:
    """Plan a highlight reel from stored candidates (re-plannable with new request params).

    ``llm=None`` uses the deterministic planner. ``locked_clip_ids`` / ``excluded_clip_ids`` of
    the request may hold clip ids of an earlier plan (or candidate ids).
    """
    del settings  # reserved: the LLM planner carries its own settings
    params = params or PlannerParams()
    if request.min_clip_s > request.max_clip_s:
        raise ValidationFailedError(
            f"min_clip_s ({request.min_clip_s:g}) is larger than max_clip_s "
            f"({request.max_clip_s:g})"
        )
    parsed = parse_prompt(request.prompt)
    warnings: list[str] = []

    def ids_of(wanted: list[str]) -> tuple[set[str], set[str]]:
        found = {
            c.candidate_id for c in candidates if c.clip_id in wanted or c.candidate_id in wanted
        }
        known = {c.clip_id for c in candidates} | {c.candidate_id for c in candidates}
        return found, {w for w in wanted if w not in known}

    locked, missing_locked = ids_of(request.locked_clip_ids)
    excluded, _ = ids_of(request.excluded_clip_ids)
    if locked & excluded:
        raise ValidationFailedError("a clip cannot be both locked and excluded")
    if missing_locked:
        warnings.append(f"locked clips not found: {', '.join(sorted(missing_locked))}")

    pool = [c for c in candidates if c.candidate_id not in excluded]
    relevant, n_weak = filter_relevant(pool, params, locked)
    ranked, dupes = rank_candidates(relevant, params, locked)
    log.debug("planner: %d candidates, %d weak, %d duplicates", len(pool), n_weak, len(dupes))

    requested = request.target_duration_s or parsed.target_duration_s
    available = available_duration_s(ranked, request)
    if parsed.wants_everything:
        target = min(requested, available) if requested else available
    else:
        target = requested or 60.0
    target = max(target, request.min_clip_s)

    result = PlanResult(topic=parsed.topic, target_duration_s=round(target, 3))
    if not ranked:
        result.warnings = [*warnings, f"no relevant material found for '{parsed.topic}'"]
        return result

    choices: dict[str, LLMClipChoice] = {}
    plan: LLMPlan | None = None
    order = ranked
    if llm is not None:
        try:
            plan = llm.choose(
                request, ranked[: params.max_llm_candidates], target_duration_s=target
            )
            by_id = {c.candidate_id: c for c in ranked}
            order = [by_id[ch.candidate_id] for ch in plan.clips]
            # the solver draws on the rest (best first) only if the picks fall short
            picked = {c.candidate_id for c in order}
            order += [c for c in ranked if c.candidate_id not in picked]
            choices = {ch.candidate_id: ch for ch in plan.clips}
            result.planner = llm.name
        except LLMError as exc:
            warnings.append(f"LLM failed: {exc.one_line()}; used the deterministic planner")
            plan = None

    solved = solve(
        order,
        boundaries,
        SolverParams(
            target_duration_s=target,
            tolerance=request.tolerance,
            min_clip_s=request.min_clip_s,
            max_clip_s=request.max_clip_s,
            max_clips=request.max_clips,
            order=request.order,
            take_all=parsed.wants_everything and not requested,
        ),
        locked_ids=locked,
        topic=parsed.topic,
    )
    by_id = {c.candidate_id: c for c in candidates}
    if plan is not None:
        extra = [sc for sc in solved.clips if sc.candidate_ids[0] not in choices and not sc.locked]
        if extra:
            warnings.append(
                f"the LLM's choice was short of the target; added {len(extra)} clip(s) "
                "from the best remaining candidates"
            )
    for sc in solved.clips:
        members = [by_id[i] for i in sc.candidate_ids]
        primary = members[0]
        choice = choices.get(primary.candidate_id)
        clip = Clip(
            clip_id=primary.clip_id,
            video_id=sc.video_id,
            start_s=sc.start_s,
            end_s=sc.end_s,
            tags=tags_for(members, parsed.topic),
            title=title_for(primary),
            description=description_for(primary, sc.start_s, sc.end_s),
            reason=reason_for(primary),
            score=round(sc.score, 4),
        )
        if choice is not None:
            _apply_llm_labels(clip, choice)
        result.clips.append(clip)
        result.clip_sources[clip.clip_id] = list(sc.candidate_ids)
    result.duration_s = solved.total_s
    result.warnings = warnings + solved.warnings
    videos = {c.video_id for c in result.clips}
    default_description = (
        f"{len(result.clips)} clips ({result.duration_s:.0f} s) from {len(videos)} "
        f"video{'s' if len(videos) != 1 else ''} about {parsed.topic}"
    )
    result.title = (
        plan and _clean(plan.title, 120)
    ) or f"{parsed.topic[:1].upper()}{parsed.topic[1:]} highlights"
    result.description = (plan and _clean(plan.description, 500)) or default_description
    return result


def _apply_llm_labels(clip: Clip, choice: LLMClipChoice) -> None:
    """LLM labels are untrusted too: cleaned and truncated; empty ones keep the defaults."""
    clip.title = _clean(choice.title, 120) or clip.title
    tags = [_clean(t, 40) for t in choice.tags[:8]]
    clip.tags = [t for t in tags if t] or clip.tags
    clip.description = _clean(choice.description, 500) or clip.description
    clip.reason = _clean(choice.reason, 300) or clip.reason
