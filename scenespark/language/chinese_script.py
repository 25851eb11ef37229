"""Traditional and Simplified Chinese: one vocabulary for matching, the user's script for output.

Keywords, prompt phrasing and word segmentation work on Simplified text (jieba's dictionary and
the Chinese table are Simplified), so ``to_simplified`` (OpenCC ``t2s``, loaded lazily once)
runs first: a Traditional query (``雨夜重逢的片段``, ``兩萬``) then matches Simplified subtitles
and the reverse. Text shown to the user keeps its script (``to_traditional`` turns a topic back).
Without OpenCC installed, text is left as it is.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from scenespark.language.scripts import HAN_RE

_LOCK = threading.Lock()
_CONVERTERS: dict[str, Any] = {}


def _converter(config: str) -> Any | None:
    if config in _CONVERTERS:
        return _CONVERTERS[config]
    with _LOCK:
        if config not in _CONVERTERS:
            try:
                import opencc

                _CONVERTERS[config] = opencc.OpenCC(config)
            except Exception:  # not installed, or its data cannot be read
                _CONVERTERS[config] = None
    return _CONVERTERS[config]


@lru_cache(maxsize=50_000)
def _convert(text: str, config: str) -> str:
    converter = _converter(config)
    return text if converter is None else converter.convert(text)


def to_simplified(text: str) -> str:
    """``text`` with Traditional characters written in Simplified (unchanged without Han)."""
    if not text or not HAN_RE.search(text):
        return text
    return _convert(text, "t2s")


def to_traditional(text: str) -> str:
    if not text or not HAN_RE.search(text):
        return text
    return _convert(text, "s2t")


def is_traditional(text: str) -> bool:
    """True when ``text`` has characters that Simplified Chinese writes differently."""
    return to_simplified(text) != text
