"""One table per language: the words and patterns the language layer reads prompts, queries,
sentences and labels with. Adding a language is one module here and one line in ``RULES``.

English is the default: its prompt and query phrasing is implemented by
:mod:`scenespark.highlights.prompt_parse` and :mod:`scenespark.search.query_intent` (unchanged);
other languages add their patterns through the fields of :class:`LanguageRules`.
"""

from __future__ import annotations

import re

from scenespark.language.rules.base import DurationPattern, LanguageRules
from scenespark.language.rules.en import EN
from scenespark.language.rules.zh import ZH
from scenespark.language.scripts import dominant_language

RULES: dict[str, LanguageRules] = {rules.code: rules for rules in (EN, ZH)}

__all__ = [
    "RULES",
    "DurationPattern",
    "LanguageRules",
    "language_code",
    "rules_for",
    "rules_for_code",
]

_TAG_RE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,2}$")


def language_code(tag: str) -> str:
    """An ISO 639-1 code from a language tag: "zh-CN", "chs", "zho" → "zh"; "en-us" → "en";
    "fr" → "fr"; "" when ``tag`` is not a language tag ("forced", "sdh")."""
    tag = (tag or "").strip()
    if not tag or not _TAG_RE.match(tag):
        return ""
    lowered = tag.lower().replace("_", "-")
    primary = lowered.split("-")[0]
    for rules in RULES.values():
        if lowered in rules.aliases or primary == rules.code or primary in rules.aliases:
            return rules.code
    return primary if len(primary) == 2 else ""


def rules_for_code(code: str) -> LanguageRules:
    """The table for an ISO code ("zh", "zh-CN", "chs" → Chinese); English when unknown."""
    key = (code or "").strip().lower().replace("_", "-")
    for rules in RULES.values():
        if key == rules.code or key in rules.aliases or key.split("-")[0] == rules.code:
            return rules
    return EN


def rules_for(text: str) -> LanguageRules:
    """The table for the language ``text`` is written in (by script; English by default)."""
    return rules_for_code(dominant_language(text))
