"""Highlight planner: candidates → ranked selection (LLM or deterministic) → solver → clips.

``plan_highlight`` is the entry point. Without an LLM (the embedded default) or when the LLM
fails, a deterministic planner ranks candidates by relevance × diversity (MMR-like), drops weak
candidates and near-duplicates, and labels clips from their evidence. The budget solver then cuts
the clips; it enforces durations, clip counts and locks whatever the ranking step returned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from scenespark.errors import LLMError, ValidationFailedError
from scenespark.highlights.candidates import BoundaryIndex, Candidate
from scenespark.highlights.facets import (
    coverage,
    coverage_warnings,
    facet_first,
    prompt_facets,
)
from scenespark.highlights.labels import (
    description_for,
    reason_for,
    reel_description,
    reel_title,
    tags_for,
    title_for,
    tokens,
)
from scenespark.highlights.llm import MAX_LLM_CANDIDATES, LLMClipChoice, LLMPlan, LLMPlanner
from scenespark.highlights.llm import sanitize_text as _clean
from scenespark.highlights.prompt_parse import ParsedPrompt, parse_prompt
from scenespark.highlights.solver import SolvedClip, SolverParams, solve
from scenespark.language.tokenize import tokenize as keyword_terms
from scenespark.types import Clip, FacetCoverage, HighlightRequest

log = logging.getLogger(__name__)
DETERMINISTIC = "deterministic"


class PlannerParams(BaseModel):
    min_relative_score: float = Field(0.55, ge=0.0, le=1.0)  # of the best candidate's score
    # search's relevance cut-off (SCENESPARK_SEARCH_MIN_SCORE): nothing below it enters a reel,
    # unless the prompt asks for everything in named videos
    min_score: float = Field(0.0, ge=0.0, le=1.0)
    # below ``min_score`` a candidate still counts when its own words (transcript, on-screen
    # text) hold a content word of the prompt's topic: direct evidence, not riding along
    grounded_below_floor: bool = False
    # a facet of a multi-part prompt counts (gets its own clip and its own relative cut) only
    # when search would answer it: its best candidate reaches search's cut-off
    facet_min_score: float = Field(0.35, ge=0.0, le=1.0)
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
    facets: list[FacetCoverage] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


# ---- ranking ---------------------------------------------------------------------------------
def _evidence_tokens(c: Candidate) -> frozenset[str]:
    return frozenset(tokens(f"{c.transcript} {c.ocr_text}"))


def _said_or_shown(c: Candidate) -> frozenset[str]:
    """Keyword terms (stemmed, no stopwords) of what the clip says or shows as text."""
    return frozenset(keyword_terms(f"{c.transcript} {c.ocr_text}"))


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
    candidates: list[Candidate],
    params: PlannerParams,
    keep: set[str] | None = None,
    *,
    min_score: float | None = None,
    topic: str = "",
) -> tuple[list[Candidate], int]:
    """Drop candidates below the cut-off or far below the best score (kept ids survive);
    returns (kept, n_dropped).

    ``min_score`` overrides ``params.min_score``. With ``params.grounded_below_floor`` a
    candidate under that floor stays when its own transcript or on-screen text holds a content
    word of ``topic`` (the dense score of a true match can be low; a word of the prompt said or
    shown in the clip is direct evidence). The relative cut compares a candidate with the
    best one of its own facet ("the price and the battery": a weaker price clip is not measured
    against the best battery clip).
    Shots of a video whose title names the topic (and of a video chosen for "everything") are
    relevant by that title or choice, whatever their score: they stay, ranked below the real
    matches.
    """
    keep = keep or set()
    if not candidates:
        return [], 0
    absolute = params.min_score if min_score is None else min_score
    top = max(c.score for c in candidates)
    facet_top: dict[str, float] = {}
    for c in candidates:
        for f in c.facets:
            facet_top[f] = max(facet_top.get(f, 0.0), c.score)
    credible = {f: v for f, v in facet_top.items() if v >= params.facet_min_score}

    topic_words = frozenset(keyword_terms(topic)) if params.grounded_below_floor else frozenset()

    def relevant(c: Candidate) -> bool:
        reference = min((credible[f] for f in c.facets if f in credible), default=top)
        if c.score < params.min_relative_score * reference:
            return False
        return c.score >= absolute or bool(topic_words & _said_or_shown(c))

    kept = [
        c
        for c in candidates
        if relevant(c) or c.candidate_id in keep or (c.origin in ("title", "video") and c.score > 0)
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
    llm: LLMPlanner | None = None,
    params: PlannerParams | None = None,
    max_target_s: float | None = None,
) -> PlanResult:
    """Plan a highlight reel from stored candidates (re-plannable with new request params).

    ``llm=None`` uses the deterministic planner. ``locked_clip_ids`` / ``excluded_clip_ids`` of
    the request may hold clip ids of an earlier plan (or candidate ids). The steps: check the
    request, resolve locks and exclusions, rank the relevant candidates, settle the target
    duration, let the LLM (if any) choose and label, solve the budget, make the clips.
    ``max_target_s`` (``SCENESPARK_MAX_REEL_S``) caps the duration, asked for or parsed.
    """
    params = params or PlannerParams()
    _check_clip_limits(request)
    parsed = parse_prompt(request.prompt)
    locks = _resolve_locks(request, candidates)
    warnings = list(locks.warnings)

    pool = [c for c in candidates if c.candidate_id not in locks.excluded]
    # "everything in these videos", or a prompt naming no topic ("the most important moments")
    # in chosen videos: the videos are the material, whatever search's cut-off says
    everything_in_named = bool(request.video_ids) and (
        parsed.wants_everything or not parsed.names_topic
    )
    relevant, n_weak = filter_relevant(
        pool,
        params,
        locks.locked,
        min_score=0.0 if everything_in_named else None,
        topic=parsed.topic,
    )
    ranked, dupes = rank_candidates(relevant, params, locks.locked)
    log.debug("planner: %d candidates, %d weak, %d duplicates", len(pool), n_weak, len(dupes))

    requested_s = request.target_duration_s or parsed.target_duration_s
    target_s = _target_duration_s(request, parsed, requested_s, ranked)
    capped = max_target_s is not None and target_s > max_target_s
    if capped and max_target_s is not None:
        warnings.append(
            f"reels are capped at {max_target_s:g} s (SCENESPARK_MAX_REEL_S); asked {target_s:g} s"
        )
        target_s = max(max_target_s, request.min_clip_s)
    asked_s = target_s
    if parsed.wants_everything and requested_s and ranked:
        asked_s = min(requested_s, max_target_s) if max_target_s is not None else requested_s
        if target_s < asked_s - 1e-3:
            warnings.append(
                f"only {target_s:.1f} s of relevant material for '{parsed.topic}' "
                f"(asked {asked_s:g} s): the reel is shorter"
            )
    result = PlanResult(topic=parsed.topic, target_duration_s=round(asked_s, 3))
    facets = prompt_facets(parsed.topic)
    if not ranked:
        result.facets = coverage(facets, [], set())
        result.warnings = [*warnings, f"no relevant material found for '{parsed.topic}'"]
        return result
    ranked = [
        _credible_facets(c, params.facet_min_score, ranked, params.grounded_below_floor)
        for c in ranked
    ]
    ranked, facet_leaders = facet_first(ranked, facets)

    choice = _llm_choice(llm, request, ranked, params, target_s)
    warnings += choice.warnings
    solved = solve(
        choice.order,
        boundaries,
        SolverParams(
            target_duration_s=target_s,
            tolerance=request.tolerance,
            min_clip_s=request.min_clip_s,
            max_clip_s=request.max_clip_s,
            max_clips=request.max_clips,
            order=request.order,
            take_all=parsed.wants_everything and not requested_s and not capped,
        ),
        locked_ids=locks.locked,
        topic=parsed.topic,
        priority_ids=facet_leaders,
    )
    if choice.plan is not None:
        extra = [
            sc for sc in solved.clips if sc.candidate_ids[0] not in choice.labels and not sc.locked
        ]
        if extra:
            warnings.append(
                f"the LLM's choice was short of the target; added {len(extra)} clip(s) "
                "from the best remaining candidates"
            )
    result.planner = choice.planner
    _add_clips(result, solved.clips, candidates, choice.labels, parsed.topic)
    result.duration_s = solved.total_s
    chosen = {i for sc in solved.clips for i in sc.candidate_ids}
    result.facets = coverage(facets, ranked, chosen)
    result.warnings = warnings + solved.warnings + coverage_warnings(result.facets)
    _name_the_reel(result, choice.plan, parsed.topic)
    return result


def _credible_facets(
    c: Candidate, min_score: float, pool: list[Candidate], grounded: bool = False
) -> Candidate:
    """The candidate with only the facets that search would answer (some candidate of the
    facet reaches ``min_score``) or, with ``grounded``, that its own words name: a facet
    without credible material gets no clip of its own."""
    said = _said_or_shown(c) if grounded else frozenset()
    keep = [
        f
        for f in c.facets
        if any(f in o.facets and o.score >= min_score for o in pool)
        or said & frozenset(keyword_terms(f))
    ]
    return c if keep == c.facets else c.model_copy(update={"facets": keep})


# ---- the steps -------------------------------------------------------------------------------
@dataclass
class _Locks:
    locked: set[str]  # candidate ids
    excluded: set[str]
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Choice:
    """The candidates in the order the solver takes them, and the LLM's labels if it chose."""

    order: list[Candidate]
    labels: dict[str, LLMClipChoice] = field(default_factory=dict)  # by candidate id
    plan: LLMPlan | None = None
    planner: str = DETERMINISTIC
    warnings: list[str] = field(default_factory=list)


