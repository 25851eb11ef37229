"""Dense similarities made comparable across models and languages, and "nothing found".

Raw cosine means different things per model (multilingual-e5 puts unrelated texts at ~0.75,
MiniLM at ~0.05) and per language pair. So each query is scored against a *background*: the
same query's similarities to generic probe passages (:mod:`scenespark.search.background_texts`)
in the language of the matched passage. A similarity becomes a z-score over that background
(median and MAD, so a probe that happens to be on-topic does not move it), and the z-score is
mapped to 0..1 between two anchors measured on the probes once per model:

* ``noise_z`` (score 0): how far the best of the ~50 unrelated probes rises above the
  background for a typical query (median over the probe queries, leave-one-out), moved to the
  size of the searched library by the extreme-value growth sqrt(2 ln n);
* ``match_z`` (score 1): the median z of a probe's translation (English <-> Chinese) against
  the other probes of its language, i.e. what a clear match looks like for this model.

Nothing is fitted to any evaluation query: the anchors come from the model and the probes,
so a query about something absent, whose best passage is only as far above the background as
unrelated text gets, scores near 0 in every language and is dropped by ``search_min_score``.
Tagger labels ("a picture of tabby cat") get a background of ImageNet label phrases.

A model whose translations do not stand out from unrelated text (a monolingual English model
such as all-MiniLM-L6-v2) has no meaningful match anchor: it keeps raw-cosine ranges set from
how that model family behaves (:data:`TEXT_SIM_RANGE`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scenespark.language.scripts import dominant_language
from scenespark.models.base import TextEmbedder
from scenespark.search.background_texts import LANGUAGES, PROBES

# Raw-cosine ranges for models without a cross-lingual anchor (sentence-transformers MiniLM
# family: unrelated < 0.2, paraphrase > 0.6; tagger labels are terse: demand a bit more).
TEXT_SIM_RANGE = (0.20, 0.62)
LABEL_SIM_RANGE = (0.25, 0.65)
REVISION = 3  # bumped when the measurement changes: cached calibrations are measured again
LABEL_LANGUAGE = "label"
MIN_SPREAD_Z = 1.0  # the anchors are at least this far apart (a model with no cross-lingual match)
MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution -> its standard deviation
LABEL_PROBES = 56


def language_of(text: str) -> str:
    """The background a passage is compared with: "zh" for CJK text, else "en"."""
    return "en" if dominant_language(text) == "en" else "zh"


def robust_stats(similarities: np.ndarray) -> tuple[float, float]:
    """(median, sigma from the MAD) of a background; sigma never collapses to 0."""
    median = float(np.median(similarities))
    mad = float(np.median(np.abs(similarities - median)))
    spread = max(MAD_TO_SIGMA * mad, 0.1 * float(np.std(similarities)), 1e-4)
    return median, spread


def expected_max_z(count: int) -> float:
    """Where the best of ``count`` unrelated scores lands, in standard deviations (the usual
    extreme-value growth, sqrt(2 ln n)): more passages, higher chance noise looks like a hit."""
    return math.sqrt(2.0 * math.log(max(count, 2)))


@dataclass(frozen=True)
class Anchors:
    noise_z: float  # the best unrelated probe passage, typical query (median over probe queries)
    match_z: float  # a translation of the query (median over probe queries)
    probe_count: int  # how many passages ``noise_z`` was the best of

    @property
    def cross_lingual(self) -> bool:
        """Whether a translation clearly beats unrelated text: the z-scale is then meaningful.

        A monolingual model (all-MiniLM-L6-v2) fails this; it keeps raw-cosine ranges."""
        return self.match_z >= self.noise_z + MIN_SPREAD_Z

    def noise_for(self, passages: int) -> float:
        """``noise_z`` moved up to a library of more than ``probe_count`` passages.

        Only up: below the probe count the measured value stands (a Gaussian tail model is not
        trusted to make a tiny library more lenient than what was measured)."""
        growth = expected_max_z(passages) - expected_max_z(self.probe_count)
        return self.noise_z + max(0.0, growth)

    def score(self, z: float, passages: int) -> float:
        low = self.noise_for(passages)
        high = max(self.match_z, low + MIN_SPREAD_Z)
        return min(1.0, max(0.0, (z - low) / (high - low)))


@dataclass(frozen=True)
class QueryCalibration:
    """One query's backgrounds; ``score`` maps a similarity to a calibrated 0..1."""

    stats: dict[str, tuple[float, float]]
    anchors: Anchors
    passages: int  # library passages in the searched scope

    def z(self, similarity: float, language: str) -> float:
        median, sigma = self.stats.get(language) or self.stats["en"]
        return (similarity - median) / sigma

    def score(self, similarity: float, text: str, *, is_label: bool = False) -> float:
        if not self.anchors.cross_lingual:
            low, high = LABEL_SIM_RANGE if is_label else TEXT_SIM_RANGE
            return min(1.0, max(0.0, (similarity - low) / (high - low)))
        language = LABEL_LANGUAGE if is_label and LABEL_LANGUAGE in self.stats else None
        return self.anchors.score(self.z(similarity, language or language_of(text)), self.passages)


