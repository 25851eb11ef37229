"""Evaluation glue that needs indexing: make sure a dataset's video is indexed, then measure.

:func:`ensure_indexed` is what ``scenespark eval`` hands to :func:`run_evaluation`;
:func:`evaluate_corpus` measures index and retrieval quality on a ``scenespark-eval/1`` dataset,
used by ``bench/corpus_quality.py`` and the corpus acceptance tests: indexes the dataset's video
into the given data dir, then reports speech WER, OCR texts found, shot-cut recall, retrieval
metrics (with baselines) and, optionally, the highlight prompts checked against their scenes.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from scenespark.config import load_settings
from scenespark.engine import Engine
from scenespark.errors import InvalidInputError


def ensure_indexed(engine: Engine, video: Path) -> str:
    """Index ``video`` unless the catalog already holds it; return its video id."""
    from indexer.service import IndexService
    from scenespark.jobs.writer_lock import WriterLock
    from scenespark.media.probe import probe_media

    info = probe_media(video)
    existing = engine.catalog.get_video(info.video_id)
    if existing is not None and existing.counts:
        return info.video_id
    with WriterLock(engine.settings, role="eval"):
        outcome = IndexService(engine).index_file(video)
    if outcome.action == "failed":
        raise InvalidInputError(f"could not index {video.name}: {outcome.message}")
    return info.video_id


def evaluate_dataset(engine: Engine, dataset: Path, *, baselines: bool = False) -> dict:
    """``scenespark eval``: index the dataset's video if needed, then run its queries."""
    from scenespark.evaluation.retrieval import run_evaluation

    return run_evaluation(
        engine, dataset, lambda video: ensure_indexed(engine, video), baselines=baselines
    )


def evaluate_corpus(dataset_path: Path, home: Path, *, highlights: bool = True) -> dict:
    from scenespark.evaluation.index_quality import (
        cut_recall,
        ocr_matches,
        transcript_wer,
        true_cuts,
    )
    from scenespark.evaluation.reel_checks import check_reel
    from scenespark.evaluation.retrieval import run_evaluation
    from scenespark.highlights.service import HighlightService
    from scenespark.types import HighlightRequest, Modality

    dataset = json.loads(dataset_path.read_text())
    engine = Engine(load_settings(home=home))
    started = time.perf_counter()
    video_id = ensure_indexed(engine, (dataset_path.parent / dataset["video"]).resolve())
    index_s = time.perf_counter() - started
    video = engine.catalog.get_video(video_id)
    assert video is not None
    speech = engine.catalog.segments(video_id, [Modality.SPEECH])
    ocr = engine.catalog.segments(video_id, [Modality.OCR])
    ocr_rows = ocr_matches(dataset["overlays"], ocr)
    report: dict = {
        "video_id": video_id,
        "index_wall_s": round(index_s, 2),
        "speech_wer": round(transcript_wer(dataset["narration"], speech), 4),
        "ocr_found": sum(r["found"] for r in ocr_rows),
        "ocr_total": len(ocr_rows),
        "ocr": ocr_rows,
        "shots": cut_recall(true_cuts(dataset["scenes"]), video.shots),
        "retrieval": run_evaluation(
            engine, dataset_path, lambda path: ensure_indexed(engine, path), baselines=True
        ),
    }
    if highlights:
        service = HighlightService(engine)
        rows = []
        for item in dataset.get("highlights", []):
            result = service.run(
                HighlightRequest(prompt=item["prompt"], target_duration_s=item["target_duration_s"])
            )
            rows.append(check_reel(item, dataset, result, engine.settings.home))
        report["highlights"] = rows
    engine.close()
    return report
