"""The ``scenespark`` command as a user runs it (a real process, real stores and models).

- ``index remove`` without a server removes everything of a video (catalog rows, vectors in
  every space, thumbnails), and ``index add`` works again afterwards; a data dir already broken
  by the old remove (row gone, vectors left) heals on the next command;
- bad values are one line on stderr and exit 2; closed pipes are quiet; a mistyped flag shows
  the subcommand's usage; ``--json`` writes only JSON to stdout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scenespark.config import load_settings
from scenespark.engine import Engine


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["SCENESPARK_HOME"] = str(home)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])  # this checkout first
    return env


def scenespark(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _vector_counts(home: Path) -> dict[str, int]:
    engine = Engine(load_settings(home=home))
    try:
        return {name: int(info["count"]) for name, info in engine.vectors.spaces().items()}
    finally:
        engine.close()


def _segment_count(home: Path) -> int:
    engine = Engine(load_settings(home=home))
    try:
        return sum(engine.catalog.count_segments().values())
    finally:
        engine.close()


@pytest.mark.slow
def test_remove_without_a_server_removes_everything_and_add_works_again(
    tmp_path: Path, sample_video
) -> None:
    home = tmp_path / "home"
    added = scenespark(home, "index", "add", "--json", str(sample_video.path))
    assert added.returncode == 0, added.stderr
    video_id = json.loads(added.stdout)["videos"][0]["video_id"]
    thumbs = home / "media" / "thumbs" / video_id
    assert thumbs.is_dir() and any(thumbs.iterdir())
    assert sum(_vector_counts(home).values()) > 0

    removed = scenespark(home, "index", "remove", video_id)
    assert removed.returncode == 0, removed.stderr
    assert "Traceback" not in removed.stderr
    assert sum(_vector_counts(home).values()) == 0  # every space, including ones never opened
    assert not thumbs.exists()
    assert _segment_count(home) == 0

    again = scenespark(home, "index", "add", "--json", str(sample_video.path))
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["indexed"] == 1
    assert sum(_vector_counts(home).values()) == _segment_count(home) > 0


@pytest.mark.slow
def test_a_data_dir_broken_by_the_old_remove_heals(tmp_path: Path, sample_video) -> None:
    home = tmp_path / "home"
    added = scenespark(home, "index", "add", "--json", str(sample_video.path))
    assert added.returncode == 0, added.stderr
    video_id = json.loads(added.stdout)["videos"][0]["video_id"]
    # what the old `index remove` left: the catalog row gone, vectors and thumbnails behind
    engine = Engine(load_settings(home=home))
    engine.catalog.delete_video(video_id)
    engine.close()
    assert sum(_vector_counts(home).values()) > 0

    status = scenespark(home, "index", "remove", video_id)  # unknown now: says so, then heals
    assert status.returncode != 0 and "Traceback" not in status.stderr
    assert sum(_vector_counts(home).values()) == 0
    assert not (home / "media" / "thumbs" / video_id).exists()
    again = scenespark(home, "index", "add", "--json", str(sample_video.path))
    assert again.returncode == 0, again.stderr
    assert sum(_vector_counts(home).values()) == _segment_count(home) > 0


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["highlight", "goals", "--duration", "-5"], "target_duration_s"),
        (["search", "pricing", "--top-k", "-1"], "top_k"),
        (["highlight", "goals", "--max-clips", "0"], "max_clips"),
        (["search", "pricing", "--top-k", "100000"], "top_k"),
    ],
)
def test_a_bad_value_is_one_line_and_exit_2(tmp_path: Path, args: list[str], field: str) -> None:
    proc = scenespark(tmp_path / "home", *args, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("scenespark: error:") and field in lines[0]
    assert proc.stdout == ""


def test_a_mistyped_flag_shows_the_subcommands_usage(tmp_path: Path) -> None:
    proc = scenespark(tmp_path / "home", "index", "status", "--jsno", timeout=60)
    assert proc.returncode == 2
    assert "usage: scenespark index status" in proc.stderr
    assert "unrecognized arguments: --jsno" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_closed_stdout_is_quiet(tmp_path: Path) -> None:
    """``scenespark index status | head -1``: the reader is gone before we write."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write now fails with EPIPE, deterministically
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "server.cli", "index", "status"],
            env=_env(tmp_path / "home"),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert proc.stderr == "", proc.stderr
    assert proc.returncode == 141
