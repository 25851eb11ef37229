"""Retrieval evaluation on a ``scenespark-eval/1`` dataset (docs/architecture.md §9).

For every query the library is searched (restricted to the dataset's video) and the ranked spans
are compared with the expected spans: R@1 and R@5 at IoU ≥ 0.5 and ≥ 0.7, mAP (IoU ≥ 0.5),
HIT@1 (the first result overlaps an expected span), mean latency, and for ``no_match`` queries
the share correctly answered with nothing. Baselines in the same run: transcript-only keyword
search, and each modality alone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from scenespark.engine import Engine
from scenespark.errors import InvalidInputError, NotFoundError
from scenespark.types import Modality, SearchRequest

IOU_LEVELS = (0.5, 0.7)
TOP_K = 10

Span = tuple[float, float]


class EvalQuery(BaseModel):
    id: str
    query: str
    type: str
    expected: list[Span]


def load_dataset(path: Path) -> tuple[Path, list[EvalQuery], dict]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise NotFoundError(f"no dataset at {path}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path} is not a JSON dataset: {exc}") from exc
    if not str(data.get("format", "")).startswith("scenespark-eval/"):
        raise InvalidInputError(f"{path} is not a scenespark-eval dataset (format field)")
    video = (path.parent / data["video"]).resolve()
    queries = [
        EvalQuery(
            id=q["id"],
            query=q["query"],
            type=q["type"],
            expected=[(float(e["start_s"]), float(e["end_s"])) for e in q.get("expected", [])],
        )
        for q in data.get("queries", [])
    ]
    return video, queries, data


def iou(a: Span, b: Span) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def recall_at(ranked: list[Span], expected: list[Span], k: int, threshold: float) -> float:
    return float(any(iou(r, e) >= threshold for r in ranked[:k] for e in expected))


def average_precision(ranked: list[Span], expected: list[Span], threshold: float = 0.5) -> float:
    if not expected:
        return 0.0
    matched: set[int] = set()
    hits = 0
    total = 0.0
    for rank, span in enumerate(ranked, 1):
        best = max(
            ((iou(span, e), i) for i, e in enumerate(expected) if i not in matched),
            default=(0.0, -1),
        )
        if best[0] >= threshold:
            matched.add(best[1])
            hits += 1
            total += hits / rank
    return total / len(expected)


def score_query(query: EvalQuery, ranked: list[Span], latency_ms: float) -> dict:
    row: dict = {"id": query.id, "type": query.type, "query": query.query, "latency_ms": latency_ms}
    row["returned"] = len(ranked)
    row["top"] = [list(map(lambda x: round(x, 2), s)) for s in ranked[:3]]
    if query.type == "no_match" or not query.expected:
        row["correct_empty"] = float(not ranked)
        return row
    for threshold in IOU_LEVELS:
        tag = f"{threshold:.1f}"
        row[f"R@1@{tag}"] = recall_at(ranked, query.expected, 1, threshold)
        row[f"R@5@{tag}"] = recall_at(ranked, query.expected, 5, threshold)
    row["mAP"] = average_precision(ranked, query.expected)
    row["HIT@1"] = float(bool(ranked) and any(iou(ranked[0], e) > 0 for e in query.expected))
    return row


def aggregate(rows: list[dict]) -> dict:
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["type"], []).append(row)
        if row["type"] != "no_match":
            groups.setdefault("overall", []).append(row)
    summary: dict[str, dict] = {}
    for name, items in groups.items():
        keys = [k for k in items[0] if k.startswith(("R@", "mAP", "HIT", "correct_empty"))]
        stats = {k: round(sum(r[k] for r in items) / len(items), 3) for k in keys}
        stats["n"] = len(items)
        stats["latency_ms"] = round(sum(r["latency_ms"] for r in items) / len(items), 1)
        summary[name] = stats
    return summary


def run_queries(queries: list[EvalQuery], search: Callable[[str], list[Span]]) -> dict:
    rows = []
    for query in queries:
        started = time.perf_counter()
        ranked = search(query.query)
        latency_ms = (time.perf_counter() - started) * 1000.0
        rows.append(score_query(query, ranked, round(latency_ms, 1)))
    return {"summary": aggregate(rows), "queries": rows}


def run_evaluation(
    engine: Engine,
    dataset: Path,
    index_video: Callable[[Path], str],
    *,
    baselines: bool = False,
) -> dict:
    """Search every query of ``dataset`` against its video, which ``index_video`` makes sure is
    indexed (the caller, a shell, owns indexing: the core never imports the indexer)."""
    from scenespark.search.engine import SearchEngine

    video, queries, data = load_dataset(dataset)
    video_id = index_video(video)
    searcher = SearchEngine(engine)

    def fused(modalities: list[Modality] | None) -> Callable[[str], list[Span]]:
        def run(text: str) -> list[Span]:
            request = SearchRequest(
                query=text, top_k=TOP_K, video_ids=[video_id], modalities=modalities
            )
            return [(h.start_s, h.end_s) for h in searcher.search(request).results]

        return run

    report = {"dataset": data.get("name", dataset.stem), "video_id": video_id, "runs": {}}
    report["runs"]["fused"] = run_queries(queries, fused(None))
    if baselines:
        report["runs"]["keyword_transcript"] = run_queries(
            queries, keyword_baseline(engine, video_id)
        )
        for modality in (Modality.SPEECH, Modality.OCR, Modality.VISUAL):
            report["runs"][f"only_{modality.value}"] = run_queries(queries, fused([modality]))
    return report


def keyword_baseline(engine: Engine, video_id: str) -> Callable[[str], list[Span]]:
    """Plain BM25 over transcript sentences, every keyword match returned in score order."""
    index = engine.keywords.index()

    def run(text: str) -> list[Span]:
        matches = index.search(
            text, top_k=TOP_K, modalities=[Modality.SPEECH], video_ids=[video_id]
        )
        segments = engine.catalog.get_segments([m.segment_id for m in matches])
        return [
            (segments[m.segment_id].start_s, segments[m.segment_id].end_s)
            for m in matches
            if m.segment_id in segments and m.raw_score > 0
        ]

    return run


def format_report(report: dict) -> str:
    lines = [f"dataset {report['dataset']} (video {report['video_id']})"]
    header = (
        f"{'run':<20} {'type':<11} {'n':>3} {'R@1@.5':>7} {'R@5@.5':>7} {'R@1@.7':>7} "
        f"{'R@5@.7':>7} {'mAP':>6} {'HIT@1':>6} {'empty':>6} {'ms':>6}"
    )
    lines.append(header)
    for run_name, run in report["runs"].items():
        for type_name, stats in sorted(run["summary"].items()):

            def cell(key: str, stats: dict = stats) -> str:
                return f"{stats[key]:.2f}" if key in stats else "-"

            lines.append(
                f"{run_name:<20} {type_name:<11} {stats['n']:>3} {cell('R@1@0.5'):>7} "
                f"{cell('R@5@0.5'):>7} {cell('R@1@0.7'):>7} {cell('R@5@0.7'):>7} "
                f"{cell('mAP'):>6} {cell('HIT@1'):>6} {cell('correct_empty'):>6} "
                f"{stats['latency_ms']:>6.1f}"
            )
    return "\n".join(lines)
