"""Indexing speed: the whole pipeline as × real time, where the time goes, and a baseline.

    .venv/bin/python bench/index_speed.py [VIDEO] [--json] [--reader pyav|decord]

Runs in one process, on one video (default: ../shared/eval/corpus_a.mp4):
  baseline   ffmpeg full decode of the same file (`ffmpeg -i VIDEO -f null -`)
  scan       our one-pass frame scan alone (decode, shots, sampling; no models)
  speech     Whisper on the extracted audio alone
  ocr        OCR on the frames the scan keeps for OCR, alone
  visual     the visual model (tagger or CLIP) on the sampled frames, alone
  pipeline   the real `IndexService.index_file` into a fresh data dir (stages overlap)
Models are loaded (and warmed on one input) before timing, as in a running server.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scenespark.config import apply_offline_env, load_settings  # noqa: E402

apply_offline_env()

DEFAULT_VIDEO = ROOT.parent / "shared" / "eval" / "corpus_a.mp4"


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    cpu = time.process_time()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("video", nargs="?", default=str(DEFAULT_VIDEO))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--reader", default=None, choices=["pyav", "decord"])
    args = parser.parse_args()
    video = Path(args.video)
    if not video.is_file():
        print(f"no video at {video}", file=sys.stderr)
        return 2

    from indexer.service import IndexService
    from scenespark.engine import Engine
    from scenespark.media.audio import extract_audio_wav
    from scenespark.media.ffmpeg import ffmpeg
    from scenespark.media.probe import probe_media
    from scenespark.media.scan import scan_video

    with tempfile.TemporaryDirectory(prefix="scenespark-bench-") as tmp:
        overrides = {"home": Path(tmp) / "home"}
        if args.reader:
            overrides["frame_reader"] = args.reader
        settings = load_settings(**overrides)
        engine = Engine(settings)
        info = probe_media(video)
        rows: dict[str, dict] = {}

        _, wall, _ = timed(ffmpeg, ["-i", video, "-f", "null", "-"], timeout_s=600)
        rows["baseline: ffmpeg full decode"] = {"wall_s": wall}

        # load and warm every model so the stage timings below are steady-state
        text, speech, ocr, visual = (
            engine.models.text(),
            engine.models.speech(),
            engine.models.ocr(),
            engine.models.visual(),
        )
        scan, wall, cpu = timed(
            scan_video,
            video,
            reader=settings.frame_reader,
            frame_interval_s=settings.frame_interval_s,
            ocr_interval_s=settings.ocr_interval_s,
        )
        rows["scan (decode+shots+sampling)"] = {
            "wall_s": wall,
            "cpu_s": cpu,
            "frames": scan.frames_decoded,
            "visual_samples": len(scan.visual),
            "ocr_samples": len(scan.ocr),
        }
        text.embed_texts(["warm up"])
        if scan.ocr and ocr is not None:
            ocr.read(scan.ocr[0].image)
        if scan.visual and visual is not None:
            (visual.tag_images if visual.kind == "tagger" else visual.embed_images)(
                [scan.visual[0].image]
            )

        with tempfile.TemporaryDirectory() as audio_dir:
            wav = Path(audio_dir) / "a.wav"
            _, wall_a, _ = timed(extract_audio_wav, video, wav)
            transcript, wall, cpu = timed(
                speech.transcribe, wav, language=settings.speech_language or None
            )
        rows["speech (audio extract + whisper)"] = {
            "wall_s": wall + wall_a,
            "cpu_s": cpu,
            "segments": len(transcript.segments),
        }
        if ocr is not None:
            _, wall, cpu = timed(lambda: [ocr.read(s.image) for s in scan.ocr])
            rows["ocr (all OCR samples)"] = {"wall_s": wall, "cpu_s": cpu, "frames": len(scan.ocr)}
        if visual is not None:
            images = [s.image for s in scan.visual]
            fn = visual.tag_images if visual.kind == "tagger" else visual.embed_images
            _, wall, cpu = timed(
                lambda: [fn(images[i : i + 16]) for i in range(0, len(images), 16)]
            )
            rows[f"visual ({visual.kind}, all samples)"] = {
                "wall_s": wall,
                "cpu_s": cpu,
                "frames": len(images),
            }
        outcome, wall, cpu = timed(IndexService(engine).index_file, video)
        rows["pipeline (index_file, stages overlap)"] = {
            "wall_s": wall,
            "cpu_s": cpu,
            "stages_s": outcome.stage_s,
            "counts": outcome.counts,
            "action": outcome.action,
        }
        engine.close()

    duration = info.duration_s
    baseline = rows["baseline: ffmpeg full decode"]["wall_s"]
    for row in rows.values():
        row["x_realtime"] = round(duration / row["wall_s"], 2) if row["wall_s"] else None
        row["vs_baseline"] = round(row["wall_s"] / baseline, 2) if baseline else None
        row["wall_s"] = round(row["wall_s"], 3)
        if "cpu_s" in row:
            row["cpu_s"] = round(row["cpu_s"], 3)
    report = {
        "video": str(video),
        "duration_s": duration,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "reader": settings.frame_reader,
        "rows": rows,
        # ru_maxrss is in KiB on Linux: the peak of this process, every model loaded and the
        # pipeline run (what `scenespark index add` without a server holds)
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"{video.name}: {duration:.1f} s of video on {report['machine']} (reader {report['reader']})"
    )
    print(f"{'stage':<40} {'wall s':>8} {'x real time':>12} {'x baseline':>11}")
    for name, row in rows.items():
        print(
            f"{name:<40} {row['wall_s']:>8.2f} {row['x_realtime']:>12.2f} {row['vs_baseline']:>11.2f}"
        )
    print(f"pipeline stage times: {rows['pipeline (index_file, stages overlap)']['stages_s']}")
    print(f"peak RSS of the indexing process: {report['peak_rss_mb']} MB")
    print(f"load average (1/5/15 min) after: {report['loadavg_after']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
