"""Indexing speed: the whole pipeline as × real time, where the time goes, and a baseline.

    .venv/bin/python bench/index_speed.py [VIDEO] [--json] [--reader pyav|decord]
                                          [--long-minutes 20] [--long-timeout-s 900]

Runs in one process, on one video (default: ../shared/eval/corpus_a.mp4):
  baseline   ffmpeg full decode of the same file (`ffmpeg -i VIDEO -f null -`)
  scan       our one-pass frame scan alone (decode, shots, sampling; no models)
  speech     Whisper on the extracted audio alone
  ocr        OCR on the frames the scan keeps for OCR, alone (one OcrMemory, as the pipeline)
  visual     the visual model (tagger or CLIP) on the sampled frames, alone
  pipeline   the real `IndexService.index_file` into a fresh data dir (stages overlap)
Models and the vector store are loaded (and warmed on one input) before timing, as in a running
server; the peak RSS of this process (every model + the pipeline) is reported.

Then the long-video row: a ``--long-minutes`` (default 20, 0 = skip) speech-heavy 640x360 video
built at bench time by ffmpeg from the real read speech in ../shared/eval/speech (LibriVox and
CMU ARCTIC utterances, looped with short pauses) under title slides that change every minute,
cached in bench/results/cache/ (never committed). It is indexed by a child process (cold: model
loading included, as `scenespark index add` without a server), killed after ``--long-timeout-s``;
reported: wall, × real time, its own `ffmpeg -f null` decode, the child's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scenespark.config import apply_offline_env, load_settings  # noqa: E402

apply_offline_env()

DEFAULT_VIDEO = ROOT.parent / "shared" / "eval" / "corpus_a.mp4"
SPEECH_DIR = ROOT.parent / "shared" / "eval" / "speech"
CACHE_DIR = ROOT / "bench" / "results" / "cache"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
PAUSE_S = 0.4  # silence between two utterances of the long video


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
    parser.add_argument("--long-minutes", type=float, default=20.0)
    parser.add_argument("--long-timeout-s", type=float, default=900.0)
    parser.add_argument("--child-index", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_index:
        return child_index(Path(args.child_index))
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
    from scenespark.models.ocr import OcrMemory

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
        _ = engine.vectors  # open, as in a running server
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
            memory = OcrMemory()
            _, wall, cpu = timed(lambda: [ocr.read(s.image, memory) for s in scan.ocr])
            rows["ocr (all OCR samples)"] = {
                "wall_s": wall,
                "cpu_s": cpu,
                "frames": len(scan.ocr),
                "boxes_recognised": memory.recognised,
                "boxes_reused": memory.reused,
            }
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
    long_row = long_video_row(args.long_minutes, args.long_timeout_s)
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
        "long_video": long_row,
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
    if long_row is not None:
        print(format_long_row(long_row))
    print(f"load average (1/5/15 min) after: {report['loadavg_after']}")
    return 0


# --- the long speech-heavy video -----------------------------------------------------------


def build_long_video(minutes: float) -> Path:
    """A speech-heavy 640x360 video of ``minutes`` from the shared corpus's real read speech,
    under title slides (one a minute); built once, then reused from the cache."""
    from scenespark.media.ffmpeg import ffmpeg

    duration_s = round(minutes * 60.0, 1)
    target = CACHE_DIR / f"speech_{duration_s:g}s_640x360.mp4"
    if target.is_file():
        return target
    wavs = sorted(SPEECH_DIR.rglob("*.wav"))
    if not wavs:
        raise SystemExit(f"no speech wavs under {SPEECH_DIR}")
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="scenespark-long-") as tmp:
        # the utterances, each followed by a short pause, as one 16 kHz mono track
        inputs: list[str | Path] = []
        for wav in wavs:
            inputs += ["-i", wav]
        chain = "".join(
            f"[{i}:a]aresample=16000,aformat=channel_layouts=mono,apad=pad_dur={PAUSE_S}[a{i}];"
            for i in range(len(wavs))
        )
        joined = "".join(f"[a{i}]" for i in range(len(wavs)))
        track = Path(tmp) / "speech.wav"
        ffmpeg(
            [
                *inputs,
                "-filter_complex",
                f"{chain}{joined}concat=n={len(wavs)}:v=0:a=1[out]",
                "-map",
                "[out]",
                track,
            ],
            timeout_s=120,
        )
        slides = (
            f"drawtext=fontfile={FONT}:fontsize=36:fontcolor=white:x=(w-text_w)/2:y=140"
            ":text='Reading, part %{eif\\:trunc(t/60)+1\\:d}'"
        )
        partial = Path(tmp) / target.name
        ffmpeg(
            [
                "-f",
                "lavfi",
                "-i",
                f"color=c=0x1e2a38:s=640x360:r=25:d={duration_s}",
                "-stream_loop",
                "-1",
                "-i",
                track,
                "-vf",
                slides,
                "-t",
                str(duration_s),
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-tune",
                "stillimage",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-b:a",
                "64k",
                "-shortest",
                partial,
            ],
            timeout_s=900,
        )
        os.replace(partial, target)
    return target


def long_video_row(minutes: float, timeout_s: float) -> dict | None:
    if minutes <= 0:
        return None
    from scenespark.media.ffmpeg import ffmpeg
    from scenespark.media.probe import probe_media

    video = build_long_video(minutes)
    duration_s = probe_media(video).duration_s
    _, decode_s, _ = timed(ffmpeg, ["-i", video, "-f", "null", "-"], timeout_s=600)
    row: dict = {
        "video": str(video.relative_to(ROOT)),
        "duration_s": round(duration_s, 1),
        "decode_wall_s": round(decode_s, 2),
    }
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child-index", str(video)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        row["error"] = f"not done after {timeout_s:.0f} s (killed)"
        row["wall_s"] = round(time.perf_counter() - started, 1)
        return row
    if proc.returncode != 0:
        row["error"] = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return row
    child = json.loads(proc.stdout.strip().splitlines()[-1])
    row.update(child)
    row["x_realtime"] = round(duration_s / child["index_wall_s"], 2)
    row["vs_decode"] = round(child["index_wall_s"] / decode_s, 2) if decode_s else None
    return row


def child_index(video: Path) -> int:
    """Index ``video`` cold into a fresh data dir; print one JSON line (wall, stages, RSS)."""
    from indexer.service import IndexService
    from scenespark.engine import Engine

    with tempfile.TemporaryDirectory(prefix="scenespark-bench-long-") as tmp:
        engine = Engine(load_settings(home=Path(tmp) / "home"))
        started = time.perf_counter()
        outcome = IndexService(engine).index_file(video)
        wall = time.perf_counter() - started
        engine.close()
    if outcome.action == "failed":
        print(outcome.message, file=sys.stderr)
        return 1
    print(
        json.dumps(
            {
                "index_wall_s": round(wall, 2),
                "stages_s": outcome.stage_s,
                "counts": outcome.counts,
                "cpu_s": round(sum(os.times()[:2]), 1),  # user + system, every thread
                "peak_rss_mb": round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1
                ),
            }
        )
    )
    return 0


def format_long_row(row: dict) -> str:
    head = f"long video {row['video']} ({row['duration_s'] / 60:.0f} min, speech-heavy, 640x360)"
    if "error" in row:
        return f"{head}: {row['error']} (decode alone {row['decode_wall_s']} s)"
    return (
        f"{head}: indexed cold in {row['index_wall_s']} s = {row['x_realtime']}x real time, "
        f"{row['vs_decode']}x its ffmpeg decode ({row['decode_wall_s']} s); "
        f"stages {row['stages_s']}; CPU {row['cpu_s']} s; peak RSS {row['peak_rss_mb']} MB"
    )


if __name__ == "__main__":
    sys.exit(main())
