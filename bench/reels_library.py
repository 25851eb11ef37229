"""Reels that hold what was asked (issue 13), each prompt on its own video and library-wide.

    .venv/bin/python bench/reels_library.py [--json] [--work DIR]

Builds one library: ``../shared/eval/corpus_a.mp4`` plus the two demo videos of ``make run``
(generated with ffmpeg and TTS). Then, with the default offline planner:

* every corpus_a highlight prompt, restricted to corpus_a and library-wide: reel duration vs.
  target, only allowed scenes, no forbidden scene, clips taken from other videos, warnings;
* prompts on the demo's product launch (multi-part, absent topic, "everything about"), restricted
  to that video and library-wide: clips, facets found/covered, warnings.

Nothing here is asserted; the README reports the figures. ``--work`` keeps the library between
runs (indexing is idempotent).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scenespark.config import apply_offline_env, load_settings  # noqa: E402

apply_offline_env()

CORPUS = ROOT.parent / "shared" / "eval" / "corpus_a.json"
# prompts on the demo's product launch video (written for the demo, not for any eval corpus)
DEMO_PROMPTS = [
    "15 seconds of the price and the battery",
    "football goals",
    "a 20-second highlight of the laptop launch",
    "everything about the laptop launch",
]


def scene_of(scenes: list[dict], start_s: float, end_s: float) -> str:
    best = max(scenes, key=lambda s: min(end_s, s["end_s"]) - max(start_s, s["start_s"]))
    return str(best["id"])


def run(work: Path) -> dict[str, Any]:
    from indexer.evaluation import ensure_indexed
    from scenespark.engine import Engine
    from scenespark.highlights.service import HighlightService
    from scenespark.types import HighlightRequest
    from server.demo_media import build_demo_library

    dataset = json.loads(CORPUS.read_text())
    engine = Engine(load_settings(home=work / "home"))
    corpus_id = ensure_indexed(engine, (CORPUS.parent / dataset["video"]).resolve())
    demo_ids = [ensure_indexed(engine, path) for path in build_demo_library(work / "demo")]
    titles = {v: getattr(engine.catalog.get_video(v), "title", "") for v in demo_ids}
    launch_id = next(v for v, title in titles.items() if "launch" in title)
    service = HighlightService(engine)
    scenes = dataset["scenes"]
    report: dict[str, Any] = {"corpus_a": [], "demo": []}
    for item in dataset["highlights"]:
        for scope in ("own video", "library"):
            video_ids = [corpus_id] if scope == "own video" else None
            result = service.run(
                HighlightRequest(
                    prompt=item["prompt"],
                    target_duration_s=item["target_duration_s"],
                    video_ids=video_ids,
                )
            )
            inside, other = [], 0
            for clip in result.clips:
                if clip.video_id != corpus_id:
                    other += 1
                    continue
                inside.append(scene_of(scenes, clip.start_s, clip.end_s))
            report["corpus_a"].append(
                {
                    "prompt": item["prompt"],
                    "scope": scope,
                    "target_s": item["target_duration_s"],
                    "duration_s": round(result.duration_s, 2),
                    "allowed_only": bool(inside) and set(inside) <= set(item["draw_from"]),
                    "forbidden_free": not set(inside) & set(item["must_not_include"]),
                    "clips_from_other_videos": other,
                    "facets": [(f.facet, f.found, f.covered) for f in result.facets],
                    "warnings": result.warnings,
                }
            )
    for prompt in DEMO_PROMPTS:
        for scope in ("own video", "library"):
            result = service.run(
                HighlightRequest(
                    prompt=prompt, video_ids=[launch_id] if scope == "own video" else None
                )
            )
            report["demo"].append(
                {
                    "prompt": prompt,
                    "scope": scope,
                    "duration_s": round(result.duration_s, 2),
                    "target_s": result.target_duration_s,
                    "clips": [
                        (c.video_id == launch_id, round(c.start_s, 1), round(c.end_s, 1), c.title)
                        for c in result.clips
                    ],
                    "facets": [(f.facet, f.found, f.covered) for f in result.facets],
                    "warnings": result.warnings,
                }
            )
    engine.close()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--work", help="keep the library here between runs")
    args = parser.parse_args()
    if args.work:
        report = run(Path(args.work))
    else:
        with tempfile.TemporaryDirectory(prefix="scenespark-reels-") as tmp:
            report = run(Path(tmp))
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    print(
        "corpus_a prompts | scope | reel / target s | allowed only | forbidden-free | other videos"
    )
    for row in report["corpus_a"]:
        print(
            f"  {row['prompt'][:52]:52s} | {row['scope']:9s} | {row['duration_s']:5.1f} / "
            f"{row['target_s']:g} | {'yes' if row['allowed_only'] else 'NO'} | "
            f"{'yes' if row['forbidden_free'] else 'NO'} | {row['clips_from_other_videos']}"
        )
        for warning in row["warnings"]:
            print(f"      {warning}")
    print("demo prompts (product launch video)")
    for row in report["demo"]:
        print(
            f"  {row['prompt']} | {row['scope']} | {row['duration_s']:.1f} / {row['target_s']:g} s"
        )
        for own, start_s, end_s, title in row["clips"]:
            print(f"      {start_s:5.1f}-{end_s:5.1f} {'' if own else '(other video) '}{title}")
        if row["facets"]:
            print(f"      facets (found, covered): {row['facets']}")
        for warning in row["warnings"]:
            print(f"      {warning}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
