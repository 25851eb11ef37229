"""Thread settings shared by the torch-based models (text embedder, CLIP, tagger)."""

from __future__ import annotations

import contextlib
import threading

_LOCK = threading.Lock()
_applied: int | None = None


def set_torch_threads(threads: int) -> None:
    """Set torch's intra-op threads once per process (torch's setting is process-wide).

    Inter-op threads can only be set before any parallel work starts, so failures there are
    ignored; intra-op threads are what matter for CPU inference.
    """
    global _applied
    with _LOCK:
        if _applied == threads:
            return
        import torch

        torch.set_num_threads(max(1, threads))
        if _applied is None:
            with contextlib.suppress(RuntimeError):
                torch.set_num_interop_threads(1)
        _applied = threads
