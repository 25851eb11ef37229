"""Chinese numerals to digits, so "十七", "百分之十七" and "二比一" match "17", "17%" and "2:1" the
way English number words do ("seventeen" → "17").

``normalise_chinese_numerals("百分之十七的人，比分二比一，第三十集")`` →
``"17%的人，比分2:1，第30集"``. Rules (applied to documents and queries alike):

- ``百分之N`` → ``N%``; ``N比M`` → ``N:M``; ``第N`` → ``第`` + digits;
- a run of two or more numeral characters that reads as a number → digits ("三十", "二十五",
  "一千二百", "两千零五", "四点二"); digit strings read digit by digit ("二〇二六" → 2026);
- a single numeral before a unit or measure word → digits ("三秒", "五个", "两集"); a lone
  "一" only before a time or quantity unit ("一分钟", "一年"), since "一个/一位/一部" mean "a".
  Words that merely contain a numeral character ("一些", "一起", "十分", "三明治", "万一") stay.
"""

from __future__ import annotations

import re

DIGITS: dict[str, int] = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
    "八": 8, "九": 9,
}  # fmt: skip
SMALL_UNITS: dict[str, int] = {"十": 10, "百": 100, "千": 1000}
LARGE_UNITS: dict[str, int] = {"万": 10_000, "亿": 100_000_000}

_NUMERAL_CHARS = "".join(DIGITS) + "".join(SMALL_UNITS) + "".join(LARGE_UNITS)
_DIGIT_CHARS = "".join(DIGITS)
# a numeral run, optionally with a decimal part ("四点二"); ASCII numbers are taken as they are
_RUN = rf"[{_NUMERAL_CHARS}]+(?:点[{_DIGIT_CHARS}]+)?"
_NUM = rf"(?:\d+(?:\.\d+)?|{_RUN})"
_PERCENT_RE = re.compile(rf"百分之\s*({_NUM})")
_RATIO_RE = re.compile(rf"({_NUM})\s*比\s*({_NUM})")
_ORDINAL_RE = re.compile(rf"第\s*({_RUN})")
_RUN_RE = re.compile(_RUN)
# units and measure words after which a single numeral is a quantity
TIME_UNITS = ("秒", "分钟", "分半", "小时", "钟头", "天", "周", "星期", "年", "月", "日", "号")
QUANTITY_UNITS = ("倍", "次", "集", "季", "元", "块", "米", "公里", "千米", "度", "岁", "届")
MEASURE_WORDS = ("个", "人", "名", "位", "部", "场", "张", "只", "条", "本", "页", "层", "辆", "件", "项", "支", "队", "球")  # fmt: skip
# numeral runs that are words, not numbers
IDIOMS = frozenset({"一一", "万一", "万万", "千千万万", "三三两两", "一二"})


def parse_chinese_number(text: str) -> float | int | None:
    """The value of a Chinese numeral ("三十" → 30, "四点二" → 4.2), None if it is not one."""
    text = text.strip()
    if not text:
        return None
    if "点" in text:
        whole, _, frac = text.partition("点")
        whole_value = parse_chinese_number(whole)
        if whole_value is None or not frac or any(ch not in DIGITS for ch in frac):
            return None
        return float(f"{int(whole_value)}.{''.join(str(DIGITS[ch]) for ch in frac)}")
    if any(ch not in DIGITS and ch not in SMALL_UNITS and ch not in LARGE_UNITS for ch in text):
        return None
    if all(ch in DIGITS for ch in text):
        if len(text) == 1:
            return DIGITS[text]
        if "〇" in text or "零" in text or len(text) >= 3:
            return int("".join(str(DIGITS[ch]) for ch in text))  # 二〇二六 → 2026
        return None  # "七八" is "seven or eight", not 78
    total = 0
    section = 0
    number: int | None = None
    last_small = 0
    for ch in text:
        if ch in DIGITS:
            if number is not None and DIGITS[ch] and number:
                return None  # two digits in a row inside a unit numeral
            number = DIGITS[ch]
        elif ch in SMALL_UNITS:
            unit = SMALL_UNITS[ch]
            if last_small and unit >= last_small and number is None:
                return None  # "十十", "百千"
            section += (1 if number is None else number) * unit
            number = None
            last_small = unit
        else:
            unit = LARGE_UNITS[ch]
            section += number or 0
            if section == 0:
                return None
            total = (total + section) * unit if unit > 10_000 else total + section * unit
            section, number, last_small = 0, None, 0
    return total + section + (number or 0)


def _digits(value: float | int) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(int(value))


def _convert(token: str) -> str | None:
    if token[:1].isdigit():
        return token
    value = parse_chinese_number(token)
    return None if value is None else _digits(value)


def _sub_percent(match: re.Match[str]) -> str:
    value = _convert(match.group(1))
    return f"{value}%" if value is not None else match.group(0)


def _sub_ratio(match: re.Match[str]) -> str:
    left, right = _convert(match.group(1)), _convert(match.group(2))
    if left is None or right is None:
        return match.group(0)
    return f"{left}:{right}"


def _sub_ordinal(match: re.Match[str]) -> str:
    value = _convert(match.group(1))
    return f"第{value}" if value is not None else match.group(0)


def _unit_follows(text: str, end: int, units: tuple[str, ...]) -> bool:
    return text.startswith(units, end)


def normalise_chinese_numerals(text: str) -> str:
    """Replace Chinese numerals in ``text`` by ASCII digits (see the module docstring)."""
    if not any(ch in _NUMERAL_CHARS or ch == "比" for ch in text):
        return text
    text = _PERCENT_RE.sub(_sub_percent, text)
    text = _RATIO_RE.sub(_sub_ratio, text)
    text = _ORDINAL_RE.sub(_sub_ordinal, text)

    def sub_run(match: re.Match[str]) -> str:
        run = match.group(0)
        if run in IDIOMS:
            return run
        if len(run) == 1:
            units = TIME_UNITS + QUANTITY_UNITS
            if run not in ("一", "万", "亿", "千", "百"):
                units += MEASURE_WORDS
            if run in ("万", "亿", "千", "百") or not _unit_follows(text, match.end(), units):
                return run
        value = _convert(run)
        return run if value is None else value

    return _RUN_RE.sub(sub_run, text)
