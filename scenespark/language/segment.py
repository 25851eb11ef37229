"""Word segmentation for scripts written without spaces (Chinese, Japanese kana).

Han text goes through jieba (its dictionary ships in the wheel), loaded lazily once, quietly, in
its deterministic dictionary mode (``HMM=False``: no guessing of unknown words, so the same string
segments the same way in a document and in a query). When jieba is unavailable — and always for
kana — the fallback is overlapping character bigrams, as Lucene's CJK analyzer does. Traditional
Chinese is segmented through its Simplified form and returned in its own characters.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from typing import Any

from scenespark.language.chinese_script import to_simplified

_LOCK = threading.Lock()
_STATE: dict[str, Any] = {}


def _jieba() -> Any | None:
    """The jieba tokenizer, initialised once (None when jieba is not installed)."""
    if "tokenizer" in _STATE:
        return _STATE["tokenizer"]
    with _LOCK:
        if "tokenizer" not in _STATE:
            try:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                logging.getLogger("jieba").setLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
            except Exception:  # not installed, or its dictionary cannot be read
                tokenizer = None
            _STATE["tokenizer"] = tokenizer
    return _STATE["tokenizer"]


def bigrams(run: str) -> list[str]:
    """Overlapping character bigrams of a run ("雨夜重逢" → 雨夜, 夜重, 重逢); a lone char stays."""
    if len(run) <= 1:
        return [run] if run else []
    return [run[i : i + 2] for i in range(len(run) - 1)]


@lru_cache(maxsize=50_000)
def _segment_cached(run: str) -> tuple[str, ...]:
    tokenizer = _jieba()
    if tokenizer is None:
        return tuple(bigrams(run))
    # Traditional text is segmented in Simplified (jieba's dictionary) and given back in its
    # own characters when the conversion kept the length (it nearly always does)
    simplified = to_simplified(run)
    words = [w for w in tokenizer.lcut(simplified, HMM=False) if w]
    if simplified == run or len(simplified) != len(run):
        return tuple(w for w in words if w.strip())
    out: list[str] = []
    position = 0
    for word in words:
        out.append(run[position : position + len(word)])
        position += len(word)
    return tuple(w for w in out if w.strip())


def segment_han(run: str) -> list[str]:
    """Words of a run of Han characters (jieba; bigrams when jieba is missing)."""
    if not run:
        return []
    return list(_segment_cached(run))


def jieba_available() -> bool:
    return _jieba() is not None
