"""The ``scenespark`` command beside a running server (both real processes, real models and
stores): search and highlight go through the HTTP API without loading models in the CLI, index
add/remove hand off to the server, ``--wait`` follows jobs and fails when they fail."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import free_port

pytestmark = pytest.mark.slow

HEAVY_MODULES = ("torch", "chromadb", "llama_index", "sentence_transformers", "faster_whisper")


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["SCENESPARK_HOME"] = str(home)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])  # this checkout first
    return env


def scenespark(
    home: Path, *args: str, timeout: float = 300, python_flags: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *python_flags, "-m", "server.cli", *args],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def cs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    home = tmp_path_factory.mktemp("cs") / "home"
    port = free_port()
    log = (home.parent / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
        env=_env(home),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, (home.parent / "serve.log").read_text()
            try:
                with urllib.request.urlopen(f"{url}/api/v1/health", timeout=5) as answer:
                    if json.load(answer)["status"] != "warming" and (home / "server.json").exists():
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.5)
        yield home, url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_cli_beside_a_running_server(
    cs_server: tuple[Path, str], sample_video, tmp_path: Path
) -> None:
    home, url = cs_server
    library = tmp_path / "library"
    library.mkdir()
    video = library / "garden.mp4"
    shutil.copyfile(sample_video.path, video)
    notes = library / "notes.txt"
    notes.write_text("not a video")

    # index add without --wait: the job id and how to follow it, never a silent success
    queued = scenespark(home, "index", "add", str(notes))
    assert queued.returncode == 0, queued.stderr
    assert "not indexed yet" in queued.stderr and "--wait" in queued.stderr
    request_id = queued.stderr.split("as job ")[1].split()[0]
    followed = scenespark(home, "jobs", request_id, "--wait")
    assert followed.returncode == 1, followed.stdout + followed.stderr
    assert "failed" in followed.stdout

    failing = scenespark(home, "index", "add", str(notes), "--wait")
    assert failing.returncode == 1
    assert "not a readable video" in failing.stderr and "Traceback" not in failing.stderr

    added = scenespark(home, "index", "add", str(video), "--wait", "--json")
    assert added.returncode == 0, added.stderr
    job = json.loads(added.stdout)["jobs"][0]  # stdout is only JSON
    assert job["status"] == "done" and job["outcomes"][0]["action"] == "indexed"
    video_id = job["video_id"]

    # search through the server: no model library imported by the CLI
    found = scenespark(home, "search", "red tomatoes", "--json", python_flags=("-X", "importtime"))
    assert found.returncode == 0, found.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in found.stderr.splitlines() if "|" in line}
    assert not {m for m in imported if m.split(".")[0] in HEAVY_MODULES}
    hits = json.loads(found.stdout)["results"]
    assert hits and hits[0]["video_id"] == video_id
    plain = scenespark(home, "search", "red tomatoes")
    assert plain.returncode == 0 and f"answered by the server at {url}" in plain.stdout

    asked = time.monotonic()
    unknown = scenespark(home, "search", "tomatoes", "--video", "deadbeefdeadbeef")
    assert unknown.returncode == 3 and time.monotonic() - asked < 30
    assert unknown.stderr.strip().splitlines() == [
        "scenespark: error: no indexed video with id 'deadbeefdeadbeef'"
    ]

    out = tmp_path / "reel"
    made = scenespark(
        home, "highlight", "a 5-second highlight of the garden", "--json", "--out", str(out)
    )
    assert made.returncode == 0, made.stderr
    result = json.loads(made.stdout)  # messages went to stderr
    assert result["clips"] and (out / "reel.mp4").is_file()
    assert "copied the reel" in made.stderr

    removed = scenespark(home, "index", "remove", video_id)
    assert removed.returncode == 0, removed.stderr
    with urllib.request.urlopen(f"{url}/api/v1/health", timeout=10) as answer:
        assert json.load(answer)["index"]["videos"] == 0
