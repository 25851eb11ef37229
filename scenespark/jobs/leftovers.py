"""Sweeping what killed jobs leave in the data dir: render work dirs and partial files.

A render works in ``.render-<token>/`` beside its outputs and writes each output as
``.<name>.<token>.part<.ext>`` before renaming it; an upload streams into ``.<hex>.part``. A
process killed mid-way (SIGKILL, power loss) leaves them behind. The server sweeps them when it
starts, holding the writer lock. Entries touched in the last ``min_age_s`` are spared: they may
belong to a render that is still running in another process.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from pathlib import Path

log = logging.getLogger(__name__)

RENDER_DIR_PREFIX = ".render-"
PART_FILE = re.compile(r"^\..+\.part(\.[A-Za-z0-9]{1,8})?$")
SKIPPED_TOP_DIRS = frozenset({"chroma", "models"})  # stores we never sweep
DEFAULT_MIN_AGE_S = 120.0


def find_leftovers(home: Path, *, min_age_s: float = DEFAULT_MIN_AGE_S) -> list[Path]:
    """Render work dirs and partial files under ``home`` untouched for ``min_age_s``."""
    home = Path(home)
    if not home.is_dir():
        return []
    cutoff = time.time() - min_age_s
    found: list[Path] = []
    for root, dirs, files in os.walk(home, followlinks=False):
        here = Path(root)
        if here == home:
            dirs[:] = [d for d in dirs if d not in SKIPPED_TOP_DIRS]
        for name in list(dirs):
            if name.startswith(RENDER_DIR_PREFIX):
                dirs.remove(name)  # never descend into what is swept whole
                if _older(here / name, cutoff):
                    found.append(here / name)
        found.extend(
            here / name for name in files if PART_FILE.match(name) and _older(here / name, cutoff)
        )
    return sorted(found)


def sweep_leftovers(home: Path, *, min_age_s: float = DEFAULT_MIN_AGE_S) -> list[Path]:
    """Delete :func:`find_leftovers`; returns what was removed."""
    removed: list[Path] = []
    for path in find_leftovers(home, min_age_s=min_age_s):
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError as exc:
            log.warning("could not remove the leftover %s: %s", path, exc)
            continue
        removed.append(path)
    return removed


def _older(path: Path, cutoff: float) -> bool:
    try:
        return path.lstat().st_mtime < cutoff
    except OSError:
        return False
