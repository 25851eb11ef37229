"""Which writing system a text uses: the language layer picks segmentation, stopwords, sentence
ends and prompt phrasing from it.

Scripts are read from Unicode blocks, not guessed from words: Han ideographs (Chinese, and the
kanji of Japanese), kana, Hangul. ``dominant_language`` answers with the language whose table
applies ("zh" for Han text, "ja" when kana is present, "ko" for Hangul, else "en"), which is all
the text layer needs; it is not a general language identifier.
"""

from __future__ import annotations

import re

# CJK Unified Ideographs (+ extension A, compatibility ideographs) and the 〇 numeral.
HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3007"
KANA_CLASS = "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff"
HANGUL_CLASS = "\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"
CJK_CLASS = HAN_CLASS + KANA_CLASS + HANGUL_CLASS

HAN_RE = re.compile(f"[{HAN_CLASS}]")
KANA_RE = re.compile(f"[{KANA_CLASS}]")
HANGUL_RE = re.compile(f"[{HANGUL_CLASS}]")
# Scripts written without spaces between words.
UNSPACED_RE = re.compile(f"[{HAN_CLASS}{KANA_CLASS}]")
# Full-width and ideographic punctuation used in CJK text.
CJK_PUNCT = "。！？；，、：「」『』（）《》〈〉【】…—～·“”‘’"


def has_cjk(text: str) -> bool:
    return bool(UNSPACED_RE.search(text) or HANGUL_RE.search(text))


def is_unspaced_char(char: str) -> bool:
    """True for characters of scripts written without spaces (Han, kana)."""
    return bool(UNSPACED_RE.match(char))


def dominant_language(text: str, default: str = "en") -> str:
    """The table language for ``text``: "zh", "ja", "ko" or ``default`` (Latin and others).

    A text counts as CJK when its CJK characters are at least a fifth of its letters, so an
    English sentence quoting one Chinese name stays English, and a Chinese sentence with an
    English brand name stays Chinese.
    """
    han = len(HAN_RE.findall(text))
    kana = len(KANA_RE.findall(text))
    hangul = len(HANGUL_RE.findall(text))
    letters = sum(1 for ch in text if ch.isalpha())
    cjk = han + kana + hangul
    if not cjk or cjk * 5 < letters - cjk:
        return default
    if kana:
        return "ja"
    if hangul > han:
        return "ko"
    return "zh"
