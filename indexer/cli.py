"""``scenespark index add|rebuild|remove|status``: a thin shell over ``indexer.service``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from indexer.progress import ProgressDisplay
from scenespark.config import Settings, get_settings
from scenespark.errors import InvalidInputError, SceneSparkError
from scenespark.jobs.writer_lock import WriterLock
from scenespark.types import Modality

if TYPE_CHECKING:
    from indexer.service import IndexOutcome


def _fmt_duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:d}:{minutes:02d}:{secs:02d}"


def gather_video_files(paths: list[str], recursive: bool) -> tuple[list[Path], list[str]]:
    """The video files named by ``paths`` (folders expanded); each path that is not one is
    reported on stderr and returned as a problem. Nothing at all to index is an error."""
    from scenespark.media.probe import collect_video_files

    files, problems = collect_video_files([Path(p) for p in paths], recursive)
    for problem in problems:
        print(f"scenespark: {problem}", file=sys.stderr)
    if not files and not problems:
        raise InvalidInputError("no video files found in the given paths")
    return files, problems


def cmd_add(args: argparse.Namespace) -> int:
    settings = get_settings()
    files, problems = gather_video_files(args.paths, args.recursive)
    if not files:
        return 2
    ray_address = (getattr(args, "ray", None) or settings.ray_address).strip()
    lock = WriterLock(settings, role="index")
    lock.acquire()  # ConflictError (one line) when another process writes; the shell hands
    # the files to a running server before it gets here (server.commands.cmd_index_add)
    try:
        if ray_address:
            outcomes = _index_files_on_ray(settings, files, ray_address, args.force, args.json)
        else:
            outcomes = index_and_report(settings, files, force=args.force, as_json=args.json)
    finally:
        lock.release()
    failed = sum(1 for o in outcomes if o.action == "failed")
    return 1 if failed or problems else 0


def index_and_report(
    settings: Settings, files: list[Path], *, force: bool, as_json: bool
) -> list[IndexOutcome]:
    """Index ``files`` in this process (the caller holds the writer lock), with progress bars on
    stderr and the summary on stdout (JSON with ``as_json``); returns one outcome per file."""
    from indexer.service import IndexService
    from scenespark.engine import Engine

    engine = Engine(settings)
    service = IndexService(engine)
    started = time.perf_counter()
    outcomes = []
    with ProgressDisplay() as display:
        for index, path in enumerate(files):
            display.add(str(index), path.name[:40])

        def work(item: tuple[int, Path]):
            key, path = str(item[0]), item[1]
            outcome = service.index_file(
                path, force=force, on_progress=lambda f, m: display.update(key, f, m)
            )
            display.update(key, 1.0, outcome.action)
            if outcome.action == "failed":
                display.log(f"scenespark: {path}: {outcome.message}")
            elif outcome.action == "skipped":
                display.log(f"{path.name}: skipped, {outcome.message}")
            elif outcome.message:  # e.g. frames a vision LLM left undescribed
                display.log(f"{path.name}: {outcome.message}")
            return outcome

        with ThreadPoolExecutor(max_workers=settings.workers) as pool:
            outcomes = list(pool.map(work, enumerate(files)))
    service.purge_orphans(older_than_s=0.0)
    wall_s = time.perf_counter() - started
    _print_summary(outcomes, wall_s, as_json)
    return outcomes


def _index_files_on_ray(
    settings: Settings, files: list[Path], address: str, force: bool, as_json: bool
) -> list:
    from indexer.distributed.driver import index_files_on_ray

    started = time.perf_counter()
    outcomes = index_files_on_ray(settings, files, address=address, force=force)
    _print_summary(outcomes, time.perf_counter() - started, as_json)
    return outcomes


def _print_summary(outcomes: list, wall_s: float, as_json: bool) -> None:
    done = [o for o in outcomes if o.action in ("indexed", "reindexed")]
    media_s = sum(o.duration_s for o in done)
    counts: dict[str, int] = {}
    for outcome in done:
        for key, value in outcome.counts.items():
            counts[key] = counts.get(key, 0) + value
    summary = {
        "indexed": len(done),
        "skipped": sum(1 for o in outcomes if o.action == "skipped"),
        "failed": sum(1 for o in outcomes if o.action == "failed"),
        "media_s": round(media_s, 2),
        "segments": counts,
        "wall_s": round(wall_s, 2),
        "x_realtime": round(media_s / wall_s, 2) if wall_s > 0 and media_s > 0 else 0.0,
        "videos": [o.model_dump() for o in outcomes],
    }
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    segs = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
    print(
        f"indexed {summary['indexed']}, skipped {summary['skipped']}, failed {summary['failed']} | "
        f"media {_fmt_duration(media_s)} | segments: {segs} | wall {wall_s:.1f} s"
        + (f" | {summary['x_realtime']}x real time" if summary["x_realtime"] else "")
    )


def cmd_rebuild(args: argparse.Namespace) -> int:
    from indexer.service import IndexService
    from scenespark.engine import Engine

    settings = get_settings()
    with WriterLock(settings, role="index"):
        engine = Engine(settings)
        service = IndexService(engine)
        modalities = [Modality(m) for m in args.modalities] if args.modalities else None
        started = time.perf_counter()
        with ProgressDisplay() as display:
            seen: set[str] = set()

            def report(key: str, fraction: float, stage: str) -> None:
                if key not in seen:
                    seen.add(key)
                    display.add(key, key)
                display.update(key, fraction, stage)

            outcomes = service.rebuild(
                args.videos, modalities, everything=args.all, on_progress=report
            )
        for outcome in outcomes:
            if outcome.action == "failed":
                print(f"scenespark: {outcome.path}: {outcome.message}", file=sys.stderr)
            elif outcome.action == "reindexed" and outcome.message and not args.json:
                print(f"{Path(outcome.path).name}: {outcome.message}")
        _print_summary(outcomes, time.perf_counter() - started, args.json)
    return 1 if any(o.action == "failed" for o in outcomes) else 0


def cmd_remove(args: argparse.Namespace) -> int:
    from indexer.service import IndexService
    from scenespark.engine import Engine

    settings = get_settings()
    with WriterLock(settings, role="index"):
        service = IndexService(Engine(settings))
        failures = 0
        for target in args.targets:
            try:
                video_id = service.resolve_target(target)
                service.remove(video_id)
                print(f"removed {video_id} ({target})")
            except SceneSparkError as exc:
                failures += 1
                print(f"scenespark: {exc.one_line()}", file=sys.stderr)
        # vectors and thumbnails a crashed (or older, broken) remove left behind
        service.purge_orphans(older_than_s=0.0)
    return 3 if failures else 0


def speech_language_label(video: dict) -> str:
    """ "zh (detected 0.93)", "en? (detected 0.41, uncertain)", "zh (forced)", "zh (sidecar)"."""
    language = video.get("speech_language") or ""
    source = video.get("speech_language_source") or ""
    if not language:
        return ""
    probability = video.get("speech_language_probability")
    detail = source + (f" {probability:.2f}" if probability is not None else "")
    if video.get("speech_language_uncertain"):
        return f"{language}? ({detail}, uncertain: set SCENESPARK_SPEECH_LANGUAGE to force)"
    return f"{language} ({detail})" if detail else language


def cmd_status(args: argparse.Namespace) -> int:
    from indexer.service import IndexService
    from scenespark.engine import Engine

    status = IndexService(Engine(get_settings())).library_status()
    if args.json:
        print(json.dumps(status, indent=2, default=str))
        return 0
    print(f"data dir: {status['home']}")
    print(f"vector store: {status['store']}")
    print(f"videos: {status['video_count']}, {_fmt_duration(status['duration_s'])} of media")
    segs = ", ".join(f"{k} {v}" for k, v in sorted(status["segments"].items())) or "none"
    print(f"segments: {segs}")
    for video in status["videos"]:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(video.get("counts", {}).items()))
        line = (
            f"  {video['video_id']}  {video['status']:<8} {_fmt_duration(video['duration_s'])}  "
            f"{Path(video['path']).name}  [{counts}]"
        )
        language = speech_language_label(video)
        if language:
            line += f"  speech: {language}"
        if video.get("error"):
            line += f"  error: {video['error']}"
        print(line)
    print("models:")
    for model in status["models"]:
        flag = "" if model.get("available", True) else "  (UNAVAILABLE)"
        print(f"  {model['modality']:<7} {model['backend']}: {model['name']}{flag}")
        if model.get("reason"):
            print(f"          {model['reason']}")
    vision = status.get("vision")
    if vision:
        print(
            f"vision LLM: {vision['model']} at {vision['host']}: "
            f"{vision['frames_captioned']} frames described, {vision['frames_missing']} missing; "
            f"{vision['requests']} requests, {vision['images']} images "
            f"({vision['image_bytes'] / 1e6:.1f} MB) sent"
        )
    return 0
