"""Render speed: a 60 s highlight reel (6 spans of 10 s) from the evaluation corpus, next to a
plain ffmpeg re-encode of the same total length, measured in the same run.

    python bench/render_speed.py [--json] [--repeats N] [--variants] [--source PATH]

Reports reel seconds per wall second, wall and CPU seconds (ffmpeg children: user + sys; CPU is
the steadier figure when other work shares the machine) and the overhead ratio against the
baseline ``ffmpeg -ss … -t 60 -c:v libx264 -preset veryfast -c:a aac`` (same CRF and AAC
bitrate as the renderer, ffmpeg's default AAC coder); a second baseline row uses exactly the
renderer's codec settings (AAC "fast" coder). Runs alternate baseline / renderer so background load hits both alike; the median
of the repeats is reported.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scenespark.media.ffmpeg import ffmpeg
from scenespark.render.ffmpeg_steps import AUDIO_CODEC_ARGS, VIDEO_CODEC_ARGS
from scenespark.render.reel import render_highlight
from scenespark.types import Clip

DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "shared" / "eval" / "corpus_a.mp4"
SPAN_S = 10.0
SPANS = 6
BASELINE = "plain ffmpeg re-encode (baseline)"


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    cpu0, wall0 = _children_cpu_s(), time.perf_counter()
    fn()
    return time.perf_counter() - wall0, _children_cpu_s() - cpu0


def _clips(source_duration_s: float) -> list[Clip]:
    """Six back-to-back 10 s spans, so the renderer encodes exactly the frames the baseline does
    (spans spread over the video would compare different content, whose cost differs)."""
    first_s = max(0.0, min(30.0, (source_duration_s - SPANS * SPAN_S) / 2))
    return [
        Clip(
            clip_id=f"b{i}",
            video_id="src",
            start_s=first_s + i * SPAN_S,
            end_s=first_s + (i + 1) * SPAN_S,
        )
        for i in range(SPANS)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--variants", action="store_true", help="also loudnorm, no-norm, crossfade, copy"
    )
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    args = parser.parse_args()
    if not args.source.is_file():
        print(f"source video not found: {args.source}", file=sys.stderr)
        return 2
    from scenespark.render.ffmpeg_steps import probe_source

    info = probe_source(args.source, 60.0)
    clips = _clips(info.duration_s)
    total_s = SPANS * SPAN_S
    work = Path(tempfile.mkdtemp(prefix="scenespark-bench-render-"))

    def baseline(audio_args: list[str]) -> Callable[[], object]:
        def run() -> None:
            ffmpeg(
                ["-ss", f"{clips[0].start_s:.3f}", "-i", args.source, "-t", f"{total_s:.3f}",
                 *VIDEO_CODEC_ARGS, *audio_args, work / "baseline.mp4"],
                timeout_s=900,
            )  # fmt: skip

        return run

    def renderer(**kwargs: object) -> Callable[[], object]:
        def run() -> object:
            out = render_highlight(
                clips, {"src": args.source}, work / "out", home=work, timeout_s=900, **kwargs
            )
            expected_s = total_s - out.crossfade_s * (SPANS - 1)
            if not out.stream_copy and abs(out.reel_duration_s - expected_s) > 0.1:
                raise RuntimeError(f"reel is {out.reel_duration_s} s, expected {expected_s} s")
            return out

        return run

    def plan_and_render() -> object:
        # the deterministic planner + budget solver over candidates at the same spans (as the
        # highlight service gets them from search), then the same render
        from scenespark.highlights.candidates import BoundaryIndex, Candidate
        from scenespark.highlights.planner import plan_highlight
        from scenespark.types import HighlightRequest

        candidates = [
            Candidate(candidate_id=f"c{i + 1}", video_id="src", start_s=c.start_s, end_s=c.end_s,
                      score=0.9 - 0.01 * i, transcript=f"moment {i + 1}")
            for i, c in enumerate(clips)
        ]  # fmt: skip
        request = HighlightRequest(
            prompt=f"a {total_s:.0f}-second highlight of the moments", max_clip_s=SPAN_S
        )
        plan = plan_highlight(
            request, candidates, {"src": BoundaryIndex.empty("src", info.duration_s)}
        )
        return render_highlight(
            plan.clips, {"src": args.source}, work / "plan", home=work, timeout_s=900
        )

    variants: dict[str, Callable[[], object]] = {
        BASELINE: baseline(["-c:a", "aac", "-b:a", "160k"]),
        "plain ffmpeg, renderer's codec settings": baseline(AUDIO_CODEC_ARGS),
        "scenespark render (dynaudnorm)": renderer(audio_filter="dynaudnorm"),
        "scenespark plan + render": plan_and_render,
    }
    if args.variants:
        variants["scenespark render (loudnorm)"] = renderer(audio_filter="loudnorm")
        variants["scenespark render (no normalisation)"] = renderer(loudnorm=False)
        variants["scenespark render (0.5 s crossfades)"] = renderer(crossfade_s=0.5)
        variants["scenespark render (1 clip at a time)"] = renderer(clip_workers=1)
        variants["scenespark render (stream copy)"] = renderer(stream_copy=True)

    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    try:
        for _ in range(max(1, args.repeats)):
            for name, fn in variants.items():
                samples[name].append(_timed(fn))
                wall_s, cpu_s = samples[name][-1]
                print(f"  {name}: wall {wall_s:.2f} s, cpu {cpu_s:.2f} s", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    base_wall = statistics.median(w for w, _ in samples[BASELINE])
    base_cpu = statistics.median(c for _, c in samples[BASELINE])
    rows = []
    for name, runs in samples.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        rows.append(
            {
                "variant": name,
                "reel_s": total_s,
                "wall_s": round(wall, 2),
                "cpu_s": round(cpu, 2),
                "reel_s_per_wall_s": round(total_s / wall, 2),
                "wall_ratio": round(wall / base_wall, 3),
                "cpu_ratio": round(cpu / base_cpu, 3),
                "runs": len(runs),
            }
        )
    report = {"source": str(args.source), "spans": SPANS, "span_s": SPAN_S, "rows": rows}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"render speed: {SPANS} x {SPAN_S:.0f} s spans of {args.source.name} (median of {args.repeats})"
    )
    header = f"{'variant':<40} {'wall s':>7} {'cpu s':>7} {'reel s/wall s':>13} {'wall x':>7} {'cpu x':>7}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['variant']:<40} {row['wall_s']:>7.2f} {row['cpu_s']:>7.2f} "
            f"{row['reel_s_per_wall_s']:>13.2f} {row['wall_ratio']:>7.3f} {row['cpu_ratio']:>7.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
