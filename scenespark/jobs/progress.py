"""Progress reports and stop requests: the one callback type every long task takes.

``ProgressFn(fraction, message)`` reports how far a task is (0..1); ``KeyedProgressFn(key,
fraction, message)`` the same for one of several items. ``StopCheck()`` says whether
the task should stop; a task that sees it raise :class:`JobStopped` at the next safe point.
A :class:`StopToken` is the thread-safe flag behind a job's ``StopCheck`` (the job runner sets it
on a cancel request or a server stop).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

ProgressFn = Callable[[float, str], None]
# progress of several items at once (videos of a rebuild): ``report(key, fraction, message)``
KeyedProgressFn = Callable[[str, float, str], None]
StopCheck = Callable[[], bool]
T = TypeVar("T")

STOP_POLL_S = 0.1  # how often a waiting job looks at its stop flag


def no_progress(_fraction: float, _message: str = "") -> None:
    """A ``ProgressFn`` that ignores every report."""
    return None


def never_stop() -> bool:
    """A ``StopCheck`` for work nobody can cancel (the CLI, tests)."""
    return False


class JobStopped(Exception):
    """A task stopped because it was asked to (``reason``: "cancelled" or "server stopping").

    Not a ``SceneSparkError``: nothing may record it as a failure of the video or the render.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StopToken:
    """A stop request: set once (with a reason), read from any thread."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def request(self, reason: str) -> None:
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    __call__ = is_set  # a token is itself a StopCheck

    def raise_if_set(self) -> None:
        if self._event.is_set():
            raise JobStopped(self.reason or "stopped")

    def wait(self, timeout_s: float) -> bool:
        return self._event.wait(timeout_s)


def check_stop(should_stop: StopCheck | None, reason: str = "stopped") -> None:
    """Raise :class:`JobStopped` when ``should_stop`` says so."""
    if should_stop is not None and should_stop():
        raise JobStopped(getattr(should_stop, "reason", "") or reason)


def run_stoppable(fn: Callable[[], T], should_stop: StopCheck | None, *, name: str = "task") -> T:
    """Run a blocking call (an LLM request, say) so that a stop request ends the wait at once.

    ``fn`` runs on a daemon thread; this thread polls ``should_stop`` every ``STOP_POLL_S``. On a
    stop the call is abandoned (its result is dropped when it returns) and :class:`JobStopped`
    is raised. ``fn`` must therefore not write shared state (planning is pure but for its HTTP
    call). Without a ``should_stop`` it simply runs ``fn`` here.
    """
    if should_stop is None:
        return fn()
    check_stop(should_stop)
    box: dict[str, object] = {}
    done = threading.Event()

    def call() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the waiting thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=call, name=f"scenespark-{name}", daemon=True).start()
    while not done.wait(STOP_POLL_S):
        check_stop(should_stop)
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]
