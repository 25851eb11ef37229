"""The shape of a language table (see :mod:`scenespark.language.rules`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class DurationPattern:
    """A duration phrase: ``seconds(match)`` is how long it asks for."""

    regex: re.Pattern[str]
    seconds: Callable[[re.Match[str]], float]


@dataclass(frozen=True)
class LanguageRules:
    code: str  # ISO 639-1
    name: str  # as told to an LLM ("Chinese")
    aliases: frozenset[str] = frozenset()  # other tags meaning this language ("chs", "zho")
    spaced: bool = True  # words separated by spaces
    # keyword tokens dropped from the index and from queries (function words only)
    stopwords: frozenset[str] = frozenset()
    # words that never make a tag on their own (broader: fillers, vague adverbs and verbs)
    tag_stopwords: frozenset[str] = frozenset()
    # words a sentence does not end on ("the", "of", "and"): a pause after them is not an end
    continuation_words: frozenset[str] = frozenset()
    # abbreviations whose full stop does not end a sentence ("mr.", "dr.")
    abbreviations: frozenset[str] = frozenset()
    sentence_ends: str = ".!?…"
    clause_marks: str = ",;:"
    # --- highlight prompts -------------------------------------------------------------
    durations: tuple[DurationPattern, ...] = ()
    approx_words: tuple[str, ...] = ()  # "about", "roughly": dropped around a duration
    # "everything about X" forms; each has a named group "topic"
    everything: tuple[re.Pattern[str], ...] = ()
    format_prefixes: tuple[str, ...] = ()  # request phrasing stripped from the start
    format_suffixes: tuple[str, ...] = ()  # format words stripped from the end
    # words a prompt can be made of without naming a topic ("the most important moments",
    # "精彩片段"): in chosen videos, such a prompt takes the videos themselves as material
    generic_words: frozenset[str] = frozenset()
    # words joining the facets of a compound topic ("价格和电池"), for unspaced languages
    conjunctions: frozenset[str] = frozenset()
    # --- search queries ----------------------------------------------------------------
    query_leading: tuple[re.Pattern[str], ...] = ()  # phrasing before the topic
    speech_words: re.Pattern[str] | None = None  # "say", "mention"
    ocr_words: re.Pattern[str] | None = None  # "caption", "slide"
    visual_words: re.Pattern[str] | None = None  # "shots of"
    # --- labels: phrasing of generated reasons, descriptions and reel titles ----------------
    # keys: matched, speech, ocr, visual, search, title_topic, chosen_video, quote, reel_title,
    # reel_description (str.format templates; see rules/en.py)
    phrases: dict[str, str] = field(default_factory=dict)
