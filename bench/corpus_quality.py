"""Quality on the shared evaluation corpus, with the default offline models.

    .venv/bin/python bench/corpus_quality.py [DATASET.json] [--json] [--skip-highlights]

Indexes the dataset's video into a fresh data dir (the mp4 alone, no sidecar subtitles), then
reports: speech WER against the narration, OCR texts found with overlapping spans, shot-cut
recall within 0.5 s, retrieval metrics (fused, transcript-keyword baseline, each modality alone)
and the highlight prompts checked against their allowed/forbidden scenes.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scenespark.config import apply_offline_env  # noqa: E402

apply_offline_env()

DEFAULT_DATASET = ROOT.parent / "shared" / "eval" / "corpus_a.json"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("dataset", nargs="?", default=str(DEFAULT_DATASET))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--skip-highlights", action="store_true")
    args = parser.parse_args()
    from indexer.evaluation import evaluate_corpus
    from scenespark.evaluation.retrieval import format_report

    with tempfile.TemporaryDirectory(prefix="scenespark-quality-") as tmp:
        report = evaluate_corpus(
            Path(args.dataset), Path(tmp) / "home", highlights=not args.skip_highlights
        )
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    print(f"indexed in {report['index_wall_s']} s")
    print(f"speech WER {report['speech_wer']:.3f}")
    print(f"OCR texts found {report['ocr_found']}/{report['ocr_total']}")
    for row in report["ocr"]:
        if not row["found"]:
            print(f"   missed: {row['text']!r} (best read {row['read']!r}, ratio {row['ratio']})")
    shots = report["shots"]
    print(
        f"shot cuts within 0.5 s: {shots['found_within']}/{shots['truth']} (extra cuts {shots['extra_cuts']})"
    )
    print(format_report(report["retrieval"]))
    for row in report.get("highlights", []):
        flags = ", ".join(
            f"{k}={'yes' if row[k] else 'NO'}"
            for k in ("duration_ok", "all_inside", "none_forbidden", "cuts_ok", "srt_ok")
        )
        print(
            f"{row['id']} {row['prompt']!r}: {row['duration_s']:.1f}/{row['target_s']:.0f} s, {len(row['clips'])} clips, {flags}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