def _check_clip_limits(request: HighlightRequest) -> None:
    if request.min_clip_s > request.max_clip_s:
        raise ValidationFailedError(
            f"min_clip_s ({request.min_clip_s:g}) is larger than max_clip_s "
            f"({request.max_clip_s:g})"
        )


def _resolve_locks(request: HighlightRequest, candidates: list[Candidate]) -> _Locks:
    """Locked and excluded candidate ids (given as clip or candidate ids); both at once is an
    error, unknown locked ids a warning."""
    known = {c.clip_id for c in candidates} | {c.candidate_id for c in candidates}

    def ids_of(wanted: list[str]) -> set[str]:
        return {
            c.candidate_id for c in candidates if c.clip_id in wanted or c.candidate_id in wanted
        }

    locks = _Locks(
        locked=ids_of(request.locked_clip_ids), excluded=ids_of(request.excluded_clip_ids)
    )
    if locks.locked & locks.excluded:
        raise ValidationFailedError("a clip cannot be both locked and excluded")
    missing = {w for w in request.locked_clip_ids if w not in known}
    if missing:
        locks.warnings.append(f"locked clips not found: {', '.join(sorted(missing))}")
    return locks


def _target_duration_s(
    request: HighlightRequest,
    parsed: ParsedPrompt,
    requested_s: float | None,
    ranked: list[Candidate],
) -> float:
    """The requested length (default 60 s); "everything about X" takes what the material offers,
    at most the requested length."""
    if parsed.wants_everything:
        available = available_duration_s(ranked, request)
        target = min(requested_s, available) if requested_s else available
    else:
        target = requested_s or 60.0
    return max(target, request.min_clip_s)


