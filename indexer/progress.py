"""Progress for the index CLI: rich bars on a terminal, plain throttled log lines otherwise."""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import TextIO

PLAIN_EVERY_S = 5.0


class ProgressDisplay:
    def __init__(self, stream: TextIO | None = None, *, force_plain: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.fancy = not force_plain and self.stream.isatty()
        self._lock = threading.Lock()
        self._tasks: dict[str, int] = {}
        self._labels: dict[str, str] = {}
        self._last_plain: dict[str, tuple[float, str]] = {}
        self._progress = None

    def __enter__(self) -> ProgressDisplay:
        if self.fancy:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("[bold]{task.fields[label]}", justify="left"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TextColumn("{task.fields[stage]}"),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                transient=False,
            )
            self._progress.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.__exit__(exc_type, exc, tb)

    def add(self, key: str, label: str) -> None:
        with self._lock:
            self._labels[key] = label
            if self._progress is not None:
                self._tasks[key] = self._progress.add_task(
                    "", total=100, label=label, stage="queued"
                )

    def update(self, key: str, fraction: float, stage: str) -> None:
        with self._lock:
            if self._progress is not None and key in self._tasks:
                self._progress.update(self._tasks[key], completed=100 * fraction, stage=stage)
                return
            now = time.monotonic()
            last_t, last_stage = self._last_plain.get(key, (0.0, ""))
            if stage != last_stage or now - last_t >= PLAIN_EVERY_S or fraction >= 1.0:
                self._last_plain[key] = (now, stage)
                label = self._labels.get(key, key)
                print(f"[{label}] {stage} {fraction * 100:3.0f}%", file=self.stream, flush=True)

    def log(self, line: str) -> None:
        with self._lock:
            if self._progress is not None:
                self._progress.console.print(line, markup=False, highlight=False)
            else:
                print(line, file=self.stream, flush=True)
