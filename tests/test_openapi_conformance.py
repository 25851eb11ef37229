"""OpenAPI = reality: schemathesis fuzzes the real server (uvicorn, real app, throwaway library
and data dir, API token on) from its own ``/schema/openapi.json`` and must find 0 server errors
and 0 conformance failures (status codes, content types, headers, response schemas, invalid data
rejected, ``Allow`` on OPTIONS...).

Bounded: a fixed seed, a few examples per operation and a time budget (about 90 s).
``positive_data_acceptance`` is left out: cross-field rules (``min_clip_s <= max_clip_s``, a
target no shorter than one clip, an existing library path) cannot be written in JSON Schema and
answer a documented 404/422, which that check counts as "valid data rejected". ``use_after_free``
is left out too: ``DELETE /api/v1/jobs/{id}`` cancels a job (issue 10) and the job stays readable
with status ``cancelled``, which that check reads as "deleted resource still available".
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from scenespark.config import Settings
from scenespark.engine import Engine
from scenespark.types import Video, VideoStatus
from server.app import create_app
from tests.helpers import free_port

pytestmark = pytest.mark.slow

TOKEN = "conformance-token"
MAX_EXAMPLES = 8
MAX_TIME_S = 90
SEED = 20261202
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture
def served(tmp_path: Path, short_video: Path) -> Iterator[tuple[str, Engine]]:
    library = tmp_path / "library"
    library.mkdir()
    (library / "clip.mp4").write_bytes(short_video.read_bytes())
    settings = Settings(
        home=tmp_path / "home", library_roots=[library], allowed_hosts=[], api_token=TOKEN
    )
    engine = Engine(settings)
    engine.catalog.upsert_video(
        Video(
            video_id="0123456789abcdef",
            path=str(library / "clip.mp4"),
            title="clip",
            duration_s=0.5,
            status=VideoStatus.READY,
        )
    )
    port = free_port()
    app = create_app(settings, engine=engine, start_workers=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", engine
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        engine.close()


def test_schemathesis_finds_no_server_error_and_no_conformance_failure(
    served: tuple[str, Engine], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url, _engine = served
    assert SCHEMATHESIS.exists(), "schemathesis is a dev dependency: pip install -e '.[dev]'"
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{url}/schema/openapi.json",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance,use_after_free",
        "--header",
        f"Authorization: Bearer {TOKEN}",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--max-time",
        str(MAX_TIME_S),
        "--seed",
        str(SEED),
        "--request-timeout",
        "20",
        "--generation-database",
        "none",
        "--no-color",
    ]
    with caplog.at_level(logging.ERROR, logger="scenespark"):
        proc = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=MAX_TIME_S + 120,
            cwd=tmp_path,
            env={**os.environ, "NO_COLOR": "1"},
        )
    report = proc.stdout + proc.stderr
    failures = report[report.find("FAILURES") :] if "FAILURES" in report else report[-6000:]
    assert proc.returncode == 0, failures[:8000]
    counts = re.search(r"(\d+) generated, (\d+) passed", report)
    assert counts is not None, report[-3000:]
    generated, passed = int(counts.group(1)), int(counts.group(2))
    assert generated > 300 and passed == generated, report[-3000:]
    assert "Server error" not in report and "failures" not in report.split("SUMMARY")[-1]
    server_errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert server_errors == [], [r.getMessage() for r in server_errors][:5]
