"""Files read beside a video (subtitle sidecars) must lie where the video may be read from.

A ``video.srt`` symlink inside a library root that points at ``/etc/…`` or another user's files
would otherwise be read at indexing and its text made searchable. A sidecar is allowed when its
real path (every symlink followed) lies inside a library root that holds the video's real path;
a video outside every root (indexed by path from the local CLI) allows only its own folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def _real(path: Path) -> Path | None:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop, a name too long
        return None


def allowed_folders(video: Path, roots: Sequence[Path]) -> list[Path]:
    """The folders a file read beside ``video`` must resolve into."""
    real_video = _real(video)
    if real_video is None:
        return []
    real_roots = [r for r in (_real(Path(root)) for root in roots) if r is not None]
    holding = [root for root in real_roots if real_video.is_relative_to(root)]
    return holding or [real_video.parent]


def is_contained(candidate: Path, video: Path, roots: Sequence[Path]) -> bool:
    """True when ``candidate`` resolves inside the folders allowed for ``video``."""
    real = _real(candidate)
    if real is None:
        return False
    return any(real.is_relative_to(folder) for folder in allowed_folders(video, roots))
