"""Running ffmpeg/ffprobe (and other media tools): argument lists, no shell, timeouts,
stderr kept for the error message."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from scenespark.errors import ConfigError, MediaError, SceneSparkError

STDERR_TAIL_LINES = 6


def require_tool(name: str) -> str:
    """Path of an executable, or a one-line ConfigError naming what to install."""
    found = shutil.which(name)
    if not found:
        raise ConfigError(
            f"'{name}' is not installed", hint="run `make run` or apt-get install ffmpeg"
        )
    return found


def stderr_tail(stderr: bytes | str, lines: int = STDERR_TAIL_LINES) -> str:
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    kept = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(kept[-lines:])


def run_tool(
    args: Sequence[str | Path],
    *,
    timeout_s: float,
    error_cls: type[SceneSparkError] = MediaError,
    what: str = "",
    input_bytes: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run a command (first item is the tool name), raising ``error_cls`` with stderr on failure."""
    argv = [require_tool(str(args[0])), *[str(a) for a in args[1:]]]
    label = what or Path(argv[0]).name
    try:
        proc = subprocess.run(
            argv,
            input=input_bytes,
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        tail = stderr_tail(exc.stderr or b"")
        raise error_cls(
            f"{label} timed out after {timeout_s:.0f} s" + (f": {tail}" if tail else "")
        ) from exc
    if proc.returncode != 0:
        raise error_cls(f"{label} failed (exit {proc.returncode}): {stderr_tail(proc.stderr)}")
    return proc


def ffmpeg(
    args: Sequence[str | Path],
    *,
    timeout_s: float,
    error_cls: type[SceneSparkError] = MediaError,
    what: str = "ffmpeg",
) -> subprocess.CompletedProcess[bytes]:
    """``ffmpeg -hide_banner -nostdin -loglevel error -y <args>``."""
    base: list[str | Path] = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    return run_tool([*base, *args], timeout_s=timeout_s, error_cls=error_cls, what=what)
