"""The language layer: CJK keywords, Chinese numerals, prompts and queries in Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenespark.highlights.prompt_parse import parse_prompt
from scenespark.language.numerals import normalise_chinese_numerals, parse_chinese_number
from scenespark.language.rules import rules_for, rules_for_code
from scenespark.language.scripts import dominant_language
from scenespark.language.segment import bigrams, jieba_available
from scenespark.language.sentences import join_words, shorten, split_sentences
from scenespark.language.shaping import sentences_from_words, split_text_sentences
from scenespark.language.tokenize import tokenize
from scenespark.media.subtitles import (
    Cue,
    cue_language,
    find_sidecar,
    format_srt,
    parse_subtitle_text,
    parse_subtitles,
    sidecar_language,
)
from scenespark.search.query_intent import understand
from scenespark.store.keyword import KeywordIndex
from scenespark.types import Modality, Segment, Word


# --- numerals --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("十七", 17), ("三十", 30), ("二十五", 25), ("一百", 100), ("一百零一", 101),
        ("两千零五", 2005), ("一万二千", 12000), ("三亿五千万", 350_000_000), ("二〇二六", 2026),
        ("四点二", 4.2), ("十", 10), ("七八", None), ("十十", None), ("猫", None), ("", None),
    ],
)  # fmt: skip
def test_parse_chinese_number(text: str, value: float | None) -> None:
    assert parse_chinese_number(text) == value


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("百分之十七的人", "17%的人"),
        ("比分二比一", "比分2:1"),
        ("2比1", "2:1"),
        ("第三十集", "第30集"),
        ("三十秒", "30秒"),
        ("一分钟", "1分钟"),
        ("五个人", "5个人"),
        # words that merely contain numeral characters stay words
        ("一些人一起来了", "一些人一起来了"),
        ("十分好看", "十分好看"),
        ("三明治", "三明治"),
        ("万一", "万一"),
        ("一个人", "一个人"),
    ],
)
def test_normalise_chinese_numerals(text: str, normalised: str) -> None:
    assert normalise_chinese_numerals(text) == normalised


# --- keyword tokens --------------------------------------------------------------------------
def test_cjk_tokens_are_words_not_sentences() -> None:
    tokens = tokenize("他在雨夜重逢了她")
    assert "雨夜" in tokens and "重逢" in tokens
    assert "他在雨夜重逢了她" not in tokens
    assert "了" not in tokens  # function word
    assert tokenize("雨夜重逢") == ["雨夜", "重逢"]


def test_cjk_numbers_match_digits_and_english() -> None:
    assert tokenize("百分之十七") == tokenize("17%") == tokenize("seventeen percent")
    assert tokenize("二比一") == tokenize("2:1") == ["2", "1"]
    assert tokenize("十七个球") == ["17", "球"]
    assert tokenize("三十") == tokenize("30") == tokenize("thirty")


def test_mixed_chinese_english_splits_at_the_script_boundary() -> None:
    tokens = tokenize("AI模型GPT4发布会上说价格是899美元")
    assert {"ai", "模型", "gpt4", "发布会", "价格", "899", "美元"} <= set(tokens)
    assert "是" not in tokens
    # English parts keep the English rules (number words, stemming)
    assert tokenize("发布会 seventeen runners") == ["发布会", "17", "runner"]


def test_bigram_fallback_and_kana() -> None:
    assert bigrams("雨夜重逢") == ["雨夜", "夜重", "重逢"]
    assert bigrams("猫") == ["猫"] and bigrams("") == []
    assert tokenize("カタカナ") == ["カタ", "タカ", "カナ"]


def test_jieba_is_used_when_installed() -> None:
    assert jieba_available()


def test_exact_on_screen_chinese_title_matches_first() -> None:
    texts = {
        "ocr-title": (Modality.OCR, "第三幕：雨夜重逢"),
        "ocr-other": (Modality.OCR, "第四幕：晨光告别"),
        "speech-rain": (Modality.SPEECH, "那天夜里下着大雨，我们在车站分开了。"),
        "speech-meet": (Modality.SPEECH, "多年以后他们在咖啡馆重逢。"),
        "speech-pct": (Modality.SPEECH, "百分之十七的观众猜到了结局"),
        "speech-en": (Modality.SPEECH, "the reunion happens on a rainy night"),
    }
    index = KeywordIndex.build(
        [
            (sid, Segment(video_id="v", modality=m, start_s=0, end_s=1, text=t))
            for sid, (m, t) in texts.items()
        ]
    )
    hits = index.search("雨夜重逢", top_k=3)
    assert hits[0].segment_id == "ocr-title" and hits[0].score == pytest.approx(1.0)
    assert index.search("第三幕", top_k=1)[0].segment_id == "ocr-title"
    pct = index.search("17%的观众", top_k=1)
    assert pct[0].segment_id == "speech-pct" and pct[0].score == pytest.approx(1.0)
    assert index.search("宇宙飞船", top_k=3) == []


# --- languages -------------------------------------------------------------------------------
def test_language_tables_by_script_and_code() -> None:
    assert dominant_language("关于猫的所有片段") == "zh"
    assert dominant_language("AI模型GPT4发布会") == "zh"
    assert dominant_language("We visited 北京 last summer with the whole family") == "en"
    assert dominant_language("すしを食べる") == "ja"
    assert rules_for("猫").code == "zh" and rules_for("cats").code == "en"
    for code in ("zh", "zh-CN", "chs", "cht", "zh_TW", "cmn"):
        assert rules_for_code(code).code == "zh"
    assert rules_for_code("xx").code == "en"


# --- prompts ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("prompt", "topic", "target", "everything"),
    [
        ("15秒的猫咪集锦", "猫咪", 15.0, False),
        ("来一段三十秒的猫咪集锦", "猫咪", 30.0, False),
        ("一分钟的进球剪辑", "进球", 60.0, False),
        ("半分钟的片段：主角求婚", "主角求婚", 30.0, False),
        ("1分30秒 发布会剪辑", "发布会", 90.0, False),
        ("给我一分半钟的进球集锦", "进球", 90.0, False),
        ("一个半小时的比赛回顾", "比赛", 5400.0, False),
        ("剪一段男主求婚和两人在雨中分手的片段，大约15秒", "男主求婚和两人在雨中分手", 15.0, False),
        ("做一个15秒左右的视频，关于价格和电池", "价格和电池", 15.0, False),
        ("约20秒 雨夜重逢", "雨夜重逢", 20.0, False),
        ("价格和电池 20s", "价格和电池", 20.0, False),
        ("大约三十秒的高光", "高光", 30.0, False),  # format words only: kept as the topic
        ("关于猫的所有片段", "猫", None, True),
        ("所有猫的片段", "猫", None, True),
        ("猫的所有镜头，大约15秒", "猫", 15.0, True),
        ("关于发布会的一切", "发布会", None, True),
        ("所有关于价格的内容", "价格", None, True),
        ("雨中的告别", "雨中的告别", 60.0, False),
    ],
)
def test_parse_chinese_prompt(
    prompt: str, topic: str, target: float | None, everything: bool
) -> None:
    parsed = parse_prompt(prompt)
    assert parsed.topic == topic
    assert parsed.target_duration_s == target
    assert parsed.duration_given is (target not in (None, 60.0) or "一分钟" in prompt)
    assert parsed.wants_everything is everything


def test_english_prompts_unchanged_by_tables() -> None:
    parsed = parse_prompt("a 30-second highlight of the animals")
    assert (parsed.topic, parsed.target_duration_s) == ("animals", 30.0)


# --- queries ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "topic", "hint"),
    [
        ("他们什么时候提到猫？", "猫", "speech"),
        ("主持人在哪里说到电池", "电池", "speech"),
        ("字幕写着雨夜重逢的地方", "雨夜重逢", "ocr"),
        ("画面里出现一只狗", "一只狗", "visual"),
        ("找出所有关于价格的片段", "价格", None),
        ("雨夜重逢", "雨夜重逢", None),
        ("中国队进球", "中国队进球", None),
        # a speech verb inside a word, or ending an ordinal, is not a hint
        ("第三讲", "第三讲", None),
        ("小说里的主角", "小说里的主角", None),
        ("他说电池很好", "他说电池很好", "speech"),
    ],
)
def test_chinese_query_intent(query: str, topic: str, hint: str | None) -> None:
    intent = understand(query)
    assert intent.topic == topic
    assert (intent.hint.value if intent.hint else None) == hint


# --- sentences -------------------------------------------------------------------------------
def timed(*items: tuple[float, float, str]) -> list[Word]:
    return [Word(start_s=a, end_s=b, text=t) for a, b, t in items]


def steady(text: str, start_s: float, step_s: float = 0.35) -> list[tuple[float, float, str]]:
    """Words of ``text`` spoken at a steady pace from ``start_s``."""
    return [
        (round(start_s + i * step_s, 3), round(start_s + i * step_s + step_s - 0.05, 3), w)
        for i, w in enumerate(text.split())
    ]


def test_a_pause_after_the_does_not_end_a_sentence() -> None:
    items = steady("It is a lightweight laptop and the", 0.0)
    items += steady("base model costs $899.", items[-1][1] + 0.9)
    spans = sentences_from_words(timed(*items))
    assert [s.text for s in spans] == ["It is a lightweight laptop and the base model costs $899."]


def test_a_capitalised_word_after_a_pause_starts_the_next_sentence() -> None:
    items = steady("The new codec improves playback", 0.0)
    items += [(items[-1][1] + 1.0, items[-1][1] + 1.3, "Thank")]
    items += steady("you for watching.", items[-1][1] + 0.9)
    spans = sentences_from_words(timed(*items))
    assert [s.text for s in spans] == [
        "The new codec improves playback",
        "Thank you for watching.",
    ]


def test_a_word_whisper_timed_across_a_long_silence_joins_the_next_sentence() -> None:
    # as Whisper times a demo narration: "the" and "Thank" stuck to the end of the sentence
    # before a 4 s silence, although they are read with the next one
    words = timed(
        *steady("Welcome to the launch of our new lightweight laptop", 0.5),
        (3.55, 3.7, "the"),
        *steady("base model costs $899", 8.6),
        (9.8, 9.95, "Thank"),  # starts before "$899" ends (9.95): squeezed onto it
        *steady("you for watching", 16.0),
        *steady("We went to Paris", 20.0),  # a capitalised last word that is not squeezed
        *steady("and then home.", 23.0),
    )
    spans = sentences_from_words(words)
    assert [s.text for s in spans] == [
        "Welcome to the launch of our new lightweight laptop",
        "the base model costs $899",
        "Thank you for watching",
        "We went to Paris",
        "and then home.",
    ]
    the = spans[1].words[0]
    assert the.end_s == 8.6 and 8.1 <= the.start_s < 8.6  # moved to just before "base"
    assert spans[0].end_s < 4.0


def test_a_run_on_without_punctuation_is_split_into_whole_phrases() -> None:
    text = (
        "so today we are going to look at the new laptop from the company and the price of "
        "the base model and the battery life which is much better than the old one"
    )
    head, tail = text.split(" and the battery")
    items = steady(head, 0.0, step_s=0.45)
    # a natural breath (0.5 s) before "and the battery"
    items += steady("and the battery" + tail, items[-1][1] + 0.55, step_s=0.45)
    words = timed(*items)
    spans = sentences_from_words(words)
    assert len(spans) >= 2
    for span in spans:
        assert span.end_s - span.start_s <= 12.0
        assert span.text.split()[-1] not in {"the", "of", "and", "a", "from"}
        assert len(span.text.split()) >= 3
    assert any(s.text.endswith("base model") for s in spans)


def test_chinese_whisper_words_join_without_spaces_and_split_at_cjk_ends() -> None:
    items = [
        (0.0, 0.3, "大家"), (0.3, 0.5, "好，"), (0.6, 0.9, "今天"), (0.9, 1.2, "我们"),
        (1.2, 1.5, "发布"), (1.5, 1.7, "新"), (1.7, 2.1, "手机。"), (2.3, 2.5, "它"),
        (2.5, 2.6, "的"), (2.6, 2.9, "价格"), (2.9, 3.1, "是"), (3.1, 3.6, "899"),
        (3.6, 4.0, "美元！"),
    ]  # fmt: skip
    spans = sentences_from_words(timed(*items))
    assert [s.text for s in spans] == ["大家好，今天我们发布新手机。", "它的价格是899美元！"]
    assert (spans[1].start_s, spans[1].end_s) == (2.3, 4.0)


def test_split_sentences_cjk_ends_and_long_clauses() -> None:
    assert split_sentences("你好。今天下雨！Hello there. Bye 4.2 million. 走吧") == [
        "你好。", "今天下雨！", "Hello there.", "Bye 4.2 million.", "走吧",
    ]  # fmt: skip
    long = "这是一个很长的句子，它包含了很多从句，每一个从句都在讲述不同的故事，我们需要把它切短，这样搜索才能找到准确的位置。"
    parts = split_sentences(long, max_chars=20)
    assert len(parts) >= 3 and "".join(parts) == long
    assert all(p.endswith(("，", "。")) for p in parts)  # cut at clause marks
    spans = split_text_sentences(10.0, 14.0, "你好。今天下雨！")
    assert [s.text for s in spans] == ["你好。", "今天下雨！"]
    assert spans[0].start_s == 10.0 and spans[-1].end_s == 14.0


def test_join_and_shorten_never_cut_inside_a_word() -> None:
    assert join_words(["你好", "，", "世界", "iPhone", "发布会", "is", "great", "."]) == (
        "你好，世界 iPhone 发布会 is great."
    )
    short = shorten("他在雨夜重逢了多年未见的老朋友，两个人在车站哭了很久很久", 12)
    assert short.endswith("…") and short[:-1] in "他在雨夜重逢了多年未见的老朋友"
    assert "雨夜重逢" in short or short[:-1].endswith(("雨夜", "重逢", "朋友", "未见"))
    english = shorten("The base model costs eight hundred dollars and ships next week", 6)
    assert english == "The base model costs eight hundred…"
    assert shorten("short text", 6) == "short text"


# --- sidecar subtitles -----------------------------------------------------------------------
ASS = """[Script Info]
ScriptType: v4.00+

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,2,2,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,{\\i1}你好{\\i0}，世界\\N第二行
Comment: 0,0:00:03.00,0:00:04.50,Default,,0,0,0,,a comment, not a cue
Dialogue: 0,0:00:05.00,0:00:06.00,Default,,0,0,0,,{\\an8}雨夜重逢
"""


def test_chinese_sidecars_are_found_and_read(tmp_path: Path) -> None:
    video = tmp_path / "drama 1.mp4"
    video.write_bytes(b"0")
    gbk = "1\n00:00:01,000 --> 00:00:02,000\n你好，世界\n".encode("gbk")
    (tmp_path / "drama 1.zh-CN.srt").write_bytes(gbk)
    found = find_sidecar(video)
    assert found == tmp_path / "drama 1.zh-CN.srt"
    assert parse_subtitles(found) == [Cue(1.0, 2.0, "你好，世界")]  # GBK decoded
    assert sidecar_language(video, found) == "zh"
    (tmp_path / "drama 1.en.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nhello\n")
    assert find_sidecar(video) == tmp_path / "drama 1.en.srt"  # English first by default
    assert find_sidecar(video, ["zh"]) == tmp_path / "drama 1.zh-CN.srt"  # the forced language
    (tmp_path / "drama 1.zh-CN.srt").unlink()
    (tmp_path / "drama 1.chs.ass").write_text(ASS, encoding="utf-8")
    assert find_sidecar(video, ["zh"]) == tmp_path / "drama 1.chs.ass"
    assert parse_subtitles(tmp_path / "drama 1.chs.ass") == [
        Cue(1.0, 2.5, "你好，世界第二行"),  # tags gone, CJK lines joined without a space
        Cue(5.0, 6.0, "雨夜重逢"),
    ]
    (tmp_path / "drama 1.en.srt").unlink()
    (tmp_path / "drama 1.chs.ass").rename(tmp_path / "drama 1.zh.ass")
    assert find_sidecar(video) == tmp_path / "drama 1.zh.ass"
    assert cue_language(parse_subtitles(find_sidecar(video))) == "zh"
    assert cue_language([Cue(0, 1, "hello there")]) == ""


def test_srt_writer_round_trips_cjk_and_braces(tmp_path: Path) -> None:
    cues = [Cue(0.0, 1.5, "雨夜重逢"), Cue(2.0, 3.0, "{not a tag} 17%")]
    text = format_srt(cues)
    assert text.startswith("1\n00:00:00,000 --> 00:00:01,500\n雨夜重逢\n")
    assert parse_subtitle_text(text) == cues


def test_abbreviations_and_hyphenated_tokens_from_whisper() -> None:
    # real Whisper output (a LibriVox reading): "Mr." does not end the sentence, and the
    # "-disposed" token continues "ill"
    items = [
        (0.3, 0.5, "And"), (0.5, 0.6, "Mr."), (0.7, 1.1, "John"), (1.1, 1.6, "Dashwood"),
        (1.6, 1.9, "was"), (1.9, 2.0, "not"), (2.0, 2.1, "an"), (2.1, 2.3, "ill"),
        (2.3, 2.8, "-disposed"), (2.8, 3.0, "young"), (3.0, 3.3, "man."), (4.0, 4.2, "He"),
        (4.2, 4.5, "left."),
    ]  # fmt: skip
    spans = sentences_from_words(timed(*items))
    assert [s.text for s in spans] == [
        "And Mr. John Dashwood was not an ill-disposed young man.",
        "He left.",
    ]


def test_chinese_compound_topics_split_into_facets_at_whole_word_conjunctions() -> None:
    from scenespark.highlights.facets import topic_facets

    assert topic_facets("价格和电池") == ["价格和电池", "价格", "电池"]
    assert topic_facets("男主求婚，两人在雨中分手") == [
        "男主求婚，两人在雨中分手", "男主求婚", "两人在雨中分手",
    ]  # fmt: skip
    assert topic_facets("和平") == ["和平"]  # 和 inside a word is not a conjunction
    assert topic_facets("iPhone和iPad") == ["iPhone和iPad", "iPhone", "iPad"]
    assert topic_facets("space and rockets") == ["space and rockets", "space", "rockets"]


def test_llm_label_truncation_never_cuts_inside_a_word() -> None:
    from scenespark.highlights.llm import sanitize_text

    assert sanitize_text("The base model costs eight hundred", 20) == "The base model…"
    cut = sanitize_text("他在雨夜的车站重逢了多年未见的老朋友", 10)
    assert cut == "他在雨夜的车站重逢…"
    assert sanitize_text("short", 20) == "short"


def test_traditional_and_simplified_chinese_match_each_other() -> None:
    from scenespark.language.chinese_script import is_traditional, to_simplified

    assert to_simplified("關於貓的視頻") == "关于猫的视频" and is_traditional("貓")
    assert not is_traditional("猫") and to_simplified("cats") == "cats"
    assert tokenize("兩萬個觀眾") == tokenize("两万个观众") == ["20000", "观众"]
    assert tokenize("雨夜重逢") == tokenize("雨夜重逢")
    # the topic keeps the user's script
    parsed = parse_prompt("來一段大約十五秒的貓咪集錦")
    assert (parsed.topic, parsed.target_duration_s) == ("貓咪", 15.0)
    intent = understand("他們什麼時候提到貓？")
    assert (intent.topic, intent.hint) == ("貓", Modality.SPEECH)
    # Traditional text is segmented as well as Simplified, in its own characters
    from scenespark.language.segment import segment_han

    assert segment_han("多年未見的老朋友") == ["多年未見", "的", "老朋友"]
