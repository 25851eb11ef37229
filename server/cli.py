"""The single ``scenespark`` command.

It composes the shells (``indexer`` and ``server``), so it lives in the outermost package. Every
subcommand imports its heavy modules lazily, so ``scenespark --help`` and ``index status`` stay
fast. SceneSpark errors are turned into one line on stderr and a non-zero exit code, here only.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Callable, Sequence

from scenespark.errors import SceneSparkError

Handler = Callable[[argparse.Namespace], int]


def _add_index_commands(sub: argparse._SubParsersAction) -> None:
    index = sub.add_parser("index", help="add, rebuild, remove and report indexed videos")
    isub = index.add_subparsers(dest="index_command", required=True, metavar="COMMAND")

    add = isub.add_parser("add", help="index video files or folders (unchanged files are skipped)")
    add.add_argument("paths", nargs="+", help="video files or folders")
    add.add_argument("-r", "--recursive", action="store_true", help="descend into sub-folders")
    add.add_argument("--force", action="store_true", help="re-index even when unchanged")
    add.add_argument("--json", action="store_true", help="print the summary as JSON")
    add.add_argument(
        "--wait",
        action="store_true",
        help="beside a running server: follow the handed-off jobs; exit 1 if any fails",
    )
    add.add_argument(
        "--ray",
        metavar="ADDRESS",
        default=None,
        help="run the stages on Ray: 'local', or HOST:PORT of a `ray start` cluster "
        "(default: SCENESPARK_RAY_ADDRESS; empty = this machine without Ray)",
    )
    add.set_defaults(handler=_lazy("server.commands", "cmd_index_add"))

    rebuild = isub.add_parser(
        "rebuild", help="re-index modalities whose model changed (or the chosen ones)"
    )
    rebuild.add_argument(
        "--video", action="append", dest="videos", metavar="ID", help="only this video"
    )
    rebuild.add_argument(
        "--modality",
        action="append",
        dest="modalities",
        choices=["speech", "ocr", "visual"],
        help="force this modality (repeatable)",
    )
    rebuild.add_argument("--all", action="store_true", help="re-index everything from scratch")
    rebuild.add_argument("--json", action="store_true")
    rebuild.set_defaults(handler=_lazy("indexer.cli", "cmd_rebuild"))

    remove = isub.add_parser("remove", help="remove a video (by id or path) from the index")
    remove.add_argument("targets", nargs="+", metavar="ID|PATH")
    remove.set_defaults(handler=_lazy("server.commands", "cmd_index_remove"))

    status = isub.add_parser("status", help="videos, segment counts and models per modality")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=_lazy("indexer.cli", "cmd_status"))


def _lazy(module: str, func: str) -> Handler:
    def run(args: argparse.Namespace) -> int:
        import importlib

        return int(getattr(importlib.import_module(module), func)(args) or 0)

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scenespark",
        description="Semantic video search and prompt-driven highlights, on your own machine.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_index_commands(sub)

    search = sub.add_parser("search", help="search the library")
    search.add_argument("query")
    search.add_argument("--top-k", type=int, default=10)
    search.add_argument("--video", action="append", dest="videos", metavar="ID")
    search.add_argument(
        "--modality", action="append", dest="modalities", choices=["speech", "ocr", "visual"]
    )
    search.add_argument("--json", action="store_true")
    search.set_defaults(handler=_lazy("server.commands", "cmd_search"))

    highlight = sub.add_parser("highlight", help="make a highlight reel from a prompt")
    highlight.add_argument("prompt")
    highlight.add_argument("--duration", type=float, default=None, help="target seconds")
    highlight.add_argument("--video", action="append", dest="videos", metavar="ID")
    highlight.add_argument("--out", default=None, help="copy the reel and clips here")
    highlight.add_argument(
        "--order", choices=["chronological", "relevance"], default="chronological"
    )
    highlight.add_argument("--max-clips", type=int, default=12)
    highlight.add_argument(
        "--fast", action="store_true", help="stream-copy clips (not frame-exact)"
    )
    highlight.add_argument("--json", action="store_true")
    highlight.set_defaults(handler=_lazy("server.commands", "cmd_highlight"))

    jobs = sub.add_parser("jobs", help="background jobs of the server: list, show, follow, cancel")
    jobs.add_argument("request_id", nargs="?", metavar="ID", help="one job (default: recent jobs)")
    jobs.add_argument("--wait", action="store_true", help="follow the job until it finishes")
    jobs.add_argument("--cancel", action="store_true", help="cancel the job (queued or running)")
    jobs.add_argument("--limit", type=int, default=20, help="how many recent jobs to list")
    jobs.add_argument("--json", action="store_true")
    jobs.set_defaults(handler=_lazy("server.commands", "cmd_jobs"))

    serve = sub.add_parser("serve", help="run the HTTP API and web page")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.set_defaults(handler=_lazy("server.commands", "cmd_serve"))

    evaluate = sub.add_parser("eval", help="retrieval metrics on a dataset (scenespark-eval/1)")
    evaluate.add_argument("dataset")
    evaluate.add_argument("--json", action="store_true")
    evaluate.add_argument(
        "--baselines", action="store_true", help="also run single-modality baselines"
    )
    evaluate.set_defaults(handler=_lazy("server.commands", "cmd_eval"))

    models = sub.add_parser("models", help="which model backs each modality, and why")
    models.add_argument("--json", action="store_true")
    models.set_defaults(handler=_lazy("server.commands", "cmd_models"))

    run = sub.add_parser("run", help="index a folder (or a generated demo library) and serve it")
    run.add_argument("--videos", default=None, help="folder of your videos (default: demo library)")
    run.add_argument("--host", default=None)
    run.add_argument("--port", type=int, default=None)
    run.add_argument("--no-serve", action="store_true", help="stop after indexing")
    run.set_defaults(handler=_lazy("server.commands", "cmd_run"))
    return parser


def _leaf_parsers(parser: argparse.ArgumentParser) -> None:
    """Record on every sub-command its own parser, so errors show the sub-command's usage."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                sub.set_defaults(_parser=sub)
                _leaf_parsers(sub)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line; a mistyped flag is reported with the sub-command's usage."""
    parser = build_parser()
    _leaf_parsers(parser)
    args, extra = parser.parse_known_args(argv)
    if extra:
        leaf: argparse.ArgumentParser = getattr(args, "_parser", parser)
        leaf.error(f"unrecognized arguments: {' '.join(extra)}")  # exits 2
    return args


def validation_line(exc: Exception) -> str:
    """A pydantic ValidationError as one line: ``top_k: must be >= 1 (got -1)``."""
    errors = getattr(exc, "errors", None)
    parts: list[str] = []
    for error in errors() if callable(errors) else []:
        field = ".".join(str(p) for p in error.get("loc", ())) or "value"
        message = str(error.get("msg", "invalid"))
        got = error.get("input")
        shown = f" (got {got!r})" if isinstance(got, int | float | str) and got != "" else ""
        parts.append(f"{field}: {message}{shown}")
    return "; ".join(parts) or " ".join(str(exc).split())


def _quiet_closed_stdout() -> None:
    """The reader of our stdout went away (``| head``): drop the rest of the output quietly."""
    import os

    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    from pydantic import ValidationError

    try:
        code = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows up here rather than at interpreter exit
        return code
    except SceneSparkError as exc:
        print(f"scenespark: error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    except ValidationError as exc:  # a bad value (flag or SCENESPARK_* setting)
        print(f"scenespark: error: {validation_line(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        _quiet_closed_stdout()
        return 141  # 128 + SIGPIPE, as a shell reports a command killed by a closed pipe
    except KeyboardInterrupt:
        print("scenespark: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
