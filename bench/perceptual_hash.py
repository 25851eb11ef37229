"""Perceptual hash for near-duplicate frames: the hand-made DCT pHash against ImageHash's.

Frames are sampled every 0.5 s from a video (default: the shared evaluation corpus A, whose
scenes are known), reduced as the scanner reduces them (grey, longest side 128). Pairs of frames
of the SAME scene at most ``--window`` seconds apart are what dedup may merge; pairs from
DIFFERENT scenes must never merge. For each hash: the share of same-scene pairs merged and of
different-scene pairs merged (false merges) at the scanner's default distance (6 bits), and the
time per hash.

    python bench/perceptual_hash.py [--video V --truth T.json] [--distance 6]
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scenespark.media.imagehash import hamming  # noqa: E402
from scenespark.media.imagehash import phash as handmade_phash  # noqa: E402

EVAL = REPO.parent.parent / "shared" / "eval"
SIDE = 128  # the scanner hashes frame.gray(128)


def frames(video: Path, step_s: float, width: int, height: int) -> list[tuple[float, np.ndarray]]:
    raw = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(video), "-vf",
         f"fps={1 / step_s},scale={width}:{height},format=gray", "-f", "rawvideo", "-"],
        check=True, capture_output=True, timeout=600,
    ).stdout  # fmt: skip
    count = len(raw) // (width * height)
    pixels = np.frombuffer(raw[: count * width * height], dtype=np.uint8)
    return [(i * step_s, f) for i, f in enumerate(pixels.reshape(count, height, width))]


def imagehash_phash(gray: np.ndarray) -> int:
    import imagehash
    from PIL import Image

    return int(str(imagehash.phash(Image.fromarray(gray))), 16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=EVAL / "corpus_a.mp4")
    parser.add_argument("--truth", type=Path, default=EVAL / "corpus_a.json")
    parser.add_argument("--distance", type=int, default=6)
    parser.add_argument("--window", type=float, default=2.0)
    args = parser.parse_args()
    truth = json.loads(args.truth.read_text())
    scenes = [(s["start_s"], s["end_s"], s["id"]) for s in truth["scenes"]]
    width, height = truth["width"], truth["height"]
    scale = SIDE / max(width, height)
    samples = frames(args.video, 0.5, round(width * scale), round(height * scale))

    def scene_of(t: float) -> str | None:
        # frames within 0.25 s of a cut are left out (a dissolve belongs to neither scene)
        return next((sid for a, b, sid in scenes if a + 0.25 <= t <= b - 0.25), None)

    labelled = [(t, f, scene_of(t)) for t, f in samples if scene_of(t) is not None]
    print(f"{len(labelled)} frames of {len(scenes)} scenes from {args.video.name}")
    for name, fn in (("hand-made DCT", handmade_phash), ("ImageHash.phash", imagehash_phash)):
        started = time.perf_counter()
        hashes = [fn(f) for _, f, _ in labelled]
        per_hash_ms = (time.perf_counter() - started) * 1000 / len(hashes)
        same = diff = same_merged = diff_merged = 0
        for (i, (ta, _, sa)), (j, (tb, _, sb)) in itertools.combinations(enumerate(labelled), 2):
            merged = hamming(hashes[i], hashes[j]) <= args.distance
            if sa == sb and abs(ta - tb) <= args.window:
                same += 1
                same_merged += merged
            elif sa != sb:
                diff += 1
                diff_merged += merged
        print(
            f"{name:>16}: same-scene pairs merged {same_merged}/{same} "
            f"({100 * same_merged / same:.1f} %), different-scene pairs merged "
            f"{diff_merged}/{diff} ({100 * diff_merged / diff:.2f} %), {per_hash_ms:.3f} ms/hash"
        )


if __name__ == "__main__":
    main()
