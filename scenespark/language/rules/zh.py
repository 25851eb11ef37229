"""Chinese (Mandarin, simplified and traditional script)."""

from __future__ import annotations

import re
from collections.abc import Callable

from scenespark.language.numerals import parse_chinese_number
from scenespark.language.rules.base import DurationPattern, LanguageRules

FUNCTION_WORDS = frozenset(
    """
    的 了 是 在 和 与 及 也 就 都 而 着 吗 呢 吧 啊 呀 哦 嗯 哈 之 其 把 被 对 从 向 给 让 个 地 得
    所 于 又 还 很 这 那 这个 那个 这些 那些 这样 那样 什么 怎么 就是 还是 或 或者 以及 而且 但是
    但 因为 所以 如果 我 你 您 他 她 它 我们 你们 他们 她们 它们 自己 有 没有 会 要 能 可以 过 吗
    关于 有关 所有
    """.split()  # noqa: SIM905
)

_FILLERS = frozenset(
    """
    然后 就是 那么 这样 其实 现在 今天 大家 一下 知道 觉得 东西 时候 还有 真的 非常 可能 已经
    应该 需要 开始 出来 起来 看看 一起 这里 那里 这儿 那儿 一些 一点 一直 一定 一样 所有 全部
    不是 不会 不要 没有 怎么样 为什么 因此 然而 于是 而是 并且 不过 只是 只有 还是 已经 正在
    也是 都是 就要 一种 这种 那种 每个 这么 那么 多少 好的 好吧 对的 是的 谢谢 欢迎
    """.split()  # noqa: SIM905
)


def _bm25s_chinese_stopwords() -> frozenset[str]:
    try:
        from bm25s.stopwords import STOPWORDS_CHINESE
    except ImportError:  # older bm25s
        return frozenset()
    return frozenset(STOPWORDS_CHINESE)


_N = r"\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千万]+(?:点[零〇一二两三四五六七八九]+)?"
_UNIT_S = {"秒": 1.0, "秒钟": 1.0, "分钟": 60.0, "分": 60.0, "小时": 3600.0, "钟头": 3600.0}
_EN_UNIT_S = {"s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0, "min": 60.0,
              "mins": 60.0, "minute": 60.0, "minutes": 60.0}  # fmt: skip


def number(text: str) -> float:
    text = text.strip()
    if text[:1].isdigit():
        return float(text)
    value = parse_chinese_number(text)
    return float(value) if value is not None else 0.0


def _pattern(regex: str, seconds: Callable[[re.Match[str]], float]) -> DurationPattern:
    return DurationPattern(re.compile(regex, re.IGNORECASE), seconds)


DURATIONS = (
    # 1分30秒, 一分钟三十秒, 2分零5秒
    _pattern(
        rf"(?P<m>{_N})\s*分(?:钟)?\s*(?:零\s*)?(?P<s>{_N})\s*秒(?:钟)?",
        lambda m: number(m["m"]) * 60 + number(m["s"]),
    ),
    # 一分半, 一分半钟, 两分钟半
    _pattern(rf"(?P<m>{_N})\s*分(?:钟)?半(?:钟)?", lambda m: number(m["m"]) * 60 + 30),
    # 一个半小时, 一个半分钟
    _pattern(
        rf"(?P<n>{_N})\s*个?\s*半\s*(?P<u>分钟|小时|钟头)",
        lambda m: (number(m["n"]) + 0.5) * _UNIT_S[m["u"]],
    ),
    # 半分钟, 半个小时
    _pattern(r"半\s*个?\s*(?P<u>分钟|小时|钟头)", lambda m: 0.5 * _UNIT_S[m["u"]]),
    # 15秒, 三十秒钟, 一分钟, 2小时, 两个小时
    _pattern(
        rf"(?P<n>{_N})\s*个?\s*(?P<u>秒钟|秒|分钟|小时|钟头)",
        lambda m: number(m["n"]) * _UNIT_S[m["u"]],
    ),
    # digits with English units inside Chinese text: 15s, 30 seconds
    _pattern(
        r"(?<![A-Za-z0-9.])(?P<n>\d+(?:\.\d+)?)\s*-?\s*(?P<u>seconds?|secs?|minutes?|mins?|s)\b",
        lambda m: number(m["n"]) * _EN_UNIT_S[m["u"].lower()],
    ),
)

_KIND = r"(?:片段|镜头|内容|画面|部分|时刻|场景|场面|瞬间|剪辑|集锦|视频)"
EVERYTHING = (
    re.compile(rf"^(?:关于|有关)(?P<topic>.+?)的(?:所有|全部|一切)(?:的)?{_KIND}?$"),
    re.compile(rf"^(?:所有|全部)(?:的)?(?:关于|有关)?(?P<topic>.+?)(?:的)?{_KIND}?$"),
    re.compile(rf"^(?P<topic>.+?)的(?:所有|全部|一切)(?:的)?{_KIND}?$"),
)

