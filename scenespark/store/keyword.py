"""BM25 keyword index over the active text segments (speech, OCR, visual tagger labels).

The exact/keyword signal of docs/architecture.md §6: names, numbers and on-screen strings that embeddings
blur ("GATE B12", "4.2 million", "Q3"). Tokenisation lives in :mod:`scenespark.language.tokenize`.

Scores. ``raw_score`` is the BM25 score (bm25s, Lucene variant, k1=1.5, b=0.75): unbounded and
only comparable within one query. ``score`` is normalised to 0..1 as the idf-weighted fraction of
the distinct query terms present in the segment::

    score = Σ_{t ∈ q, t ∈ doc} idf(t) / Σ_{t ∈ q} idf(t)
    idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))

so a segment containing every query term scores 1, one missing a rare term (a number, a name)
loses most of its score, and a query whose terms are all absent scores 0 (nothing is returned).
Terms unknown to the library count with df = 0 (the highest idf). Results are ranked by ``score``,
then ``raw_score`` (term frequency and length normalisation break ties).

Kept on disk. A server saves each index it builds in ``<home>/keyword/`` under the catalog's
generation (the counter every run commit bumps) and the catalog file's identity; a process that
starts on an unchanged library loads it instead of reading and tokenising every segment again.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import shutil
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from scenespark.language.tokenize import tokenize
from scenespark.types import Modality, Segment

if TYPE_CHECKING:
    from scenespark.store.catalog import Catalog

log = logging.getLogger(__name__)

SAVED_FORMAT = 1  # bump when what save() writes changes: other formats are rebuilt
SAVED_META = "keyword-index.json"
SAVED_ARRAYS = "codes.npz"
SAVED_BM25 = "bm25"


@dataclass
class KeywordMatch:
    segment_id: str
    score: float  # 0..1, idf-weighted share of the query terms present (see module docstring)
    raw_score: float  # BM25
    video_id: str = ""
    modality: str = ""


class KeywordIndex:
    """An immutable BM25 index; build a new one when the library changes."""

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._video_ids: list[str] = []
        self._video_codes = np.zeros(0, dtype=np.int32)
        self._modality_codes = np.zeros(0, dtype=np.int8)
        self._vocab: dict[str, int] = {}
        self._df = np.zeros(0, dtype=np.int64)
        self._bm25: object | None = None
        self._terms: dict[str, tuple[str, ...]] = {}  # tuples of str: not tracked by the GC
        self.generation = -1

    def __len__(self) -> int:
        return len(self._ids)

    @classmethod
    def build(cls, segments: Sequence[tuple[str, Segment]] | Sequence[Segment]) -> KeywordIndex:
        """Index ``(segment_id, segment)`` pairs (or segments carrying ``segment_id``)."""
        rows: list[tuple[str, str, str, str]] = []
        for item in segments:
            seg_id, seg = (item.segment_id, item) if isinstance(item, Segment) else item
            rows.append((seg_id, seg.video_id, Modality(seg.modality).value, seg.text))
        return cls.from_rows(rows)

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[tuple[str, str, str, str]],
        previous: KeywordIndex | None = None,
    ) -> KeywordIndex:
        """Index ``(segment_id, video_id, modality, text)`` rows (see ``Catalog.segment_texts``).

        Segment ids are immutable (``run_id:index``), so the terms of segments already in
        ``previous`` are reused instead of tokenised again: a rebuild after one commit only
        tokenises the new run's segments.
        """
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets itself to DEBUG on import

        index = cls()
        video_codes: dict[str, int] = {}
        modality_codes = {m.value: i for i, m in enumerate(Modality)}
        corpus: list[list[int]] = []
        vids: list[int] = []
        mods: list[int] = []
        vocab = index._vocab
        known = previous._terms if previous is not None else None
        for seg_id, video_id, modality, text in rows:
            terms = known.get(seg_id) if known else None
            if terms is None:
                terms = tuple(tokenize(text))
            if not terms:
                continue
            index._terms[seg_id] = terms
            corpus.append([vocab.setdefault(term, len(vocab)) for term in terms])
            index._ids.append(seg_id)
            vids.append(video_codes.setdefault(video_id, len(video_codes)))
            mods.append(modality_codes[modality])
        index._video_ids = list(video_codes)
        index._video_codes = np.asarray(vids, dtype=np.int32)
        index._modality_codes = np.asarray(mods, dtype=np.int8)
        if not corpus:
            return index
        df = np.zeros(len(vocab), dtype=np.int64)
        for doc in corpus:
            df[list(set(doc))] += 1
        index._df = df
        retriever = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
        retriever.index(
            bm25s.tokenization.Tokenized(ids=corpus, vocab=dict(vocab)), show_progress=False
        )
        index._bm25 = retriever
        return index

    def save(self, folder: Path, *, stamp: str) -> None:
        """Write the index to ``folder`` (replaced whole, atomically); ``stamp`` says which
        library state it indexes (:meth:`load` returns None for any other)."""
        partial = folder.with_name(f".{folder.name}.{os.getpid()}.{threading.get_ident()}.partial")
        # what a killed save left (one server per library: the writer lock)
        for leftover in folder.parent.glob(f".{folder.name}.*"):
            shutil.rmtree(leftover, ignore_errors=True)
        partial.mkdir(parents=True)
        try:
            if self._bm25 is not None:
                self._bm25.save(str(partial / SAVED_BM25), show_progress=False)  # type: ignore[attr-defined]
            np.savez(
                partial / SAVED_ARRAYS,
                video_codes=self._video_codes,
                modality_codes=self._modality_codes,
                df=self._df,
            )
            meta = {
                "format": SAVED_FORMAT,
                "stamp": stamp,
                "generation": self.generation,
                "ids": self._ids,
                "video_ids": self._video_ids,
                "vocab": self._vocab,
            }
            (partial / SAVED_META).write_text(json.dumps(meta), encoding="utf-8")
            old = folder.with_name(f".{folder.name}.{os.getpid()}.old")
            with contextlib.suppress(FileNotFoundError):
                folder.rename(old)
            partial.rename(folder)
            shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise

    @classmethod
    def load(cls, folder: Path, *, stamp: str) -> KeywordIndex | None:
        """The index saved in ``folder`` for ``stamp``; None when there is none, it indexes
        another library state, or it cannot be read (the caller builds a new one)."""
        try:
            meta = json.loads((folder / SAVED_META).read_text(encoding="utf-8"))
            if meta.get("format") != SAVED_FORMAT or meta.get("stamp") != stamp:
                return None
            index = cls()
            index._ids = list(meta["ids"])
            index._video_ids = list(meta["video_ids"])
            index._vocab = {str(k): int(v) for k, v in meta["vocab"].items()}
            index.generation = int(meta["generation"])
            with np.load(folder / SAVED_ARRAYS) as arrays:
                index._video_codes = arrays["video_codes"].astype(np.int32)
                index._modality_codes = arrays["modality_codes"].astype(np.int8)
                index._df = arrays["df"].astype(np.int64)
            if index._ids:
                import bm25s

                logging.getLogger("bm25s").setLevel(logging.WARNING)
                index._bm25 = bm25s.BM25.load(str(folder / SAVED_BM25), load_vocab=False)
            if not (len(index._ids) == len(index._video_codes) == len(index._modality_codes)):
                raise ValueError("the saved arrays disagree with the saved ids")
            return index
        except FileNotFoundError:
            return None
        except Exception as exc:  # damaged or from another bm25s: rebuild, never fail a search
            log.warning(
                "the saved keyword index in %s is unusable (%s): rebuilding it", folder, exc
            )
            return None

    def _idf(self, df: int) -> float:
        n = len(self._ids)
        return float(np.log1p((n - df + 0.5) / (df + 0.5)))

    def search(
        self,
        query: str,
        *,
        top_k: int = 20,
        modalities: Sequence[Modality | str] | None = None,
        video_ids: Sequence[str] | None = None,
    ) -> list[KeywordMatch]:
        """Best segments for ``query``, best first.

        Returns [] for an empty library or a query without indexable words.
        """
        terms = list(dict.fromkeys(tokenize(query)))
        if not terms or self._bm25 is None or top_k <= 0:
            return []
        n = len(self._ids)
        idf = np.array(
            [self._idf(int(self._df[self._vocab[t]]) if t in self._vocab else 0) for t in terms]
        )
        total_idf = float(idf.sum())
        coverage = np.zeros(n, dtype=np.float32)
        raw = np.zeros(n, dtype=np.float32)
        for term, weight in zip(terms, idf, strict=True):
            token_id = self._vocab.get(term)
            if token_id is None:
                continue
            scores = self._bm25.get_scores_from_ids([token_id])  # type: ignore[attr-defined]
            raw += scores
            coverage += (scores > 0).astype(np.float32) * np.float32(weight / total_idf)
        mask = raw > 0
        if modalities is not None:
            codes = {
                i
                for i, m in enumerate(Modality)
                if m.value in {Modality(x).value for x in modalities}
            }
            mask &= np.isin(self._modality_codes, list(codes))
        if video_ids is not None:
            wanted = [i for i, v in enumerate(self._video_ids) if v in set(video_ids)]
            mask &= np.isin(self._video_codes, wanted)
        candidates = np.flatnonzero(mask)
        if candidates.size == 0:
            return []
        order = np.lexsort((-raw[candidates], -coverage[candidates]))[:top_k]
        modality_names = [m.value for m in Modality]
        return [
            KeywordMatch(
                segment_id=self._ids[i],
                score=float(min(1.0, coverage[i])),
                raw_score=float(raw[i]),
                video_id=self._video_ids[self._video_codes[i]],
                modality=modality_names[self._modality_codes[i]],
            )
            for i in candidates[order]
        ]


class KeywordCache:
    """The keyword index of a catalog's active segments, rebuilt when ``generation()`` changes.

    ``background=False`` (default): a search after a change waits for the rebuild (always fresh).
    ``background=True`` (servers): once an index exists, a change starts a rebuild in a thread and
    searches keep using the previous index until it is done, so no request waits for a rebuild;
    callers must then resolve ids with ``Catalog.get_segments`` (which drops inactive ones).
    """

    def __init__(
        self, catalog: Catalog, *, background: bool = False, folder: Path | None = None
    ) -> None:
        """``folder``: where indexes are kept across processes: loaded from there when the
        library has not changed since, and saved there (by ``background`` caches: servers)."""
        self.catalog = catalog
        self.background = background
        self.folder = folder
        self._lock = threading.Lock()
        self._index: KeywordIndex | None = None
        self._rebuilding: threading.Thread | None = None
        self._saving: threading.Thread | None = None

    def _stamp(self, generation: int) -> str:
        """The library state an index on disk must match: the generation, and the catalog
        file's identity (a replaced or restored catalog may repeat a generation)."""
        try:
            info = os.stat(self.catalog.path)
        except OSError:
            return f"{generation}"
        return f"{generation}:{info.st_dev}:{info.st_ino}"

    def _rebuild(self, generation: int) -> KeywordIndex:
        with self._lock:
            current = self._index
            if current is not None and current.generation >= generation:
                return current
            stamp = self._stamp(generation)
            built = None
            if current is None and self.folder is not None:
                built = KeywordIndex.load(self.folder, stamp=stamp)
            if built is None:
                # The generation is read before the segments: a commit in between only causes
                # an extra rebuild next time, never a stale index marked as fresh.
                built = KeywordIndex.from_rows(self.catalog.segment_texts(), previous=current)
                built.generation = generation
                if self.background and self.folder is not None:
                    self._save_later(built, stamp)
            self._index = built
        _settle_heap()
        return built

    def _save_later(self, index: KeywordIndex, stamp: str) -> None:
        """Save in a thread of its own: no search waits for the disk."""
        folder = self.folder
        assert folder is not None

        previous = self._saving

        def save() -> None:
            if previous is not None:  # saves land in the order the indexes were built
                previous.join()
            try:
                index.save(folder, stamp=stamp)
            except Exception as exc:  # a full or read-only disk costs the next start a rebuild
                log.warning("could not save the keyword index in %s: %s", folder, exc)

        thread = threading.Thread(target=save, name="keyword-save", daemon=True)
        self._saving = thread
        thread.start()

    def index(self) -> KeywordIndex:
        generation = self.catalog.generation()
        current = self._index
        if current is not None and current.generation == generation:
            return current
        if not self.background or current is None:
            return self._rebuild(generation)
        running = self._rebuilding
        if running is None or not running.is_alive():
            thread = threading.Thread(
                target=self._rebuild, args=(generation,), name="keyword-rebuild", daemon=True
            )
            self._rebuilding = thread
            thread.start()
        return current

    def wait(self, timeout_s: float | None = None) -> None:
        """Wait for a background rebuild (and its saving) to finish (tests, shutdown)."""
        if self._rebuilding is not None:
            self._rebuilding.join(timeout_s)
        if self._saving is not None:  # started by the rebuild: read after it ends
            self._saving.join(timeout_s)

    def search(
        self,
        query: str,
        *,
        top_k: int = 20,
        modalities: Sequence[Modality | str] | None = None,
        video_ids: Sequence[str] | None = None,
    ) -> list[KeywordMatch]:
        return self.index().search(query, top_k=top_k, modalities=modalities, video_ids=video_ids)


def _settle_heap() -> None:
    """Move the long-lived index (and everything else alive now) out of the cyclic GC's view.

    A large library keeps ~10^6 small objects alive; without this, every full collection walks
    them all and stalls a search for hundreds of milliseconds (measured at 100 h: p95 474 ms
    → ~150 ms). Frozen objects are still freed by reference counting when dropped; the
    unfreeze + collect first lets cyclic garbage from before go.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
