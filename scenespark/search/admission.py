"""How many searches run at once past their query embedding (the rest wait their turn).

Twenty searches let loose together on two cores all progress slowly: each holds the GIL for its
Python (fusion, catalog rows) in 5 ms slices against nineteen others, and every one of them
finishes late. Admitting ``search_concurrency`` at a time (default: the core count) finishes
each in its turn. The query embedding stays outside the gate, so searches that wait there are
embedded together in one batch (:mod:`scenespark.search.query_embedding`).
"""

from __future__ import annotations

import os
import threading
import weakref

from scenespark.config import Settings
from scenespark.engine import Engine

_gates: weakref.WeakKeyDictionary[Engine, threading.BoundedSemaphore] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def search_slots(settings: Settings) -> int:
    """Searches admitted at once: ``search_concurrency``, else the core count."""
    return settings.search_concurrency or os.cpu_count() or 1


def search_gate(engine: Engine) -> threading.BoundedSemaphore:
    """The semaphore shared by every search of one engine (one per server process)."""
    with _lock:
        gate = _gates.get(engine)
        if gate is None:
            gate = _gates[engine] = threading.BoundedSemaphore(search_slots(engine.settings))
        return gate
