"""Understanding a search query: strip the search-language around the topic, and read the
modality it hints at ("where do they *say* …", "the *slide* with …", "*shots of* …").

"when does the speaker mention the budget review" → topic "the budget review", hint speech.
The phrases are generic English search phrasing, not tied to any library. Queries in other
languages are read with their table in :mod:`scenespark.language.rules`:
"他们什么时候提到猫" → topic "猫", hint speech.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scenespark.language.chinese_script import to_simplified, to_traditional
from scenespark.language.rules import LanguageRules, rules_for
from scenespark.language.segment import segment_han
from scenespark.types import Modality

_LEADING = [
    r"(?:please\s+)?(?:show|find|give|get)\s+(?:me\s+)?(?:all\s+)?(?:the\s+)?"
    r"(?:parts?|moments?|scenes?|clips?|bits?|places?|times?|segments?)?\s*(?:where|when|with|of|that)?",
    r"(?:when|where|at what point|at which point|what time)\s+"
    r"(?:does|do|did|is|are|was|were)\s+(?:the\s+)?"
    r"(?:narrator|speaker|presenter|host|voice|voice-over|voiceover|they|he|she|someone|somebody|anyone|people|it)?\s*",
    r"(?:the\s+)?(?:parts?|moments?|scenes?|bits?|places?|times?)\s+(?:where|when|with|of|that)\s+",
    r"(?:is there|are there)\s+(?:a|an|any)?\s*(?:part|moment|scene|mention)?\s*(?:of|about|where|with)?",
]
_SPEECH_VERBS = (
    r"(?:mention(?:s|ed)?|talk(?:s|ed)?\s+about|speak(?:s)?\s+about|discuss(?:es|ed)?|say(?:s)?|said|"
    r"explain(?:s|ed)?|describe(?:s|d)?|refer(?:s|red)?\s+to|bring(?:s)?\s+up|narrat(?:es|ed))"
)
_OCR_WORDS = (
    r"\b(?:on[- ]screen text|caption|subtitle|title card|sign|written|slide|banner|lower third)s?\b"
)
_VISUAL_WORDS = (
    r"\b(?:shots? of|footage of|picture of|image of|we see|you can see|shows?|showing|appears?)\b"
)


@dataclass(frozen=True)
class QueryIntent:
    original: str
    topic: str  # what to embed and match
    hint: Modality | None  # the modality the phrasing points at, if any


_EDGE = " ,.;:!?，。；：！？、“”\"'（）()"
# what joins a modality word to the topic: "字幕上写着", "画面里出现了", "提到了"
_CONNECTOR = re.compile(r"^(?:了|过|着|里面|里|中|上|的)?(?:的是|是|有|写着|写的是|出现了?|显示)?")
_TRAILING = ("的片段", "的部分", "的镜头", "的画面", "的时刻", "的地方", "的时候", "吗", "呢", "的")


def _names_word(words: re.Pattern[str], tokens: list[str]) -> bool:
    """A whole word of the query is one of ``words``; a one-character one ("讲", "说") only
    with something after it: "他讲了什么" asks about speech, "第三讲" and "小说" do not."""
    return any(
        words.fullmatch(token) and (len(token) > 1 or i + 1 < len(tokens))
        for i, token in enumerate(tokens)
    )


def _understand_with(rules: LanguageRules, original: str) -> QueryIntent:
    """A query in a language whose phrasing comes from its table (e.g. Chinese)."""
    text = original.strip(_EDGE)
    for pattern in rules.query_leading:
        match = pattern.match(text)
        if match and match.end() > 0:
            text = text[match.end() :].lstrip(_EDGE)
    hint: Modality | None = None
    for modality, words in (
        (Modality.SPEECH, rules.speech_words),
        (Modality.OCR, rules.ocr_words),
        (Modality.VISUAL, rules.visual_words),
    ):
        if words is None:
            continue
        leading = words.match(text)
        if leading:
            hint = modality
            while leading:  # "字幕写着…", "画面里出现…"
                text = text[leading.end() :].lstrip(_EDGE)
                text = _CONNECTOR.sub("", text, count=1).lstrip(_EDGE)
                leading = words.match(text)
            break
        if _names_word(words, segment_han(text)):
            hint = modality
            break
    changed = True
    while changed:
        changed = False
        for tail in _TRAILING:
            if text.endswith(tail) and len(text) > len(tail):
                text, changed = text[: -len(tail)].rstrip(_EDGE), True
    topic = text.strip(_EDGE) or original
    return QueryIntent(original=original, topic=topic, hint=hint)


def understand(query: str) -> QueryIntent:
    original = " ".join(query.split())
    rules = rules_for(original)
    if not rules.spaced:
        simplified = to_simplified(original)  # the table is Simplified; the topic keeps the script
        intent = _understand_with(rules, simplified)
        if simplified == original:
            return intent
        return QueryIntent(original=original, topic=to_traditional(intent.topic), hint=intent.hint)
    text = original.rstrip("?!. ")
    hint: Modality | None = None
    lowered = text.lower()
    for pattern in _LEADING:
        match = re.match(pattern, lowered)
        if match and match.end() > 0:
            text, lowered = text[match.end() :].lstrip(" ,:"), lowered[match.end() :].lstrip(" ,:")
    verb = re.match(_SPEECH_VERBS + r"\s+", lowered)
    if verb:
        hint = Modality.SPEECH
        text = text[verb.end() :]
    elif re.search(r"\b" + _SPEECH_VERBS + r"\b", lowered):
        hint = Modality.SPEECH
    elif re.search(_OCR_WORDS, lowered):
        hint = Modality.OCR
    elif re.search(_VISUAL_WORDS, lowered):
        hint = Modality.VISUAL
    topic = text.strip(" ,:;") or original
    if len(topic) < 2:
        topic = original
    return QueryIntent(original=original, topic=topic, hint=hint)
