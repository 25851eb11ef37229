"""Per-model, per-language calibration of dense scores and the "nothing found" rule.

Pure rules first, then the real multilingual model on texts that are not from any corpus: an
absent topic scores 0 against a small library in Chinese and in English, a present one clears
``search_min_score`` in both languages, and the measured calibration is kept on disk.
"""

from __future__ import annotations

import numpy as np
import pytest

from scenespark.config import load_settings
from scenespark.models.registry import ModelRegistry
from scenespark.search import calibration as cal
from scenespark.search.calibration import (
    Anchors,
    ModelCalibration,
    calibration_for,
    expected_max_z,
    language_of,
    robust_stats,
)

LIBRARY = [
    "早上我们在海边看日出，太阳慢慢升起来了。",
    "下午我在图书馆借了三本关于历史的书。",
    "晚上我们去体育馆看了一场篮球比赛。",
    "海边日出",
    "篮球比赛",
    "The plumber fixed the broken pipe under the kitchen sink.",
    "Our choir sang three songs at the town hall on Sunday.",
    "CITY MARATHON 2025",
]


def test_language_of_reads_the_script() -> None:
    assert language_of("晚上我们去体育馆看了一场篮球比赛。") == "zh"
    assert language_of("第3讲 AI") == "zh"  # mixed, but mostly Han
    assert language_of("The plumber fixed the pipe") == "en"
    assert language_of("2025 - 10:30") == "en"  # no letters at all: the default background


def test_robust_stats_ignore_one_on_topic_probe_and_never_collapse() -> None:
    background = np.array([0.10, 0.12, 0.11, 0.09, 0.10, 0.95])
    median, sigma = robust_stats(background)
    assert 0.09 <= median <= 0.12 and sigma < 0.05  # the 0.95 outlier moves neither much
    assert robust_stats(np.full(5, 0.3))[1] > 0.0


def test_anchor_scores_are_monotonic_and_stricter_for_bigger_libraries() -> None:
    anchors = Anchors(noise_z=2.5, match_z=5.0, probe_count=55)
    assert anchors.noise_for(55) == pytest.approx(2.5)
    assert anchors.score(2.0, 55) == 0.0 and anchors.score(6.0, 55) == 1.0
    assert anchors.score(3.0, 55) < anchors.score(4.0, 55)
    assert anchors.score(4.0, 100_000) < anchors.score(4.0, 55) == anchors.score(4.0, 10)
    assert expected_max_z(1) == expected_max_z(2) > 0
    # a model without a usable match anchor still gets a span of at least MIN_SPREAD_Z
    weak = Anchors(noise_z=3.0, match_z=1.0, probe_count=55)
    assert weak.score(3.0 + cal.MIN_SPREAD_Z, 55) == 1.0


@pytest.fixture(scope="module")
def e5_calibrated(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("cal")
    embedder = ModelRegistry(load_settings(home=home, text_model="e5")).text()
    return embedder, calibration_for(embedder, home / "models"), home / "models"


def _best(embedder, calibration: ModelCalibration, query: str) -> tuple[int, float]:
    vector = embedder.embed_query(query)
    per_query = calibration.for_query(vector, len(LIBRARY))
    sims = embedder.embed_texts(LIBRARY) @ vector
    scores = [per_query.score(float(s), text) for s, text in zip(sims, LIBRARY, strict=True)]
    best = int(np.argmax(scores))
    return best, scores[best]


def test_model_anchors_are_measured_from_the_probes(e5_calibrated) -> None:
    _embedder, calibration, _folder = e5_calibrated
    assert set(calibration.backgrounds) >= {"en", "zh", "label"}
    assert calibration.anchors.match_z > calibration.anchors.noise_z > 0.0
    assert calibration.anchors.cross_lingual


def test_a_monolingual_model_keeps_raw_cosine_ranges(tmp_path) -> None:
    minilm = ModelRegistry(load_settings(home=tmp_path, text_model="minilm")).text()
    measured = cal.measure(minilm)  # what measuring would find: translations do not stand out
    assert not measured.anchors.cross_lingual
    raw = calibration_for(minilm, tmp_path, monolingual=True)
    assert raw is cal.RAW_COSINE and not list(tmp_path.glob("text-*.npz"))
    per_query = raw.for_query(minilm.embed_query("a dog"), 10)
    low, high = cal.TEXT_SIM_RANGE
    assert per_query.score(low, "x") == 0.0 and per_query.score(high, "x") == 1.0
    assert per_query.score(cal.LABEL_SIM_RANGE[0], "x", is_label=True) == 0.0


@pytest.mark.parametrize(
    ("query", "expected"),
    [("看日出", 0), ("sunrise over the sea", 0), ("篮球", 2), ("fixing a leaking pipe", 5)],
)
def test_present_topics_clear_the_minimum_score(e5_calibrated, query: str, expected: int) -> None:
    embedder, calibration, _folder = e5_calibrated
    best, score = _best(embedder, calibration, query)
    assert best in {expected, expected + 3 if expected < 3 else expected}
    assert score >= load_settings().search_min_score, (query, score)


@pytest.mark.parametrize(
    "query", ["火箭发射升空", "外科医生做手术", "a submarine under the arctic ice", "tax forms"]
)
def test_absent_topics_score_below_the_minimum(e5_calibrated, query: str) -> None:
    embedder, calibration, _folder = e5_calibrated
    _best_index, score = _best(embedder, calibration, query)
    assert score < load_settings().search_min_score, (query, score)


def test_calibration_is_kept_on_disk_and_read_back(e5_calibrated, monkeypatch) -> None:
    embedder, calibration, folder = e5_calibrated
    files = list(folder.glob("text-*.npz"))
    assert len(files) == 1
    cal._cache.clear()  # a new process: nothing in memory
    cal._kept.clear()

    def refuse(_embedder):  # reading must not measure again
        raise AssertionError("measured again")

    monkeypatch.setattr(cal, "measure", refuse)
    again = calibration_for(embedder, folder)
    assert again.anchors == calibration.anchors
    assert np.allclose(again.backgrounds["zh"], calibration.backgrounds["zh"])
    files[0].write_bytes(b"not a numpy file")  # a damaged cache is measured again, not trusted
    cal._cache.clear()
    cal._kept.clear()
    monkeypatch.setattr(cal, "measure", lambda e: calibration)
    assert calibration_for(embedder, folder) is calibration
