"""Clip labels in the language of the material, and the LLM told the prompt's language."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scenespark.config import Settings
from scenespark.highlights.candidates import BoundaryIndex, Candidate
from scenespark.highlights.labels import reason_for, reel_title, tags_for, title_for, tokens
from scenespark.highlights.llm import LLMPlanner, build_messages, request_language
from scenespark.highlights.planner import plan_highlight
from scenespark.types import HighlightRequest
from tests.fake_openai import FakeOpenAI


def cand(cid: str, transcript: str = "", **kw: object) -> Candidate:
    return Candidate(
        candidate_id=cid, video_id="v", start_s=0.0, end_s=5.0, score=0.8, transcript=transcript,
        **kw,  # type: ignore[arg-type]
    )  # fmt: skip


# --- tags ------------------------------------------------------------------------------------
def test_english_tags_are_words_or_phrases_never_fragments() -> None:
    said = (
        "Finally the base model costs 899 dollars, near the price of the old one. "
        "The base model ships with a con of short battery life. The battery life is the catch."
    )
    tags = tags_for([cand("c1", said)], topic="the price and the battery")
    for bad in ("con", "near", "finally", "the", "of", "one"):
        assert bad not in tags
    assert tags[0] in ("price", "battery")  # topic words come first
    assert "battery life" in tags or "battery" in tags
    assert "base model" in tags  # a recurring phrase is one tag
    assert all(len(t) >= 3 for t in tags)


def test_chinese_tags_are_words_not_characters_or_sentences() -> None:
    said = "今天我们发布一款新手机。新手机的价格是899美元，电池可以用两天。电池很大。"
    tags = tags_for([cand("c1", said)], topic="价格和电池")
    assert tags[:2] == ["价格", "电池"] or tags[:2] == ["电池", "价格"]
    assert all(len(t) >= 2 for t in tags)  # no single characters
    assert all(t not in ("我们", "今天", "可以", "的") for t in tags)  # no function words
    assert all(len(t) <= 8 for t in tags)  # words or short phrases, never sentence fragments
    assert "手机" in tags or "新手机" in tags


def test_tokens_for_labels_segment_chinese() -> None:
    assert tokens("他在雨夜重逢了她") == ["雨夜", "重逢"]
    assert tokens("The lion roars") == ["lion", "roars"]


# --- titles and reasons ----------------------------------------------------------------------
def test_titles_keep_whole_words_in_every_language() -> None:
    english = title_for(cand("c1", "The base model costs eight hundred and ninety nine dollars."))
    assert english == "The base model costs eight hundred and ninety…"
    chinese = title_for(
        cand("c2", "他在雨夜的车站重逢了多年未见的老朋友，两个人哭了很久。然后他们一起回家了。")
    )
    assert chinese.endswith("…") and chinese.startswith("他在雨夜")
    assert "然后" not in chinese  # only the first sentence
    body = chinese[:-1]
    assert body.endswith(("老朋友", "未见", "重逢", "车站", "朋友")), chinese  # a word boundary
    assert title_for(cand("c3", "雨夜重逢。")) == "雨夜重逢"


def test_reasons_and_reel_titles_follow_the_material_language() -> None:
    zh = reason_for(cand("c1", "电池可以用两天", modality_scores={"speech": 0.71}))
    assert zh == "匹配语音（0.71）：“电池可以用两天”"
    en = reason_for(cand("c2", "the battery lasts two days", modality_scores={"speech": 0.71}))
    assert en == 'matched speech (0.71): "the battery lasts two days"'
    assert reel_title("进球") == "进球集锦" and reel_title("goals") == "Goals highlights"


def test_deterministic_planner_labels_chinese_material_in_chinese() -> None:
    cands = [
        cand("c1", "新手机的价格是899美元，价格很便宜。", modality_scores={"speech": 0.9}),
        Candidate(
            candidate_id="c2",
            video_id="w",
            start_s=10.0,
            end_s=16.0,
            score=0.85,
            transcript="电池可以用两天，电池很耐用。",
            modality_scores={"speech": 0.85},
        ),
    ]
    boundaries = {v: BoundaryIndex.empty(v, 60.0) for v in ("v", "w")}
    plan = plan_highlight(HighlightRequest(prompt="价格和电池，10秒"), cands, boundaries, llm=None)
    assert plan.target_duration_s == 10.0
    assert plan.title == "价格和电池集锦"
    assert "个片段" in plan.description
    for clip in plan.clips:
        assert clip.reason.startswith("匹配语音")
        assert clip.tags and all(len(t) >= 2 for t in clip.tags)
    assert {"价格", "电池"} <= {t for clip in plan.clips for t in clip.tags}


# --- the LLM is told the prompt's language ---------------------------------------------------
def test_llm_messages_name_the_prompt_language() -> None:
    assert request_language("价格和电池，大约15秒").startswith("Chinese")
    assert request_language("the price and the battery") == "the same language as the request"
    messages = build_messages(HighlightRequest(prompt="关于猫的所有片段"), [cand("c1", "猫")], 30.0)
    assert "Language: Chinese" in messages[1]["content"]
    assert '"Language" line' in messages[0]["content"]


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    try:
        yield server
    finally:
        server.stop()


def test_llm_request_carries_the_language_line(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path, llm_base_url=fake_llm.base_url, llm_model="fake-model", llm_retries=0
    )
    fake_llm.reset("good")
    cands = [cand(f"c{i}", f"电池可以用{i}天", modality_scores={"speech": 0.9}) for i in range(3)]
    boundaries = {"v": BoundaryIndex.empty("v", 60.0)}
    plan_highlight(
        HighlightRequest(prompt="电池的片段，10秒"), cands, boundaries, llm=LLMPlanner(settings)
    )
    user = next(m for m in fake_llm.requests[0]["messages"] if m["role"] == "user")
    content = user["content"] if isinstance(user["content"], str) else str(user["content"])
    assert "Language: Chinese" in content


def test_short_meaningful_words_stay_tags() -> None:
    tags = tags_for([cand("c1", "The cat and the dog play by the sea, finally a con.")])
    assert tags == ["cat", "dog", "play", "sea"]
    assert "TV" in tags_for([cand("c2", "The TV shows the match")], topic="TV")