def _llm_choice(
    llm: LLMPlanner | None,
    request: HighlightRequest,
    ranked: list[Candidate],
    params: PlannerParams,
    target_s: float,
) -> _Choice:
    """The LLM's picks first (the solver draws on the rest, best first, only if they fall
    short); the deterministic ranking when there is no LLM or it fails."""
    if llm is None:
        return _Choice(order=ranked)
    try:
        plan = llm.choose(request, ranked[: params.max_llm_candidates], target_duration_s=target_s)
    except LLMError as exc:
        warning = f"LLM failed: {exc.one_line()}; used the deterministic planner"
        return _Choice(order=ranked, warnings=[warning])
    by_id = {c.candidate_id: c for c in ranked}
    order = [by_id[ch.candidate_id] for ch in plan.clips]
    picked = {c.candidate_id for c in order}
    order += [c for c in ranked if c.candidate_id not in picked]
    labels = {ch.candidate_id: ch for ch in plan.clips}
    return _Choice(order=order, labels=labels, plan=plan, planner=llm.name)


def _add_clips(
    result: PlanResult,
    solved: list[SolvedClip],
    candidates: list[Candidate],
    labels: dict[str, LLMClipChoice],
    topic: str,
) -> None:
    """A clip per solved span, labelled from its evidence (the LLM's labels when it chose it)."""
    by_id = {c.candidate_id: c for c in candidates}
    for sc in solved:
        members = [by_id[i] for i in sc.candidate_ids]
        primary = members[0]
        clip = Clip(
            clip_id=primary.clip_id,
            video_id=sc.video_id,
            start_s=sc.start_s,
            end_s=sc.end_s,
            tags=tags_for(members, topic),
            title=title_for(primary),
            description=description_for(primary, sc.start_s, sc.end_s),
            reason=reason_for(primary),
            score=round(sc.score, 4),
        )
        choice = labels.get(primary.candidate_id)
        if choice is not None:
            _apply_llm_labels(clip, choice)
        result.clips.append(clip)
        result.clip_sources[clip.clip_id] = list(sc.candidate_ids)


def _name_the_reel(result: PlanResult, plan: LLMPlan | None, topic: str) -> None:
    """Title and description: the LLM's (cleaned) if it gave them, else made from the clips."""
    videos = {c.video_id for c in result.clips}
    default_description = reel_description(topic, len(result.clips), result.duration_s, len(videos))
    result.title = (plan and _clean(plan.title, 120)) or reel_title(topic)
    result.description = (plan and _clean(plan.description, 500)) or default_description


def _apply_llm_labels(clip: Clip, choice: LLMClipChoice) -> None:
    """LLM labels are untrusted too: cleaned and truncated; empty ones keep the defaults."""
    clip.title = _clean(choice.title, 120) or clip.title
    tags = [_clean(t, 40) for t in choice.tags[:8]]
    clip.tags = [t for t in tags if t] or clip.tags
    clip.description = _clean(choice.description, 500) or clip.description
    clip.reason = _clean(choice.reason, 300) or clip.reason
