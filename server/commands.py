"""``scenespark search|highlight|serve|eval|models|run``: thin shells over the library."""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from pathlib import Path

from scenespark.config import Settings, get_settings
from scenespark.errors import ConflictError, InvalidInputError, NotFoundError, SceneSparkError
from scenespark.types import (
    HighlightRequest,
    HighlightResult,
    Modality,
    SearchRequest,
    SearchResponse,
)
from server.client import ServerClient, connect, job_follow_hint
from server.urls import result_with_urls, search_with_urls


def _hms(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    frac = seconds - whole
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{int(frac * 10)}"


def cmd_search(args: argparse.Namespace) -> int:
    if not args.query.strip():
        raise InvalidInputError("the query is empty")
    request = SearchRequest(
        query=args.query,
        top_k=args.top_k,
        video_ids=args.videos,
        modalities=[Modality(m) for m in args.modalities] if args.modalities else None,
    )
    settings = get_settings()
    client = connect(settings)
    if client is not None:  # the server has the models loaded: ask it (no heavy imports here)
        with client:
            started = time.perf_counter()
            answer = client.search(request.model_dump(mode="json", exclude_none=True))
            response = SearchResponse.model_validate(answer)
            load_s = time.perf_counter() - started
        where = f"answered by the server at {client.url} in {load_s * 1000:.0f} ms"
    else:
        response, load_s = _search_here(settings, request)
        where = f"stores and models loaded in {load_s:.1f} s"
    if args.json:
        print(search_with_urls(response).model_dump_json(indent=2))
        return 0
    timing = f"{response.took_ms:.0f} ms; {where}"
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


def _search_here(settings: Settings, request: SearchRequest) -> tuple[SearchResponse, float]:
    """Search in this process (no server running): open the stores and load the models."""
    from scenespark.engine import Engine
    from scenespark.search.engine import SearchEngine

    engine = Engine(settings)
    started = time.perf_counter()
    # open the stores and load the models first: took_ms is then the search, as on a server
    engine.text_space()
    visual = request.modalities is None or Modality.VISUAL in request.modalities
    if visual and engine.models.visual_kind() == "clip":  # tagger labels need no model
        engine.models.visual()
        engine.clip_space()
    load_s = time.perf_counter() - started
    return SearchEngine(engine).search(request), load_s


def cmd_highlight(args: argparse.Namespace) -> int:
    from indexer.progress import ProgressDisplay

    settings = get_settings()
    request = HighlightRequest(
        prompt=args.prompt,
        target_duration_s=args.duration,
        video_ids=args.videos,
        order=args.order,
        max_clips=args.max_clips,
        stream_copy=args.fast,
    )
    client = connect(settings)
    if client is not None:
        with client:
            result = _highlight_on_server(client, request, ProgressDisplay)
    else:
        from scenespark.engine import Engine
        from scenespark.highlights.service import HighlightService

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


def _highlight_on_server(
    client: ServerClient, request: HighlightRequest, display_class: type
) -> HighlightResult:
    """Start the highlight job on the server and follow it (Ctrl+C cancels it there)."""
    ref = client.start_highlight(request.model_dump(mode="json", exclude_none=True))
    request_id = str(ref["request_id"])
    print(f"highlight job {request_id} on the server at {client.url}", file=sys.stderr)
    with display_class() as display:
        display.add("reel", "highlight")
        job = client.follow(
            request_id,
            lambda j: display.update("reel", float(j.get("progress", 0.0)), j.get("message", "")),
        )
    if job["status"] == "cancelled":
        raise ConflictError(f"highlight job {request_id} was cancelled")
    if job["status"] != "done" or job.get("result") is None:
        raise SceneSparkError(f"highlight job {request_id} failed: {job.get('error') or 'unknown'}")
    return HighlightResult.model_validate(job["result"])


def _copy_outputs(
    settings: Settings, result: HighlightResult, out: Path, *, json_out: bool = False
) -> None:
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
    from server.security.exposure import check_exposure, exposure_notes

    check_exposure(settings, host)
    for note in exposure_notes(settings, host):
        print(note, file=sys.stderr)
    probe = WriterLock(settings, role="server")
    probe.acquire()  # a clear one-line error now, rather than a traceback from inside uvicorn
    probe.release()

    app = create_app(settings.model_copy(update={"host": host, "port": port}))
    logging.getLogger("scenespark.server.warmup").setLevel(logging.INFO)  # what loading took
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


# ---------------------------------------------------------------------- index and jobs beside a server
def cmd_index_add(args: argparse.Namespace) -> int:
    """``index add``: in this process, or handed to the server that owns the data dir."""
    settings = get_settings()
    ray_address = (getattr(args, "ray", None) or settings.ray_address).strip()
    client = None if ray_address else connect(settings)  # --ray: this process drives the run
    if client is None:
        from indexer.cli import cmd_add

        return cmd_add(args)
    from indexer.cli import gather_video_files

    files, problems = gather_video_files(args.paths, args.recursive)
    if not files:
        return 2
    with client:
        return _hand_files_to_server(client, files, args) or (2 if problems else 0)


def _hand_files_to_server(client: ServerClient, files: list[Path], args: argparse.Namespace) -> int:
    """Queue each file as an index job on the server; with ``--wait`` follow them to the end.
    Returns 1 when any file was refused or (with --wait) failed."""
    jobs: list[dict] = []
    refused = 0
    for path in files:
        try:
            answer = client.add_path(str(path.resolve()), force=args.force)
        except SceneSparkError as exc:
            if exc.status in (401, 429, 503):
                raise  # the server refuses everything now: one line, the matching exit code
            refused += 1
            print(
                f"scenespark: {path}: the running server refused it: {exc.one_line()}",
                file=sys.stderr,
            )
            continue
        job = dict(answer.get("job") or {})
        job["path"] = str(path)
        jobs.append(job)
        if not args.wait:
            print(
                f"{path.name}: queued on the server at {client.url} as job {job['request_id']} "
                f"(not indexed yet; follow it: {job_follow_hint(job['request_id'])})",
                file=sys.stderr,
            )
    if not args.wait:
        if args.json:
            print(json.dumps({"queued": jobs, "refused": refused}, indent=2))
        return 1 if refused else 0
    finished = [_follow_index_job(client, job) for job in jobs]
    failed = [job for job in finished if job["status"] != "done"]
    if args.json:
        print(json.dumps({"jobs": finished, "refused": refused}, indent=2, default=str))
    else:
        print(f"indexed {len(finished) - len(failed)} of {len(files)} file(s) on the server")
    return 1 if failed or refused else 0


def _follow_index_job(client: ServerClient, job: dict) -> dict:
    from indexer.progress import ProgressDisplay

    request_id = str(job["request_id"])
    label = Path(job["path"]).name[:40]
    with ProgressDisplay() as display:
        display.add(request_id, label)
        final = client.follow(
            request_id,
            lambda j: display.update(
                request_id, float(j.get("progress", 0.0)), j.get("message", "")
            ),
        )
    if final["status"] == "done":
        print(f"{label}: {final.get('message') or 'done'}", file=sys.stderr)
    else:
        reason = final.get("error") or final["status"]
        print(f"scenespark: {job['path']}: {reason}", file=sys.stderr)
    return final


def cmd_index_remove(args: argparse.Namespace) -> int:
    """``index remove``: in this process, or through the server that owns the data dir."""
    settings = get_settings()
    client = connect(settings)
    if client is None:
        from indexer.cli import cmd_remove

        return cmd_remove(args)
    failures = 0
    with client:
        videos = client.videos()
        for target in args.targets:
            try:
                video_id = _resolve_on_server(videos, target)
                client.remove_video(video_id)
                print(f"removed {video_id} ({target})")
            except SceneSparkError as exc:
                failures += 1
                print(f"scenespark: {exc.one_line()}", file=sys.stderr)
    return 3 if failures else 0


def _resolve_on_server(videos: list[dict], target: str) -> str:
    if any(v.get("video_id") == target for v in videos):
        return target
    candidate = Path(target).expanduser()
    keys = {str(candidate.absolute()), str(candidate.resolve()), target}
    for video in videos:
        if video.get("path") in keys:
            return str(video["video_id"])
    raise NotFoundError(f"no indexed video with id or path {target!r}")


def cmd_jobs(args: argparse.Namespace) -> int:
    """``jobs [ID] [--wait] [--cancel]``: recent jobs, one job, follow it, or cancel it."""
    settings = get_settings()
    client = connect(settings)
    if client is None:
        if args.wait or args.cancel:
            raise ConflictError("no SceneSpark server is running on this data dir")
        from scenespark.store.catalog import Catalog

        catalog = Catalog(settings.catalog_path)
        try:
            if args.request_id:
                stored = catalog.get_job(args.request_id)
                if stored is None:
                    raise NotFoundError(f"no job with id {args.request_id!r}")
                found = [stored.model_dump(mode="json")]
            else:
                found = [j.model_dump(mode="json") for j in catalog.list_jobs(limit=args.limit)]
        finally:
            catalog.close()
        return _print_jobs(found, args.json)
    with client:
        if not args.request_id:
            return _print_jobs(client.jobs(limit=args.limit), args.json)
        if args.cancel:
            job = client.cancel(args.request_id)
        elif args.wait:
            job = _follow_index_job(
                client, {"request_id": args.request_id, "path": args.request_id}
            )
        else:
            job = client.job(args.request_id)
    _print_jobs([job], args.json)
    return 0 if job["status"] in ("done", "queued", "running") or args.cancel else 1


def _print_jobs(jobs: list[dict], as_json: bool) -> int:
    if as_json:
        print(json.dumps(jobs, indent=2, default=str))
        return 0
    for job in jobs:
        line = (
            f"{job['request_id']}  {job['kind']:<9} {job['status']:<9} "
            f"{float(job.get('progress', 0.0)) * 100:3.0f}%  {str(job.get('prompt', ''))[:50]}"
        )
        detail = job.get("error") or job.get("message") or ""
        print(line + (f"  ({detail})" if detail else ""))
    return 0
