"""Sentences and clauses of plain text, in any script, and text shortened without cutting a word.

- ``split_sentences("你好。今天下雨！Hello there. Bye")`` → ``["你好。", "今天下雨！", "Hello there.",
  "Bye"]``: Latin ends (. ! ?) followed by a space, CJK ends (。！？；) anywhere.
- A sentence longer than ``max_chars`` is cut at its clause marks (， 、 , ; :) into balanced parts;
  a clause that is still too long is cut at word boundaries (jieba words for CJK text).
- ``join_words`` joins recogniser tokens: a space between words, none between two CJK characters
  or between a CJK character and a digit ("价格是899美元").
- ``shorten`` keeps whole sentences, clauses or words and adds "…": never half a word, never
  the middle of a Chinese word.
"""

from __future__ import annotations

import re

from scenespark.language.rules import RULES, rules_for
from scenespark.language.scripts import CJK_PUNCT, HAN_RE, UNSPACED_RE
from scenespark.language.segment import segment_han

# CJK sentence ends need no space after them; Latin ones do (so "4.2" and "Mr. X" hold better)
_SENTENCE_END_RE = re.compile(r"[。！？；]+[”’」』）)]*|[.!?…]+['\"”’)\]]*(?=\s|$)")
_CLAUSE_RE = re.compile(r"[^，、,;；:：]+[，、,;；:：]*")
MAX_SENTENCE_CHARS = 60  # a CJK sentence longer than this is cut at clauses (~15 s of speech)
MAX_SENTENCE_WORDS = 40  # the same for spaced languages
_DANGLING: frozenset[str] = frozenset().union(
    *(r.continuation_words for r in RULES.values()),
    *(r.stopwords for r in RULES.values() if not r.spaced),
)


def _is_cjk_char(char: str) -> bool:
    return bool(UNSPACED_RE.match(char)) or char in CJK_PUNCT


def join_words(tokens: list[str]) -> str:
    """Join recogniser tokens: spaces between words, none inside CJK text."""
    out = ""
    for token in tokens:
        token = token.strip()
        if not token:
            continue
        left, right = out[-1:], token[0]
        glued = right in CJK_PUNCT or right in ",.!?;:%)]}'’”"
        # "ill" + "-disposed", "John" + "'s": a token starting with a hyphen or apostrophe
        # continues the word before it
        glued = glued or (right in "-'’" and len(token) > 1 and left.isalnum())
        cjk_pair = (_is_cjk_char(left) or left.isdigit()) and (
            _is_cjk_char(right) or right.isdigit()
        )
        if out and not glued and not (cjk_pair and not (left.isdigit() and right.isdigit())):
            out += " "
        out += token
    return out


def text_length(text: str) -> int:
    """Length in words for spaced text, in characters for CJK (comparable units)."""
    cjk = len(UNSPACED_RE.findall(text))
    return cjk + len(UNSPACED_RE.sub(" ", text).split())


def _too_long(text: str, max_chars: int, max_words: int) -> bool:
    if HAN_RE.search(text) or UNSPACED_RE.search(text):
        return text_length(text) > max_chars
    return len(text.split()) > max_words


def _words(text: str) -> list[str]:
    """Word pieces of ``text`` keeping all characters (jieba for Han runs)."""
    pieces: list[str] = []
    for part in re.split(r"(\s+)", text):
        if not part:
            continue
        if part.isspace() or not UNSPACED_RE.search(part):
            pieces.append(part)
            continue
        for run in re.split(f"({UNSPACED_RE.pattern}+)", part):
            if run:
                pieces.extend(segment_han(run) if HAN_RE.match(run) else list(run))
    return pieces


def _balanced(parts: list[str], limit: int) -> list[str]:
    """Greedily pack ``parts`` (clauses or words, in order) into chunks of at most ``limit``."""
    chunks: list[str] = []
    current = ""
    for part in parts:
        if current and text_length(current + part) > limit:
            chunks.append(current)
            current = part.lstrip()
        else:
            current += part
    if current.strip():
        chunks.append(current)
    return [c.strip() for c in chunks if c.strip()]


def split_sentences(
    text: str, *, max_chars: int = MAX_SENTENCE_CHARS, max_words: int = MAX_SENTENCE_WORDS
) -> list[str]:
    """Sentences of ``text``; over-long ones are cut at clauses, then at word boundaries."""
    text = " ".join(text.split())
    out: list[str] = []
    cuts = [m.end() for m in _SENTENCE_END_RE.finditer(text)]
    bounds = zip([0, *cuts], [*cuts, len(text)], strict=True)
    for start, end in bounds:
        sentence = text[start:end].strip()
        if not sentence:
            continue
        if not _too_long(sentence, max_chars, max_words):
            out.append(sentence)
            continue
        limit = max_chars if UNSPACED_RE.search(sentence) else max_words
        for clause in _balanced(_CLAUSE_RE.findall(sentence), limit):
            if _too_long(clause, max_chars, max_words):
                out.extend(_balanced(_words(clause), limit))
            else:
                out.append(clause)
    return out


def shorten(text: str, max_units: int) -> str:
    """``text`` cut to about ``max_units`` words (characters for CJK) at a sentence, clause or
    word boundary, with "…" when something was cut."""
    text = " ".join(text.split())
    if text_length(text) <= max_units:
        return text
    parts: list[str] = []
    for part in _words(text):
        if parts and text_length("".join(parts) + part) > max_units:
            break
        parts.append(part)
    # never end on a word that leads into what was cut ("the", "of", "的")
    while len(parts) > 1 and (not parts[-1].strip() or parts[-1].strip().lower() in _DANGLING):
        parts.pop()
    kept = "".join(parts).rstrip(" ,;:，、；：")
    # prefer ending at a clause mark when one falls in the second half
    cut = max((kept.rfind(mark) for mark in "，、,;；"), default=-1)
    if cut > len(kept) // 2:
        kept = kept[:cut]
    return kept.rstrip(" ,;:，、；：。.") + "…"


def split_facets(text: str) -> list[str]:
    """The parts of a compound topic in a language written without spaces, split at its
    table's conjunctions taken as whole words ("价格和电池" → 价格, 电池; "和平" stays whole)."""
    rules = rules_for(text)
    if rules.spaced:  # mostly Latin letters around a few CJK words: "iPhone和iPad"
        rules = next((r for r in RULES.values() if not r.spaced and r.conjunctions), rules)
    if rules.spaced or not rules.conjunctions:
        return [text]
    parts: list[str] = []
    current = ""
    for piece in _words(text):
        if piece.strip() in rules.conjunctions:
            parts.append(current)
            current = ""
        else:
            current += piece
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def truncate_chars(text: str, max_chars: int) -> str:
    """``text`` within ``max_chars`` characters (with "…"), cut between words — jieba words for
    Chinese — never inside one; a single over-long word is cut as a last resort."""
    if len(text) <= max_chars:
        return text
    kept = ""
    for piece in _words(text):
        if len(kept) + len(piece) > max_chars - 1:
            break
        kept += piece
    kept = kept.rstrip()
    return (kept or text[: max_chars - 1].rstrip()) + "…"