@dataclass(frozen=True)
class ModelCalibration:
    """Probe passages of one text model, embedded once, and the anchors measured on them."""

    backgrounds: dict[str, np.ndarray]  # language (or "label") -> probe passage vectors
    anchors: Anchors

    def for_query(self, query_vector: np.ndarray, passages: int) -> QueryCalibration:
        """``passages``: how many text passages the search looks through."""
        vector = np.asarray(query_vector, dtype=np.float32)
        stats = {lang: robust_stats(bg @ vector) for lang, bg in self.backgrounds.items()}
        return QueryCalibration(stats=stats, anchors=self.anchors, passages=passages)


def _embed_queries(embedder: TextEmbedder, texts: list[str]) -> np.ndarray:
    batch = getattr(embedder, "embed_queries", None)
    if callable(batch):
        return np.asarray(batch(texts), dtype=np.float32)
    return np.stack([embedder.embed_query(text) for text in texts])


def measure(embedder: TextEmbedder) -> ModelCalibration:
    """Embed the probes with ``embedder`` and measure its anchors (a few seconds per model)."""
    backgrounds: dict[str, np.ndarray] = {}
    queries: dict[str, np.ndarray] = {}
    for column, language in enumerate(LANGUAGES):
        texts = [row[column] for row in PROBES]
        backgrounds[language] = embedder.embed_texts(texts)
        queries[language] = _embed_queries(embedder, texts)
    labels = _label_probes()
    if labels:
        backgrounds[LABEL_LANGUAGE] = embedder.embed_texts(labels)
    noise: list[float] = []
    matches: list[float] = []
    for source in LANGUAGES:
        for target in LANGUAGES:
            sims = queries[source] @ backgrounds[target].T
            for i in range(len(PROBES)):
                others = np.delete(sims[i], i)
                median, sigma = robust_stats(others)
                noise.append((float(others.max()) - median) / sigma)
                if source != target:  # a translation: a clear match that is not a copy
                    matches.append((float(sims[i, i]) - median) / sigma)
    anchors = Anchors(
        noise_z=float(np.median(noise)),
        match_z=float(np.median(matches)) if matches else math.inf,
        probe_count=len(PROBES) - 1,
    )
    return ModelCalibration(backgrounds=backgrounds, anchors=anchors)


def _probe_digest() -> str:
    digest = hashlib.sha256(json.dumps([REVISION, PROBES, _label_probes()]).encode())
    return digest.hexdigest()[:12]


def _cache_path(folder: Path, embedder: TextEmbedder) -> Path:
    info = embedder.info
    key = hashlib.sha256(f"{info.backend}|{info.name}|{info.version}".encode()).hexdigest()[:16]
    return folder / f"text-{key}-{_probe_digest()}.npz"


def _read(path: Path) -> ModelCalibration | None:
    try:
        with np.load(path) as data:
            backgrounds = {
                name[3:]: np.asarray(data[name], dtype=np.float32)
                for name in data.files
                if name.startswith("bg_")
            }
            noise_z, match_z, probe_count = (float(x) for x in data["anchors"])
    except (OSError, ValueError, KeyError):
        return None  # unreadable or from another layout: measured again
    if not backgrounds or "en" not in backgrounds:
        return None
    return ModelCalibration(
        backgrounds=backgrounds, anchors=Anchors(noise_z, match_z, int(probe_count))
    )


def _write(path: Path, calibration: ModelCalibration) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"bg_{name}": vectors for name, vectors in calibration.backgrounds.items()}
    found = calibration.anchors
    anchors = np.asarray([found.noise_z, found.match_z, found.probe_count], dtype=np.float64)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial.npz")
    np.savez(partial, anchors=anchors, **arrays)
    os.replace(partial, path)  # readers never see half a file


# A model known to be monolingual (the bundled MiniLM) is not measured: raw-cosine ranges.
RAW_COSINE = ModelCalibration(backgrounds={}, anchors=Anchors(0.0, 0.0, 0))

_cache: dict[tuple[str, str, str], ModelCalibration] = {}
_kept: set[tuple[tuple[str, str, str], Path]] = set()  # (model, folder) known to hold its file
_cache_lock = threading.Lock()


def calibration_for(
    embedder: TextEmbedder, folder: Path | None = None, *, monolingual: bool = False
) -> ModelCalibration:
    """The calibration of a text model: kept per process, and in ``folder`` across processes
    (keyed by the model's name and fingerprint and by the probe texts), measured on first use.
    ``monolingual``: the model is known to cover one language only (nothing to measure)."""
    if monolingual:
        return RAW_COSINE
    info = embedder.info
    key = (info.backend, info.name, info.version)
    with _cache_lock:
        found = _cache.get(key)
        if found is not None and (folder is None or (key, folder) in _kept):
            return found  # the per-query path: no file system access
        path = _cache_path(folder, embedder) if folder is not None else None
        if found is None and path is not None and path.is_file():
            found = _read(path)
        if found is None:
            found = measure(embedder)
        if path is not None and not path.is_file():
            # a read-only home measures again next time; search still works
            with contextlib.suppress(OSError):
                _write(path, found)
        if folder is not None:
            _kept.add((key, folder))
        _cache[key] = found
        return found


def _label_probes() -> list[str]:
    """Evenly spread ImageNet labels, phrased as the indexer embeds tagger labels."""
    try:
        from scenespark.models.imagenet_labels import imagenet_labels

        labels = imagenet_labels()
    except Exception:  # the tagger's package is optional: labels then use the English background
        return []
    if not labels:
        return []
    step = max(1, len(labels) // LABEL_PROBES)
    return [f"a picture of {', '.join(label.terms())}" for label in labels[::step][:LABEL_PROBES]]