FORMAT_PREFIXES = tuple(
    sorted(
        """
        请 请你 帮我 帮忙 麻烦 给我 为我 替我 我想要 我想 我要 想要 需要 能不能 可以 能否
        来 剪 剪辑 剪出 做 做成 制作 生成 创建 弄 出 整理 一段 一个 一部 一条 一支 一份 段 个
        条 部 支 份 视频 关于 有关 的 ，
        """.split(),  # noqa: SIM905
        key=len,
        reverse=True,
    )
)
FORMAT_SUFFIXES = tuple(
    sorted(
        """
        集锦 片段 剪辑 高光 合集 混剪 视频 短片 精彩 时刻 瞬间 镜头 画面 内容 部分 的 吧 呢 吗
        一下 看看 精华 回顾 预告片 预告 花絮 精选 汇总 合辑 剪影 蒙太奇 短视频 小视频 左右
        """.split(),  # noqa: SIM905
        key=len,
        reverse=True,
    )
)

QUERY_LEADING = (
    re.compile(
        r"^(?:请)?(?:帮我|给我)?(?:找出|找到|找|搜索|搜|查找|查|显示|看看|看)(?:一下)?(?:所有|全部)?"
        r"(?:的)?(?:关于|有关)?"
    ),
    re.compile(
        r"^(?:视频里|视频中|片中|画面中|这里)?(?:他|她|他们|她们|有人|主持人|讲者|旁白|解说|演讲者|"
        r"大家|主角|男主|女主)?(?:是)?(?:在)?(?:什么时候|何时|哪里|哪儿|在哪里?|哪一?段|哪个时候|"
        r"几时|哪一?刻)"
    ),
)

# file-name and language tags meaning Chinese ("video.chs.srt", "zh-CN")
_ALIAS_TEXT = (
    "zho chi chs cht cn sc tc zh-cn zh-tw zh-hans zh-hant zh-hk zh-sg chinese mandarin cmn"
)
ALIASES = frozenset(f"{_ALIAS_TEXT} gb big5".split())
APPROX_WORDS = "大约 大概 约莫 约 左右 上下 差不多 最多 至多 不超过 以内 之内 总长 时长 长度 总共 一共 控制在 长"

GENERIC_WORDS = frozenset(
    {
        "精彩",
        "片段",
        "高光",
        "时刻",
        "集锦",
        "亮点",
        "重要",
        "镜头",
        "部分",
        "内容",
        "视频",
        "最",
        "最佳",
        "关键",
        "有趣",
        "一分钟",
        "半分钟",
        "秒",
        "分钟",
    }
)

ZH = LanguageRules(
    code="zh",
    name="Chinese (write in the same script as the prompt: simplified or traditional)",
    aliases=ALIASES,
    spaced=False,
    stopwords=FUNCTION_WORDS,
    tag_stopwords=FUNCTION_WORDS | _FILLERS | _bm25s_chinese_stopwords(),
    continuation_words=frozenset(
        "和 与 及 把 被 对 从 向 给 跟 因为 所以 但是 而且 如果 虽然 或者 还有 以及 的 在 是".split()  # noqa: SIM905
    ),
    sentence_ends="。！？；!?;…",
    clause_marks="，、：,:",
    durations=DURATIONS,
    approx_words=tuple(sorted(APPROX_WORDS.split(), key=len, reverse=True)),
    everything=EVERYTHING,
    format_prefixes=FORMAT_PREFIXES,
    generic_words=GENERIC_WORDS,
    format_suffixes=FORMAT_SUFFIXES,
    conjunctions=frozenset("和 与 跟 及 以及 或 或者 还有 并且 加上 、 ， , ； ; / &".split()),  # noqa: SIM905
    query_leading=QUERY_LEADING,
    speech_words=re.compile(
        r"(?:提到|说到|谈到|讲到|聊到|提及|说起|讲起|谈起|谈论|讨论|说了|讲了|说过|讲过|念到|说|讲)"
    ),
    ocr_words=re.compile(r"(?:字幕|标题|屏幕上|文字|写着|写的|幻灯片|横幅|招牌|牌子|字样)"),
    visual_words=re.compile(r"(?:画面|镜头里|镜头中|出现|看到|看见|拍到)"),
    phrases={
        "matched": "匹配{modality}（{score:.2f}）",
        "speech": "语音",
        "ocr": "屏幕文字",
        "visual": "画面",
        "search": "搜索",
        "title_topic": "视频标题提到了主题（{video}）",
        "chosen_video": "来自所选视频（其中没有内容匹配提示）",
        "quote": "{head}：“{text}”",
        "reel_title": "{topic}集锦",
        "reel_description": "{n}个片段（{seconds:.0f}秒），来自{videos}个视频，关于{topic}",
    },
)
