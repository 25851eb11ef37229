"""``scenespark search|highlight|serve|eval|models|run``: thin shells over the library."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from scenespark.config import Settings, get_settings
from scenespark.errors import InvalidInputError
from scenespark.types import HighlightRequest, Modality, SearchRequest
from server.urls import result_with_urls, search_with_urls


def _hms(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    frac = seconds - whole
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{int(frac * 10)}"


def cmd_search(args: argparse.Namespace) -> int:
    from scenespark.engine import Engine
    from scenespark.search.engine import SearchEngine

    if not args.query.strip():
        raise InvalidInputError("the query is empty")
    request = SearchRequest(
        query=args.query,
        top_k=args.top_k,
        video_ids=args.videos,
        modalities=[Modality(m) for m in args.modalities] if args.modalities else None,
    )
    engine = Engine(get_settings())
    started = time.perf_counter()
    # open the stores and load the models first: took_ms is then the search, as on a server
    engine.text_space()
    if request.modalities is None or Modality.VISUAL in request.modalities:
        engine.models.visual()
        engine.clip_space()
    load_s = time.perf_counter() - started
    response = SearchEngine(engine).search(request)
    if args.json:
        print(search_with_urls(response).model_dump_json(indent=2))
        return 0
    timing = f"{response.took_ms:.0f} ms; stores and models loaded in {load_s:.1f} s"
    if not response.results:
        print(f"no matches for {response.query!r} ({timing})")
        return 0
    count = len(response.results)
    print(f"{count} match{'es' if count != 1 else ''} for {response.query!r} ({timing})")
    for rank, hit in enumerate(response.results, 1):
        title = hit.video_title or hit.video_id
        mods = " ".join(f"{k}={v:.2f}" for k, v in sorted(hit.modality_scores.items()))
        print(
            f"{rank:>2}. {_hms(hit.start_s)}-{_hms(hit.end_s)}  score {hit.score:.2f} "
            f"({hit.confidence})  {title}  [{mods}]"
        )
        ev = hit.evidence
        if ev.transcript:
            print(f"      said:   {ev.transcript[:110]}")
        if ev.ocr_text:
            print(f"      text:   {ev.ocr_text[:110]}")
        if ev.visual_labels:
            print(f"      seen:   {ev.visual_labels[:110]}")
    return 0


def cmd_highlight(args: argparse.Namespace) -> int:
    from indexer.progress import ProgressDisplay
    from scenespark.engine import Engine
    from scenespark.highlights.service import HighlightService

    settings = get_settings()
    request = HighlightRequest(
        prompt=args.prompt,
        target_duration_s=args.duration,
        video_ids=args.videos,
        order=args.order,
        max_clips=args.max_clips,
        stream_copy=args.fast,
    )
    service = HighlightService(Engine(settings))
    with ProgressDisplay() as display:
        display.add("reel", "highlight")
        result = service.run(request, lambda f, m: display.update("reel", f, m))
    if args.out:
        _copy_outputs(settings, result, Path(args.out), json_out=args.json)
    if args.json:
        print(result_with_urls(result).model_dump_json(indent=2))
        return 0
    for warning in result.warnings:
        print(f"note: {warning}", file=sys.stderr)
    print(
        f"{result.title or 'Highlight'}: {len(result.clips)} clips, {result.duration_s:.1f} s "
        f"(planner: {result.planner})"
    )
    for clip in result.clips:
        print(f"  {_hms(clip.start_s)}-{_hms(clip.end_s)}  {clip.video_id}  {clip.title}")
        if clip.reason:
            print(f"      why: {clip.reason[:120]}")
    if result.reel_path:
        print(f"reel: {settings.home / result.reel_path}")
        print(
            f"subtitles: {settings.home / result.srt_path}   edit list: {settings.home / result.edl_path}"
        )
        for label, rel in (("FCP7 XML", result.fcp7_xml_path), ("OTIO", result.otio_path)):
            if rel:
                print(f"{label}: {settings.home / rel}")
    return 0


def _copy_outputs(settings: Settings, result, out: Path, *, json_out: bool = False) -> None:
    out.mkdir(parents=True, exist_ok=True)
    timelines = [result.edl_path, result.fcp7_xml_path, result.otio_path]
    paths = [result.reel_path, result.srt_path, *timelines, *[c.path for c in result.clips]]
    for rel in paths:
        if rel:
            shutil.copy2(settings.home / rel, out / Path(rel).name)
    # with --json, stdout carries only the JSON document
    print(
        f"copied the reel, clips, SRT and timelines (EDL, FCP7 XML, OTIO) to {out}",
        file=sys.stderr if json_out else None,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    settings = get_settings()
    host = args.host or settings.host
    port = args.port or settings.port
    serve(settings, host, port)
    return 0


def serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from scenespark.jobs.writer_lock import WriterLock
    from server.app import create_app
    from server.security.exposure import check_exposure

    check_exposure(settings, host)
    probe = WriterLock(settings, role="server")
    probe.acquire()  # a clear one-line error now, rather than a traceback from inside uvicorn
    probe.release()

    app = create_app(settings.model_copy(update={"host": host, "port": port}))
    print(f"SceneSpark is serving {settings.home} at http://{host}:{port}  (Ctrl+C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def cmd_models(args: argparse.Namespace) -> int:
    from scenespark.models.registry import describe_models

    infos = describe_models(get_settings())
    if args.json:
        print(json.dumps([m.model_dump() for m in infos], indent=2))
        return 0
    for info in infos:
        flag = "" if info.available else "  (UNAVAILABLE)"
        dim = f", {info.dimension}-d" if info.dimension else ""
        print(f"{info.modality:<7} {info.backend}: {info.name}{dim}{flag}")
        if info.reason:
            print(f"        {info.reason}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from indexer.evaluation import evaluate_dataset
    from scenespark.engine import Engine
    from scenespark.evaluation.retrieval import format_report

    report = evaluate_dataset(Engine(get_settings()), Path(args.dataset), baselines=args.baselines)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """What ``make run`` does: index a folder (or a generated demo library), then serve it."""
    from indexer.cli import index_and_report
    from scenespark.jobs.writer_lock import WriterLock
    from scenespark.media.probe import collect_video_files

    settings = get_settings()
    if not args.no_serve:  # refuse before minutes of indexing, not after
        from server.security.exposure import check_exposure

        check_exposure(settings, args.host or settings.host)
    settings.ensure_dirs()
    if args.videos:
        folder = Path(args.videos).expanduser().resolve()
        if not folder.is_dir():
            raise InvalidInputError(f"VIDEOS={args.videos} is not a folder")
        print(f"indexing your videos in {folder}")
    else:
        from server.demo_media import build_demo_library

        folder = settings.home / "demo"
        print(f"no VIDEOS folder given: building a demo library in {folder} (ffmpeg + TTS)")
        build_demo_library(folder)
    files, problems = collect_video_files([folder], True)
    for problem in problems:
        print(f"scenespark: {problem}", file=sys.stderr)
    if files:
        with WriterLock(settings, role="index"):
            index_and_report(settings, files, force=False, as_json=False)
    roots = settings.resolved_roots()
    if folder not in roots:
        settings = settings.model_copy(update={"library_roots": [*roots, folder]})
    print(f"data dir: {settings.home} (catalog.db, chroma/, media/)")
    if args.no_serve:
        return 0
    serve(settings, args.host or settings.host, args.port or settings.port)
    return 0
