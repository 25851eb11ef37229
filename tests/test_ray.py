"""``index add --ray``: a real two-node Ray cluster on 127.0.0.1 (a head and a worker node, each a
``ray start --block`` process group ended by its id) and a real ``chroma run`` server.

The indexing by Ray must give the same segments per video and modality, and the same search
answers, as the single-machine path; a worker node killed mid-run must not change the result.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scenespark.config import load_settings
from scenespark.engine import Engine
from server.demo_media import SynthScene, build_video
from tests.helpers import chroma_server, free_port
from tests.ray_cluster import ray_cluster

pytestmark = pytest.mark.slow

SCENESPARK = Path(sys.executable).with_name("scenespark")


# --- media and the single-machine baseline ---------------------------------------------------


def _videos(folder: Path) -> list[Path]:
    """Four tiny videos: narration + a caption, a caption without audio, plain pictures."""
    folder.mkdir(parents=True, exist_ok=True)
    specs = {
        "garden.mp4": (
            [
                SynthScene(3.0, "testsrc2", "SPRING SALE 42", text_start_s=0.5, text_end_s=2.5),
                SynthScene(3.0, "smptebars", narration="We plant red tomatoes and basil."),
            ],
            True,
        ),
        "shop.mp4": (
            [SynthScene(4.0, "color=c=navy", "OPEN DAILY", text_start_s=1.0, text_end_s=3.0)],
            False,
        ),
        "bars.mp4": ([SynthScene(2.0, "smptebars"), SynthScene(2.0, "testsrc2")], False),
        "sign.mp4": (
            [SynthScene(3.0, "color=c=darkgreen", "EXIT 7", text_start_s=0.5, text_end_s=2.5)],
            False,
        ),
    }
    paths = []
    for name, (scenes, audio) in specs.items():
        path = folder / name
        build_video(path, scenes, size=(320, 180), fps=15, with_audio=audio)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ray-library")
    _videos(folder)
    return folder


def _index(
    home: Path, folder: Path, *extra: str, env: dict[str, str] | None = None, chroma_url: str = ""
) -> subprocess.CompletedProcess:
    run_env = dict(env or os.environ, SCENESPARK_HOME=str(home), SCENESPARK_CHROMA_URL=chroma_url)
    return subprocess.run(
        [str(SCENESPARK), "index", "add", str(folder), "--json", *extra],
        env=run_env,
        capture_output=True,
        text=True,
        timeout=1200,
    )


@pytest.fixture(scope="module")
def local_home(tmp_path_factory: pytest.TempPathFactory, library: Path) -> Path:
    """The library indexed by the single-machine path (no Ray), embedded Chroma."""
    home = tmp_path_factory.mktemp("ray-local") / "home"
    result = _index(home, library)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["indexed"] == 4
    return home


Row = tuple[str, str, float, float, str, int]


def _segments(home: Path, chroma_url: str = "") -> list[Row]:
    engine = Engine(load_settings(home=home, chroma_url=chroma_url))
    try:
        return [
            (s.video_id, s.modality.value, s.start_s, s.end_s, s.text, s.shot_id)
            for s in engine.catalog.segments()
        ]
    finally:
        engine.close()


def _answers(home: Path, chroma_url: str, queries: list[str]) -> dict[str, list[tuple]]:
    from scenespark.search.engine import SearchEngine
    from scenespark.types import SearchRequest

    engine = Engine(load_settings(home=home, chroma_url=chroma_url))
    try:
        search = SearchEngine(engine)
        return {
            query: [
                (hit.video_id, round(hit.start_s, 2), round(hit.end_s, 2))
                for hit in search.search(SearchRequest(query=query, top_k=5)).results
            ]
            for query in queries
        }
    finally:
        engine.close()


def _vector_count(home: Path, chroma_url: str) -> int:
    engine = Engine(load_settings(home=home, chroma_url=chroma_url))
    try:
        total = 0
        for space in engine.vectors.spaces():
            engine.vectors.open_stored_space(space)
            total += engine.vectors.count(space)
        return total
    finally:
        engine.close()


QUERIES = ["red tomatoes", "spring sale", "open daily", "exit sign"]


# --- the tests -------------------------------------------------------------------------------


def test_without_ray_nothing_of_ray_is_imported(tmp_path: Path) -> None:
    probe = (
        "import sys; from server.cli import main; "
        "code = main(['index', 'status']); "
        "assert code == 0, code; "
        "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))"
    )
    env = dict(os.environ, SCENESPARK_HOME=str(tmp_path / "home"))
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_bad_ray_addresses_get_one_line(tmp_path: Path, library: Path) -> None:
    home = tmp_path / "home"
    bad = _index(home, library, "--ray", "not an address")
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0
    assert "is not an address" in bad.stderr and "Traceback" not in bad.stderr
    started = time.monotonic()
    nobody = _index(home, library, "--ray", f"127.0.0.1:{free_port()}")
    assert nobody.returncode == 10, nobody.stderr
    assert "no Ray cluster answers" in nobody.stderr and "Traceback" not in nobody.stderr
    assert time.monotonic() - started < 60
    assert not (home / "catalog.db").exists() or _segments(home) == []


def test_two_node_cluster_indexes_like_one_machine_and_survives_a_lost_node(
    tmp_path: Path, library: Path, local_home: Path
) -> None:
    expected = _segments(local_home)
    assert {row[1] for row in expected} == {"speech", "ocr", "visual"}
    expected_answers = _answers(local_home, "", QUERIES)
    assert expected_answers["red tomatoes"], "the baseline must find the narration"

    with ray_cluster(tmp_path, workers=1) as (address, workers, env):
        # an embedded store cannot serve a cluster: one line, nothing started
        refused = _index(tmp_path / "refused", library, "--ray", address, env=env)
        assert refused.returncode == 2, refused.stderr
        assert "SCENESPARK_CHROMA_URL" in refused.stderr
        assert refused.stderr.strip().count("\n") == 0, refused.stderr

        with chroma_server(tmp_path / "chroma", tmp_path / "chroma.log") as (_server, url):
            home = tmp_path / "ray-home"
            result = _index(home, library, "--ray", address, env=env, chroma_url=url)
            assert result.returncode == 0, result.stderr
            summary = json.loads(result.stdout)
            assert summary["indexed"] == 4 and summary["failed"] == 0
            assert _segments(home, url) == expected
            assert _answers(home, url, QUERIES) == expected_answers
            thumbs = list((home / "media" / "thumbs").rglob("*.jpg"))
            assert len(thumbs) == sum(1 for row in expected if row[1] == "visual")
            assert _vector_count(home, url) == len(expected)

        # a worker node killed mid-run: its work is redone elsewhere, nothing lost or doubled
        with chroma_server(tmp_path / "chroma2", tmp_path / "chroma2.log") as (_server, url):
            home = tmp_path / "ray-home-kill"
            log_path = tmp_path / "kill-run.log"
            run_env = dict(env, SCENESPARK_HOME=str(home), SCENESPARK_CHROMA_URL=url)
            with log_path.open("w") as log:
                proc = subprocess.Popen(
                    [str(SCENESPARK), "index", "add", str(library), "--ray", address, "--json"],
                    env=run_env,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                )
            try:
                deadline = time.monotonic() + 600
                while "frames on the cluster" not in log_path.read_text():
                    assert proc.poll() is None, log_path.read_text()[-2000:]
                    assert time.monotonic() < deadline, "no stage started"
                    time.sleep(0.5)
                time.sleep(2.0)  # the worker node's actors are loading models or scanning
                workers[0].kill()
                out, _ = proc.communicate(timeout=1200)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=30)
            stderr = log_path.read_text()
            assert proc.returncode == 0, stderr[-3000:]
            assert "retrying on another" in stderr, stderr[-3000:]
            assert json.loads(out)["indexed"] == 4
            assert _segments(home, url) == expected
            assert _vector_count(home, url) == len(expected)
            engine = Engine(load_settings(home=home, chroma_url=url))
            try:
                assert engine.catalog.stale_runs(older_than_s=0.0) == []
                assert len(engine.catalog.active_runs()) == 4 * 3
            finally:
                engine.close()


# --- the deployment guide ----------------------------------------------------------------------

DEPLOY = Path(__file__).resolve().parents[1] / "docs" / "deploy.md"


def test_deploy_guide_names_only_real_settings_and_a_consistent_compose_file() -> None:
    import yaml

    from scenespark.config import Settings

    text = DEPLOY.read_text()
    fields = {f"SCENESPARK_{name.upper()}" for name in Settings.model_fields}
    named = set(re.findall(r"SCENESPARK_[A-Z_]+[A-Z]", text))
    assert named and named <= fields, sorted(named - fields)

    compose = yaml.safe_load(re.search(r"```yaml\n(.*?)```", text, re.S).group(1))
    services = compose["services"]
    assert {"chroma", "api", "ray-head", "ray-worker"} <= set(services)
    for name in ("api", "ray-head", "ray-worker"):  # the media at the same path everywhere
        assert "media:/media:ro" in services[name]["volumes"], name
    for name in ("api", "ray-head"):  # the writers share the data dir
        assert "data:/data" in services[name]["volumes"], name
    assert "data:/data" not in services["ray-worker"]["volumes"]  # workers never write it
    env = services["ray-head"]["environment"]
    assert env["SCENESPARK_CHROMA_URL"].startswith("http://chroma:")
    assert env["RAY_AUTH_MODE"] == "token"


def test_deploy_guide_systemd_units_verify(tmp_path: Path) -> None:
    """The units of the guide pass ``systemd-analyze verify`` (with this venv's path)."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is needed to check the guide's units"
    text = DEPLOY.read_text()
    names = re.findall(r"`/etc/systemd/system/([a-z-]+\.service)`", text)
    blocks = re.findall(r"```ini\n(.*?)```", text, re.S)
    assert len(names) == len(blocks) == 4
    venv = str(Path(sys.executable).parent.parent)
    for name, block in zip(names, blocks, strict=True):
        unit = tmp_path / name
        unit.write_text(
            block.replace("/opt/scenespark/.venv", venv).replace(
                "EnvironmentFile=/etc/scenespark.env", "EnvironmentFile=-/etc/scenespark.env"
            )
        )
        result = subprocess.run(
            [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0 and not result.stderr.strip(), (name, result.stderr)
