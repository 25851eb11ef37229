"""Videos per hour: the single-machine path against `index add --ray` with 1 and 2 worker nodes.

    .venv/bin/python bench/ray_throughput.py [--videos N] [--seconds S] [--json]

Generates N short videos (narration, captions, cuts; ffmpeg + espeak-ng), then indexes them into
a fresh data dir and a fresh `chroma run` server each time:
  local      `scenespark index add DIR` (the default path, no Ray) - the baseline
  ray-1      `--ray` on a head without CPUs + 1 worker node (2 logical CPUs)
  ray-2      `--ray` on a head without CPUs + 2 worker nodes (2 logical CPUs each)
All nodes are processes of this one machine, so ray-2 shows Ray's overhead and the
oversubscription of the same cores, not a second machine's gain (see the README scaling model).
Cluster start-up is not timed; model loading in the actors is (as in a real first run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scenespark.config import apply_offline_env  # noqa: E402

apply_offline_env()

from server.demo_media import SynthScene, build_video  # noqa: E402
from tests.helpers import chroma_server  # noqa: E402
from tests.ray_cluster import ray_cluster  # noqa: E402

SCENESPARK = Path(sys.executable).with_name("scenespark")
CAPTIONS = ["SPRING SALE", "OPEN DAILY", "EXIT 7", "ROOM 12", "FRESH BREAD", "LAST CALL"]
LINES = [
    "We plant red tomatoes and sweet basil in the garden.",
    "The market opens early and closes at noon on Sundays.",
    "Turn left after the bridge and follow the river path.",
]


def make_videos(folder: Path, count: int, seconds: float) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    sources = ["testsrc2", "smptebars", "color=c=navy", "color=c=darkgreen"]
    paths = []
    for index in range(count):
        half = seconds / 2
        scenes = [
            SynthScene(
                half,
                sources[index % len(sources)],
                f"{CAPTIONS[index % len(CAPTIONS)]} {index}",
                text_start_s=0.5,
                text_end_s=half - 0.5,
            ),
            SynthScene(
                half, sources[(index + 1) % len(sources)], narration=LINES[index % len(LINES)]
            ),
        ]
        path = folder / f"clip{index:02d}.mp4"
        build_video(path, scenes, size=(480, 270), fps=25)
        paths.append(path)
    return paths


def index_once(
    label: str, work: Path, library: Path, env: dict[str, str], extra: list[str]
) -> dict:
    home = work / f"home-{label}"
    with chroma_server(work / f"chroma-{label}", work / f"chroma-{label}.log") as (_s, url):
        run_env = dict(env, SCENESPARK_HOME=str(home), SCENESPARK_CHROMA_URL=url)
        started = time.perf_counter()
        result = subprocess.run(
            [str(SCENESPARK), "index", "add", str(library), "--json", *extra],
            env=run_env,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        wall_s = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{label}: index add failed:\n{result.stderr[-2000:]}")
    summary = json.loads(result.stdout)
    store_s = sum(v.get("stage_s", {}).get("embed_store", 0.0) for v in summary["videos"])
    return {
        "config": label,
        "videos": summary["indexed"],
        "media_s": summary["media_s"],
        "wall_s": round(wall_s, 1),
        "videos_per_h": round(summary["indexed"] / wall_s * 3600, 1),
        "x_realtime": round(summary["media_s"] / wall_s, 2),
        "segments": sum(summary["segments"].values()),
        "writer_s": round(store_s, 1),  # the driver: text embedding + catalog + Chroma writes
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--videos", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="scenespark-raybench-") as tmp:
        work = Path(tmp)
        library = work / "library"
        make_videos(library, args.videos, args.seconds)
        rows.append(index_once("local", work, library, dict(os.environ), []))
        for workers in (1, 2):
            cluster_dir = work / f"cluster{workers}"
            cluster_dir.mkdir()
            with ray_cluster(cluster_dir, workers, head_cpus=0) as (address, _nodes, env):
                rows.append(index_once(f"ray-{workers}", work, library, env, ["--ray", address]))
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "videos": args.videos,
        "seconds_each": args.seconds,
        "rows": rows,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{report['machine']}; {args.videos} videos x {args.seconds:.0f} s")
    print(
        f"{'config':<8} {'videos/h':>9} {'x real time':>12} {'wall s':>8} {'segments':>9} "
        f"{'writer s':>9}"
    )
    for row in rows:
        print(
            f"{row['config']:<8} {row['videos_per_h']:>9.1f} {row['x_realtime']:>12.2f} "
            f"{row['wall_s']:>8.1f} {row['segments']:>9d} {row['writer_s']:>9.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
