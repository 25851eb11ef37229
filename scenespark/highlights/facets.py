"""Facets of a multi-part prompt: "the price and the battery" → price, battery.

A reel must hold every facet the material has. Search runs once per facet (see
:func:`topic_facets`); each candidate remembers the facets whose search found it
(``Candidate.facets``). Before the budget solver runs, :func:`facet_first` puts the best
candidate of every facet at the front, so a strong facet cannot fill the budget alone, and
:func:`coverage` reports per facet whether material was found and whether the reel holds it.
"""

from __future__ import annotations

import re

from scenespark.highlights.candidates import Candidate
from scenespark.language.scripts import UNSPACED_RE
from scenespark.language.sentences import split_facets
from scenespark.types import FacetCoverage

_FACET_SPLIT = re.compile(r"\s*(?:,|;|/|&|\band\b|\bor\b|\bplus\b|\bas well as\b)\s*", re.I)
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.I)


def topic_facets(topic: str) -> list[str]:
    """The topic, then each part of a compound one: "space and rockets" → [.., "space", "rockets"]."""
    if UNSPACED_RE.search(topic):  # "价格和电池": conjunctions from the language's table
        parts = [p for p in split_facets(topic) if len(p) >= 2]
    else:
        parts = [_LEADING_ARTICLE.sub("", p.strip()) for p in _FACET_SPLIT.split(topic)]
        parts = [p for p in parts if len(p) >= 3]
    facets = [topic]
    for part in parts:
        if part.lower() != topic.lower() and part not in facets:
            facets.append(part)
    return facets


def prompt_facets(topic: str) -> list[str]:
    """The parts of a compound topic that a reel must each cover ([] for a single topic)."""
    return topic_facets(topic)[1:]


def same_facet(a: str, b: str) -> bool:
    """Facet names compared without case and a leading article ("the price" = "price")."""
    return _norm(a) == _norm(b)


def facet_first(ranked: list[Candidate], facets: list[str]) -> tuple[list[Candidate], set[str]]:
    """``ranked`` with the best candidate of each facet moved to the front (in facet order).

    The best candidate of a facet is the one its own search scored highest (a battery clip that
    the search for "price" also returned, lower, does not lead "price"); ties keep the ranking.
    Returns (order, ids of those facet leaders). A candidate leading several facets counts once.
    """
    leaders: list[Candidate] = []
    for facet in facets:
        holders = [c for c in ranked if _holds(c, facet)]
        if not holders:
            continue
        best = max(holders, key=lambda c: _facet_score(c, facet))  # max keeps the first of ties
        if best.candidate_id not in {c.candidate_id for c in leaders}:
            leaders.append(best)
    ids = {c.candidate_id for c in leaders}
    return leaders + [c for c in ranked if c.candidate_id not in ids], ids


def coverage(facets: list[str], pool: list[Candidate], chosen_ids: set[str]) -> list[FacetCoverage]:
    """Per facet: found (some relevant candidate holds it), covered (a chosen one does)."""
    out = []
    for facet in facets:
        holders = [c for c in pool if _holds(c, facet)]
        out.append(
            FacetCoverage(
                facet=facet,
                found=bool(holders),
                covered=any(c.candidate_id in chosen_ids for c in holders),
            )
        )
    return out


def coverage_warnings(report: list[FacetCoverage]) -> list[str]:
    """A line for every facet the reel does not hold, saying why."""
    lines = []
    for item in report:
        if not item.found:
            lines.append(f"nothing relevant found for '{item.facet}'")
        elif not item.covered:
            lines.append(f"material for '{item.facet}' was found but did not fit the reel")
    return lines


def _facet_score(c: Candidate, facet: str) -> float:
    scores = [v for f, v in c.facet_scores.items() if same_facet(f, facet)]
    return max(scores) if scores else c.score


def _holds(c: Candidate, facet: str) -> bool:
    return any(same_facet(f, facet) for f in c.facets)


def _norm(text: str) -> str:
    return _LEADING_ARTICLE.sub("", " ".join(text.lower().split()))
