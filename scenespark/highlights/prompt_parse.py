"""Read a highlight prompt: the target duration it asks for and the topic to retrieve.

Rule-based and generic: "a 30-second highlight of the animals" → topic "animals", 30 s;
"everything about the quarterly report" → topic "quarterly report", all relevant material.
Other languages come from their table in :mod:`scenespark.language.rules` (durations,
"everything" forms, format words): "关于猫的所有片段，大约15秒" → topic "猫", 15 s, everything.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from scenespark.errors import ValidationFailedError
from scenespark.highlights.labels import tokens
from scenespark.language.chinese_script import to_simplified, to_traditional
from scenespark.language.rules import RULES, LanguageRules, rules_for
from scenespark.types import HighlightRequest

DEFAULT_TARGET_S = 60.0

_UNITS_S: dict[str, float] = {
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
}  # fmt: skip

_NUMBER_WORDS: dict[str, float] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip

_UNIT = r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|s|m|h)"
_NUM = r"\d+(?:[.,]\d+)?"
_WORD_NUM = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[\s-](?:one|two|three|four"
    r"|five|six|seven|eight|nine))?|one|two|three|four|five|six|seven|eight|nine|ten|eleven"
    r"|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|an?)"
)
# "1:30", "1 min 30 s", "2 minutes and 10 seconds", "30-second", "90s", "ninety seconds",
# "half a minute", "a minute and a half", "1.5 minutes"
_CLOCK_RE = re.compile(r"(?<![\d:])(\d{1,2}):([0-5]\d)(?![\d:])")
_COMPOUND_RE = re.compile(
    rf"(?<![\w.])({_NUM})\s*-?\s*(minutes?|mins?|m)\s*(?:and\s+)?({_NUM})\s*-?\s*(seconds?|secs?|s)\b",
    re.IGNORECASE,
)
_NUM_UNIT_RE = re.compile(rf"(?<![\w.])(?<!the )({_NUM})\s*-?\s*({_UNIT})\b(?:\s+long)?", re.I)
_WORD_UNIT_RE = re.compile(
    rf"\b({_WORD_NUM})(\s+and\s+a\s+half)?[\s-]+({_UNIT})\b(\s+and\s+a\s+half)?(?:\s+long)?", re.I
)
_HALF_RE = re.compile(r"\bhalf\s+(?:an?\s+)?(minute|hour)\b", re.IGNORECASE)

_EVERYTHING_RE = re.compile(
    r"^(?:everything|anything|all(?:\s+the)?(?:\s+(?:parts?|moments?|mentions?|scenes?|clips?"
    r"|times?|bits?|footage|material))?|every\s+(?:part|moment|mention|scene|clip|time|bit))"
    r"(?:\s+(?:about|on|regarding|concerning|covering|related\s+to|with|of|where|that|when"
    r"|in\s+which|mentioning|showing|featuring))?\b",
    re.IGNORECASE,
)

# Words that describe the request's format, not its topic: stripped from both ends of the prompt.
_FORMAT_WORDS = {
    "a", "an", "the", "of", "about", "on", "for", "with", "from", "showing", "featuring",
    "covering", "regarding", "concerning", "please", "make", "create", "build", "generate",
    "give", "me", "us", "i", "want", "need", "cut", "edit", "put", "together", "can", "you",
    "could", "would", "like", "highlight", "highlights", "reel", "reels", "montage",
    "compilation", "supercut", "summary", "recap", "sizzle", "teaser", "trailer", "video",
    "clip", "clips", "long", "short", "quick", "brief", "some", "and", "or", "to", "in",
    "that", "which", "is", "are", "max", "maximum", "around", "roughly",
    "approximately", "approx", "exactly", "at", "most", "least", "under", "within",
}  # fmt: skip


class ParsedPrompt(BaseModel):
    topic: str
    target_duration_s: float | None  # None: "everything" without a duration cap
    duration_given: bool
    wants_everything: bool
    # False for a prompt made only of durations and generic words ("the most important
    # moments", "a 30 second highlight", "精彩片段"): it asks for the best of the material
    names_topic: bool = True


def _number(text: str) -> float:
    text = text.lower().replace(",", ".")
    try:
        return float(text)
    except ValueError:
        pass
    total = 0.0
    for part in re.split(r"[\s-]+", text):
        total += _NUMBER_WORDS.get(part, 0.0)
    return total


def _unit_s(unit: str) -> float:
    return _UNITS_S[unit.lower()]


def _find_duration(prompt: str) -> tuple[float | None, str]:
    """The first duration mentioned in ``prompt`` and the prompt with it removed."""
    matches: list[tuple[int, int, float]] = []
    for m in _COMPOUND_RE.finditer(prompt):
        seconds = _number(m.group(1)) * _unit_s(m.group(2)) + _number(m.group(3))
        matches.append((m.start(), m.end(), seconds))
    for m in _CLOCK_RE.finditer(prompt):
        matches.append((m.start(), m.end(), int(m.group(1)) * 60.0 + int(m.group(2))))
    for m in _HALF_RE.finditer(prompt):
        matches.append((m.start(), m.end(), 0.5 * _unit_s(m.group(1))))
    for m in _NUM_UNIT_RE.finditer(prompt):
        matches.append((m.start(), m.end(), _number(m.group(1)) * _unit_s(m.group(2))))
    for m in _WORD_UNIT_RE.finditer(prompt):
        unit = m.group(3).lower()
        if len(unit) == 1 or (m.group(1).lower() in {"a", "an"} and unit.startswith("s")):
            continue  # "a s", "an m": not durations
        value = _number(m.group(1)) + (0.5 if (m.group(2) or m.group(4)) else 0.0)
        matches.append((m.start(), m.end(), value * _unit_s(unit)))
    matches = [m for m in matches if m[2] > 0]
    if not matches:
        return None, prompt
    # earliest, then longest match (so "1 min 30 s" wins over "1 min")
    start, end, seconds = min(matches, key=lambda m: (m[0], -(m[1] - m[0])))
    return seconds, f"{prompt[:start]} {prompt[end:]}"


def _strip_format_words(text: str) -> str:
    tokens = text.split()

    def is_format(token: str) -> bool:
        return token.lower().strip(".,;:!?\"'()[]-") in _FORMAT_WORDS or not token.strip(
            ".,;:!?\"'()[]-"
        )

    while tokens and is_format(tokens[0]):
        tokens.pop(0)
    while tokens and is_format(tokens[-1]):
        tokens.pop()
    return " ".join(tokens).strip(" .,;:!?-\"'")


def _find_table_duration(prompt: str) -> tuple[float | None, str]:
    """The first duration written with any language table's phrasing (with the approximation
    words around it removed), and the prompt without it."""
    matches: list[tuple[int, int, float, LanguageRules]] = []
    for rules in RULES.values():
        for pattern in rules.durations:
            for m in pattern.regex.finditer(prompt):
                matches.append((m.start(), m.end(), pattern.seconds(m), rules))
    matches = [m for m in matches if m[2] > 0]
    if not matches:
        return None, prompt
    start, end, seconds, rules = min(matches, key=lambda m: (m[0], -(m[1] - m[0])))
    before, after = prompt[:start].rstrip(), prompt[end:].lstrip()
    for word in rules.approx_words:  # "大约15秒", "15秒左右"
        if before.endswith(word):
            before = before[: -len(word)].rstrip()
            break
    for word in rules.approx_words:
        if after.startswith(word):
            after = after[len(word) :].lstrip()
            break
    return seconds, f"{before} {after}"


_EDGE_PUNCT = " .,;:!?-\"'()[]，。；：！？、“”‘’（）《》「」…"


def _strip_affixes(text: str, rules: LanguageRules, *, suffixes: bool = True) -> str:
    """Strip the table's request phrasing from the start and format words from the end (a
    piece made only of them becomes empty)."""
    text = text.strip(_EDGE_PUNCT)
    changed = True
    while changed and text:
        changed = False
        for prefix in rules.format_prefixes:
            if text.startswith(prefix):
                text, changed = text[len(prefix) :].lstrip(_EDGE_PUNCT), True
                break
        for suffix in rules.format_suffixes if suffixes else ():
            if text.endswith(suffix):
                text, changed = text[: -len(suffix)].rstrip(_EDGE_PUNCT), True
                break
    return text


_CLAUSE_SPLIT = re.compile(r"[\s，,。；;：:！!？?、]+")


def _parse_unspaced(text: str, rules: LanguageRules, default_target_s: float) -> ParsedPrompt:
    """Prompts in a language written without spaces, read with its table: the prompt's clauses
    lose their request and format words ("来一段", "的", "集锦"); what remains is the topic."""
    seconds, rest = _find_table_duration(text)
    if seconds is None:
        seconds, rest = _find_duration(text)  # "30 seconds" inside a Chinese prompt
    wants_everything = False
    pieces: list[str] = []
    for piece in _CLAUSE_SPLIT.split(rest):
        piece = _strip_affixes(piece, rules)
        for pattern in rules.everything:
            match = pattern.match(piece)
            if match:
                wants_everything = True
                piece = _strip_affixes(match["topic"], rules)
                break
        if piece:
            pieces.append(piece)
    # a prompt made only of format words ("一分钟的高光时刻") keeps them as its topic
    kept = (_strip_affixes(p, rules, suffixes=False) for p in _CLAUSE_SPLIT.split(rest))
    topic = "，".join(pieces) or "，".join(p for p in kept if p) or text
    target = seconds if seconds is not None else (None if wants_everything else default_target_s)
    return ParsedPrompt(
        topic=topic,
        target_duration_s=target,
        duration_given=seconds is not None,
        wants_everything=wants_everything,
    )


def parse_prompt(prompt: str, default_target_s: float = DEFAULT_TARGET_S) -> ParsedPrompt:
    """Split a highlight prompt into its topic and the duration it asks for."""
    parsed = _parse(prompt, default_target_s)
    parsed.names_topic = _names_topic(parsed.topic)
    return parsed


def require_material(request: HighlightRequest) -> ParsedPrompt:
    """The parsed prompt, or a refusal for a reel with nothing to cut: a prompt naming no topic
    ("the best moments") needs chosen videos (or explicit clips)."""
    parsed = parse_prompt(request.prompt)
    if request.clips:
        return parsed
    if not parsed.topic.strip() or (not parsed.names_topic and not request.video_ids):
        raise ValidationFailedError(
            f"the prompt names no topic to look for ({request.prompt.strip()[:80]!r}): say what "
            "the reel is about, or choose the videos to cut"
        )
    return parsed


def _names_topic(topic: str) -> bool:
    """Some word of ``topic`` is neither generic ("best", "moments", "精彩") nor a number."""
    generic = frozenset().union(*(r.generic_words for r in RULES.values()))
    for word in tokens(topic):
        bare = word.strip("-").lower()
        if re.fullmatch(r"[\d.,:]+(-?[a-z]+)?", bare) and bare.lstrip(
            "0123456789.,:-"
        ) in generic | {""}:
            continue  # "30-second", "2"
        if bare not in generic:
            return True
    return False


def _parse(prompt: str, default_target_s: float) -> ParsedPrompt:
    text = " ".join(prompt.split())
    rules = rules_for(text)
    if not rules.spaced:
        simplified = to_simplified(text)  # the table is Simplified; the topic keeps the script
        parsed = _parse_unspaced(simplified, rules, default_target_s)
        if simplified != text:
            parsed.topic = to_traditional(parsed.topic)
        return parsed
    seconds, rest = _find_duration(text)
    rest = " ".join(rest.split())
    lead = _strip_format_words_leading_only(rest)
    everything = _EVERYTHING_RE.match(lead)
    if everything:
        rest = lead[everything.end() :]
    topic = (
        _strip_format_words(_strip_format_words_leading_only(rest))
        or _strip_format_words(text)
        or text
    )
    wants_everything = everything is not None
    if seconds is not None:
        target: float | None = seconds
    else:
        target = None if wants_everything else default_target_s
    return ParsedPrompt(
        topic=topic,
        target_duration_s=target,
        duration_given=seconds is not None,
        wants_everything=wants_everything,
    )


_LEADING_IMPERATIVE = {
    "please", "make", "create", "build", "generate", "give", "me", "us", "show", "find",
    "cut", "edit", "i", "want", "need", "can", "you", "could", "would", "like", "a", "an",
    "highlight", "highlights", "reel", "montage", "compilation", "supercut", "summary", "recap",
    "video", "of", "with", "to", "see",
}  # fmt: skip


def _strip_format_words_leading_only(text: str) -> str:
    tokens = text.split()
    while tokens and tokens[0].lower().strip(".,;:!?\"'") in _LEADING_IMPERATIVE:
        tokens.pop(0)
    return " ".join(tokens)
