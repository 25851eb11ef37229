"""The Litestar server: problem+json errors, path checks, uploads, jobs, Range media, OpenAPI.

Real SQLite catalog and data dir in a tmp home; the app runs through Litestar's TestClient with
its real lifespan (writer lock, server.json). Job workers are off except in the slow test, so
submitted jobs stay queued in the catalog where the tests can inspect them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

from scenespark.config import Settings
from scenespark.engine import Engine
from scenespark.errors import ConflictError
from scenespark.jobs.writer_lock import running_server
from scenespark.types import (
    Clip,
    HighlightJob,
    HighlightResult,
    IndexJob,
    JobStatus,
    Video,
    VideoStatus,
)
from server.app import create_app
from server.problems import EXCEPTION_HANDLERS

MEDIA_BYTES = bytes(range(256)) * 40  # 10,240 bytes with a recognisable pattern
SECRET_BYTES = b"TOP-SECRET-CONTENT"
JSON_TYPE = {"content-type": "application/json"}
SAME_ORIGIN = {"origin": "http://testserver.local"}  # the TestClient's own origin


@pytest.fixture
def srv_library(tmp_path: Path) -> Path:
    library = tmp_path / "library"
    library.mkdir()
    (library / "talk.mp4").write_bytes(b"not really a video")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.mp4").write_bytes(SECRET_BYTES)
    os.symlink(outside / "secret.mp4", library / "escape.mp4")
    os.symlink(outside, library / "escape_dir")
    return library


@pytest.fixture
def srv_settings(tmp_path: Path, srv_library: Path) -> Settings:
    return Settings(home=tmp_path / "home", library_roots=[srv_library], max_upload_mb=1)


@pytest.fixture
def srv_engine(srv_settings: Settings) -> Iterator[Engine]:
    engine = Engine(srv_settings)
    yield engine
    engine.close()


@pytest.fixture
def srv_client(srv_settings: Settings, srv_engine: Engine) -> Iterator[TestClient]:
    app = create_app(srv_settings, engine=srv_engine, start_workers=False)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def srv_media_file(srv_settings: Settings) -> Path:
    path = srv_settings.media_dir / "clips" / "sample.mp4"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(MEDIA_BYTES)
    return path


@pytest.fixture
def srv_video(srv_engine: Engine, srv_library: Path) -> Video:
    video = Video(
        video_id="v0000000000000001",
        path=str(srv_library / "talk.mp4"),
        title="talk",
        duration_s=30.0,
        status=VideoStatus.READY,
    )
    srv_engine.catalog.upsert_video(video)
    return video


def _done_highlight(engine: Engine, video_id: str, **params: object) -> HighlightJob:
    clips = [
        Clip(
            clip_id="c1",
            video_id=video_id,
            start_s=1.0,
            end_s=4.0,
            tags=["intro"],
            description="opening",
            path="media/clips/c1.mp4",
        ),
        Clip(
            clip_id="c2",
            video_id=video_id,
            start_s=10.0,
            end_s=15.0,
            title="the demo",
            path="media/clips/c2.mp4",
        ),
    ]
    job = HighlightJob(
        request_id="done0001",
        prompt="the best bits",
        params={
            "prompt": "the best bits",
            "target_duration_s": 8.0,
            "video_ids": [video_id],
            **params,
        },
        status=JobStatus.DONE,
        progress=1.0,
        result=HighlightResult(clips=clips, duration_s=8.0, reel_path="media/reels/r.mp4"),
    )
    engine.catalog.save_job(job)
    return job


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    assert "Traceback" not in response.text
    return body


# ------------------------------------------------------------------------------ health, pages
def test_health_reports_models_counts_store_and_planner(srv_client: TestClient) -> None:
    response = srv_client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] in ("ok", "degraded")
    assert body["store"]["mode"] == "embedded"
    assert body["planner"] == "deterministic"
    assert body["index"] == {"videos": 0, "segments": {"speech": 0, "ocr": 0, "visual": 0}}
    modalities = {m["modality"] for m in body["models"]}
    assert {"text", "speech", "ocr", "visual"} <= modalities


def test_root_serves_the_web_page_and_static(srv_client: TestClient) -> None:
    response = srv_client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()
    assert srv_client.get("/static/index.html").status_code == 200


def test_schema_is_usable_offline(srv_client: TestClient) -> None:
    page = srv_client.get("/schema")
    assert page.status_code == 200
    assert "/schema/openapi.json" in page.text
    assert "cdn" not in page.text.lower() and "<script" not in page.text.lower()

    spec = srv_client.get("/schema/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/v1/health",
        "/api/v1/search",
        "/api/v1/videos",
        "/api/v1/videos/{video_id}",
        "/api/v1/jobs/{request_id}",
        "/api/v1/highlights",
        "/api/v1/highlights/{request_id}",
        "/api/v1/highlights/{request_id}/replan",
        "/api/v1/clips/subtitle_clipper",
        "/api/v1/clips/subtitle_clipper/{request_id}",
        "/media/files/{file_path}",
        "/media/videos/{video_id}",
    ):
        assert path in paths, path
    search = paths["/api/v1/search"]["post"]
    assert "200" in search["responses"]
    assert search["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "SearchRequest"
    )
    schemas = spec["components"]["schemas"]
    assert {"SearchRequest", "SearchResponse", "HighlightRequest", "JobRef"} <= schemas.keys()
    add = paths["/api/v1/videos"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= add.keys()
    assert "202" in paths["/api/v1/highlights"]["post"]["responses"]


# ------------------------------------------------------------------------------ problems
def test_search_rejects_blank_and_malformed_queries(srv_client: TestClient) -> None:
    assert_problem(srv_client.post("/api/v1/search", json={"query": "   "}), 400)
    body = assert_problem(srv_client.post("/api/v1/search", json={"query": ""}), 400)
    assert body["errors"][0]["field"].endswith("query")
    assert_problem(srv_client.post("/api/v1/search", json={"query": "x", "top_k": "many"}), 400)
    assert_problem(srv_client.post("/api/v1/search", json={"query": "x", "top_k": 0}), 400)
    assert_problem(srv_client.post("/api/v1/search", content=b"{not json", headers=JSON_TYPE), 400)


def test_unknown_resources_are_404_problems(srv_client: TestClient) -> None:
    assert_problem(srv_client.get("/api/v1/videos/nope"), 404)
    assert_problem(srv_client.delete("/api/v1/videos/nope"), 404)
    assert_problem(srv_client.get("/api/v1/jobs/nope"), 404)
    assert_problem(srv_client.get("/api/v1/highlights/nope"), 404)
    assert_problem(srv_client.get("/api/v1/clips/subtitle_clipper/nope"), 404)
    body = {"query": "tomatoes", "video_ids": ["nope"]}
    problem = assert_problem(srv_client.post("/api/v1/search", json=body), 404)
    assert "nope" in problem["detail"]
    assert_problem(srv_client.get("/api/v1/nothing-here"), 404)
    assert_problem(srv_client.get("/media/videos/nope"), 404)
    assert_problem(srv_client.get("/media/files/media/clips/none.mp4"), 404)
    assert_problem(srv_client.delete("/api/v1/health"), 405)


def test_unexpected_errors_become_generic_500_problems() -> None:
    @get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals /etc/shadow")

    app = Litestar([boom], exception_handlers=EXCEPTION_HANDLERS)
    with TestClient(app) as client:
        body = assert_problem(client.get("/boom"), 500)
    assert "secret" not in body["detail"]


# ------------------------------------------------------------------------------ paths
@pytest.mark.parametrize(
    "given",
    [
        "../etc/passwd",
        "../../../../etc/passwd",
        "/etc/passwd",
        "escape.mp4",  # symlink to a file outside the roots
        "escape_dir/secret.mp4",  # through a symlinked folder
        "talk.mp4/../../outside/secret.mp4",
    ],
)
def test_paths_outside_the_library_roots_are_403(
    srv_client: TestClient, srv_library: Path, given: str
) -> None:
    body = assert_problem(srv_client.post("/api/v1/videos", json={"path": given}), 403)
    assert "secret" not in body.get("hint", "")


def test_absolute_escape_through_dotdot_is_403(srv_client: TestClient, srv_library: Path) -> None:
    sneaky = f"{srv_library}/../outside/secret.mp4"
    assert_problem(srv_client.post("/api/v1/videos", json={"path": sneaky}), 403)


def test_no_library_roots_is_403_naming_the_setting(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home2", library_roots=[])
    with TestClient(create_app(settings, start_workers=False)) as client:
        body = assert_problem(client.post("/api/v1/videos", json={"path": "/tmp/x.mp4"}), 403)
    assert "SCENESPARK_LIBRARY_ROOTS" in body["detail"] + body.get("hint", "")


def test_missing_file_inside_a_root_is_404(srv_client: TestClient) -> None:
    assert_problem(srv_client.post("/api/v1/videos", json={"path": "missing.mp4"}), 404)


def test_bad_add_bodies(srv_client: TestClient) -> None:
    assert_problem(srv_client.post("/api/v1/videos", json={"nopath": 1}), 400)
    assert_problem(srv_client.post("/api/v1/videos", json={"path": ""}), 400)
    response = srv_client.post(
        "/api/v1/videos", content=b"talk.mp4", headers={"content-type": "text/plain"}
    )
    assert_problem(response, 415)


def test_add_by_path_queues_an_index_job(srv_client: TestClient, srv_library: Path) -> None:
    response = srv_client.post("/api/v1/videos", json={"path": "talk.mp4"})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["path"] == str((srv_library / "talk.mp4").resolve())
    request_id = body["job"]["request_id"]
    assert body["job"]["status"] == "queued"

    job = srv_client.get(f"/api/v1/jobs/{request_id}").json()
    assert job["kind"] == "index" and job["status"] == "queued"
    assert job["params"]["path"] == body["path"]

    listing = srv_client.get("/api/v1/videos").json()
    assert listing["videos"] == []
    assert [j["request_id"] for j in listing["jobs"]] == [request_id]
    assert_problem(srv_client.get(f"/api/v1/highlights/{request_id}"), 404)  # not a highlight


def test_local_cli_token_allows_paths_outside_the_roots(
    srv_client: TestClient, srv_settings: Settings, tmp_path: Path
) -> None:
    token_file = srv_settings.home / "server.token"
    assert token_file.stat().st_mode & 0o077 == 0  # only the owner can read it
    outside = str(tmp_path / "outside" / "secret.mp4")
    wrong = {"X-SceneSpark-Token": "guess"}
    assert_problem(srv_client.post("/api/v1/videos", json={"path": outside}, headers=wrong), 403)
    right = {"X-SceneSpark-Token": token_file.read_text()}
    response = srv_client.post("/api/v1/videos", json={"path": outside}, headers=right)
    assert response.status_code == 202, response.text
    missing = {"path": str(tmp_path / "nope.mp4")}
    assert_problem(srv_client.post("/api/v1/videos", json=missing, headers=right), 404)


# ------------------------------------------------------------------------------ uploads
def test_upload_over_the_limit_is_413_and_leaves_nothing(
    srv_client: TestClient, srv_settings: Settings
) -> None:
    two_mb = b"\0" * (2 * 1024 * 1024)
    response = srv_client.post(
        "/api/v1/videos", files={"file": ("big.mp4", two_mb, "video/mp4")}, headers=SAME_ORIGIN
    )
    assert_problem(response, 413)
    # announced size within the framing allowance: caught while streaming
    one_and_half = b"\0" * (1536 * 1024)
    response = srv_client.post(
        "/api/v1/videos",
        files={"file": ("big.mp4", one_and_half, "video/mp4")},
        headers=SAME_ORIGIN,
    )
    assert_problem(response, 413)
    uploads = srv_settings.home / "uploads"
    assert not uploads.exists() or list(uploads.iterdir()) == []


def test_upload_is_saved_under_a_safe_name_and_queued(
    srv_client: TestClient, srv_settings: Settings, short_video: Path
) -> None:
    payload = short_video.read_bytes()  # a real (0.5 s) video: uploads must be videos
    response = srv_client.post(
        "/api/v1/videos",
        files={"file": ("../../evil name;rm -rf.mp4", payload, "video/mp4")},
        data={"force": "true"},
        headers=SAME_ORIGIN,
    )
    assert response.status_code == 202, response.text
    saved = [p for p in (srv_settings.home / "uploads").rglob("*") if p.is_file()]
    assert len(saved) == 1
    assert saved[0].read_bytes() == payload
    assert saved[0].suffix == ".mp4" and "/" not in saved[0].name and ";" not in saved[0].name
    job = srv_client.get(f"/api/v1/jobs/{response.json()['job']['request_id']}").json()
    assert job["params"]["source"] == "upload" and job["params"]["force"] is True
    assert Path(job["params"]["path"]) == saved[0]


def test_upload_without_file_field_is_400(srv_client: TestClient) -> None:
    response = srv_client.post(
        "/api/v1/videos", files={"other": ("a.txt", b"x", "text/plain")}, headers=SAME_ORIGIN
    )
    assert_problem(response, 400)


# ------------------------------------------------------------------------------ highlights
def test_impossible_highlight_params_are_422(srv_client: TestClient) -> None:
    body = {"prompt": "goals", "min_clip_s": 10, "max_clip_s": 5}
    assert_problem(srv_client.post("/api/v1/highlights", json=body), 422)
    body = {"prompt": "goals", "target_duration_s": 1, "min_clip_s": 5}
    assert_problem(srv_client.post("/api/v1/highlights", json=body), 422)
    assert_problem(srv_client.post("/api/v1/highlights", json={"prompt": ""}), 400)
    body = {"prompt": "goals", "video_ids": ["unknown"]}
    assert_problem(srv_client.post("/api/v1/highlights", json=body), 404)
    # a prompt naming no topic needs chosen videos: said at once, not as a failed job
    problem = srv_client.post("/api/v1/highlights", json={"prompt": "the best 30 seconds"})
    assert_problem(problem, 422)
    assert "names no topic" in problem.json()["detail"]


def test_highlight_job_lifecycle_and_replan(
    srv_client: TestClient, srv_engine: Engine, srv_video: Video
) -> None:
    response = srv_client.post(
        "/api/v1/highlights", json={"prompt": "the demo", "target_duration_s": 20}
    )
    assert response.status_code == 202
    queued_id = response.json()["request_id"]
    job = srv_client.get(f"/api/v1/highlights/{queued_id}").json()
    assert job["status"] == "queued" and job["params"]["target_duration_s"] == 20
    assert_problem(srv_client.post(f"/api/v1/highlights/{queued_id}/replan", json={}), 409)

    done = _done_highlight(srv_engine, srv_video.video_id, excluded_clip_ids=["c9"])
    shown = srv_client.get(f"/api/v1/highlights/{done.request_id}").json()
    assert shown["status"] == "done"
    assert [c["clip_id"] for c in shown["result"]["clips"]] == ["c1", "c2"]

    replan = {"target_duration_s": 12, "locked_clip_ids": ["c2"], "excluded_clip_ids": ["c1"]}
    response = srv_client.post(f"/api/v1/highlights/{done.request_id}/replan", json=replan)
    assert response.status_code == 202, response.text
    child = srv_client.get(f"/api/v1/highlights/{response.json()['request_id']}").json()
    params = child["params"]
    assert params["parent_request_id"] == done.request_id
    assert params["target_duration_s"] == 12
    assert params["locked_clip_ids"] == ["c2"]
    assert params["excluded_clip_ids"] == ["c1", "c9"]
    assert params["video_ids"] == [srv_video.video_id]

    bad = {"locked_clip_ids": ["nope"]}
    assert_problem(srv_client.post(f"/api/v1/highlights/{done.request_id}/replan", json=bad), 422)
    assert_problem(srv_client.post("/api/v1/highlights/unknown/replan", json={}), 404)


def test_subtitle_clipper_compatibility(
    srv_client: TestClient, srv_engine: Engine, srv_video: Video
) -> None:
    missing = {"video_id": "unknown"}
    assert_problem(srv_client.post("/api/v1/clips/subtitle_clipper", json=missing), 404)
    response = srv_client.post(
        "/api/v1/clips/subtitle_clipper", json={"video_id": srv_video.video_id}
    )
    assert response.status_code == 202
    request_id = response.json()["request_id"]
    status = srv_client.get(f"/api/v1/clips/subtitle_clipper/{request_id}").json()
    assert status["status"] == "queued" and status["clips"] == []
    job = srv_client.get(f"/api/v1/jobs/{request_id}").json()
    assert job["params"]["prompt"] == "the most important moments"
    assert job["params"]["video_ids"] == [srv_video.video_id]

    done = _done_highlight(srv_engine, srv_video.video_id)
    status = srv_client.get(f"/api/v1/clips/subtitle_clipper/{done.request_id}").json()
    assert status["status"] == "done"
    assert status["clips"][0] == {
        "start": 1.0,
        "end": 4.0,
        "path": "media/clips/c1.mp4",
        "tags": ["intro"],
        "description": "opening",
    }
    assert status["clips"][1]["description"] == "the demo"


def test_videos_show_and_delete(
    srv_client: TestClient, srv_engine: Engine, srv_video: Video
) -> None:
    listing = srv_client.get("/api/v1/videos").json()
    assert [v["video_id"] for v in listing["videos"]] == [srv_video.video_id]
    shown = srv_client.get(f"/api/v1/videos/{srv_video.video_id}").json()
    assert shown["media_url"] == f"/media/videos/{srv_video.video_id}"
    assert srv_client.delete(f"/api/v1/videos/{srv_video.video_id}").status_code == 204
    assert srv_engine.catalog.get_video(srv_video.video_id) is None
    assert Path(srv_video.path).exists()  # a library file is never deleted
    assert_problem(srv_client.get(f"/api/v1/videos/{srv_video.video_id}"), 404)


# ------------------------------------------------------------------------------ media + Range
def test_media_files_full_and_ranges(srv_client: TestClient, srv_media_file: Path) -> None:
    url = "/media/files/media/clips/sample.mp4"
    full = srv_client.get(url)
    assert full.status_code == 200
    assert full.content == MEDIA_BYTES
    assert full.headers["accept-ranges"] == "bytes"
    assert full.headers["content-type"].startswith("video/mp4")

    part = srv_client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == MEDIA_BYTES[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(MEDIA_BYTES)}"
    assert part.headers["content-length"] == "100"

    tail = srv_client.get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == MEDIA_BYTES[-10:]
    open_end = srv_client.get(url, headers={"Range": "bytes=10000-"})
    assert open_end.status_code == 206 and open_end.content == MEDIA_BYTES[10000:]
    beyond = srv_client.get(url, headers={"Range": "bytes=0-999999"})
    assert beyond.status_code == 206 and beyond.content == MEDIA_BYTES

    bad = srv_client.get(url, headers={"Range": f"bytes={len(MEDIA_BYTES)}-"})
    assert_problem(bad, 416)
    assert bad.headers["content-range"] == f"bytes */{len(MEDIA_BYTES)}"
    # the short form without "media/" works too
    assert srv_client.get("/media/files/clips/sample.mp4").content == MEDIA_BYTES


@pytest.mark.parametrize(
    "path",
    [
        "/media/files/%2e%2e/catalog.db",
        "/media/files/media/%2e%2e/catalog.db",
        "/media/files/media/clips/%2e%2e/%2e%2e/%2e%2e/outside/secret.mp4",
        "/media/files/%2fetc%2fpasswd",
    ],
)
def test_media_files_cannot_escape_the_media_dir(
    srv_client: TestClient, srv_media_file: Path, path: str
) -> None:
    response = srv_client.get(path)
    assert response.status_code in (403, 404)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert b"SQLite" not in response.content and SECRET_BYTES not in response.content


def test_source_video_streams_with_ranges(srv_client: TestClient, srv_video: Video) -> None:
    data = Path(srv_video.path).read_bytes()
    response = srv_client.get(f"/media/videos/{srv_video.video_id}", headers={"Range": "bytes=4-"})
    assert response.status_code == 206
    assert response.content == data[4:]


# ------------------------------------------------------------------------------ lifecycle
def test_server_owns_the_store_and_cleans_up(srv_settings: Settings) -> None:
    first = create_app(srv_settings, start_workers=False)
    with TestClient(first) as client:
        assert client.get("/api/v1/health").status_code == 200
        assert (srv_settings.home / "server.json").exists()
        second = create_app(srv_settings, start_workers=False)
        with pytest.raises(BaseException) as failure, TestClient(second):
            pass
        assert any(isinstance(e, ConflictError) for e in _leaves(failure.value))
    assert not (srv_settings.home / "server.json").exists()
    assert not (srv_settings.home / "server.token").exists()
    assert running_server(srv_settings) is None
    with TestClient(create_app(srv_settings, start_workers=False)) as client:  # lock released
        assert client.get("/api/v1/health").status_code == 200


def test_restart_resumes_queued_jobs_or_fails_them_never_loses_them(
    srv_settings: Settings, srv_engine: Engine
) -> None:
    with TestClient(create_app(srv_settings, engine=srv_engine, start_workers=False)) as client:
        queued = client.post("/api/v1/videos", json={"path": "talk.mp4"}).json()["job"]
    orphan = IndexJob(request_id="orphan01", status=JobStatus.RUNNING)
    srv_engine.catalog.save_job(orphan)  # no path: cannot be resumed

    app = create_app(srv_settings, engine=srv_engine, warm_up=False)
    with TestClient(app) as client:
        resumed = _wait_for_job(client, queued["request_id"], 60)
        # resumed and run for real: the file is not a video, so it fails with the reason
        assert resumed["status"] == "failed", resumed
        assert resumed["error"] and "interrupted" not in resumed["error"]
        lost = client.get("/api/v1/jobs/orphan01").json()
        assert lost["status"] == "failed" and "restart" in lost["error"]


# ------------------------------------------------------------------------------ integration
def _wait_for_job(client: TestClient, request_id: str, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    job: dict = {}
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{request_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.5)
    return job


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_index_sample_video_through_the_api_then_search(sample_video, tmp_path: Path) -> None:
    """Real pipeline: add by path (job runner, IndexService, models), then search the narration;
    then upload the same file, which indexes through the upload path."""
    settings = Settings(home=tmp_path / "home", library_roots=[sample_video.path.parent])
    with TestClient(create_app(settings)) as client:
        response = client.post("/api/v1/videos", json={"path": sample_video.path.name})
        assert response.status_code == 202, response.text
        job = _wait_for_job(client, response.json()["job"]["request_id"], 840)
        assert job.get("status") == "done", job
        assert job["progress"] == 1.0 and job["video_id"]

        videos = client.get("/api/v1/videos").json()
        assert [v["video_id"] for v in videos["videos"]] == [job["video_id"]]
        assert videos["videos"][0]["status"] == "ready" and videos["jobs"] == []
        health = client.get("/api/v1/health").json()
        assert health["index"]["videos"] == 1 and health["index"]["segments"]["speech"] > 0

        hits = client.post("/api/v1/search", json={"query": "tomatoes", "top_k": 5})
        assert hits.status_code == 200, hits.text
        results = hits.json()["results"]
        assert results and results[0]["video_id"] == job["video_id"]
        assert results[0]["start_s"] < 7.5  # the narration is in the first scene
        if results[0]["thumbnail_url"]:
            assert client.get(results[0]["thumbnail_url"]).status_code == 200
        source = client.get(f"/media/videos/{job['video_id']}", headers={"Range": "bytes=0-99"})
        assert source.status_code == 206 and len(source.content) == 100

        body = {"prompt": "the garden and the tomatoes", "target_duration_s": 6, "min_clip_s": 1}
        started = client.post("/api/v1/highlights", json=body)
        assert started.status_code == 202, started.text
        request_id = started.json()["request_id"]
        reel = _wait_for_job(client, request_id, 600)
        assert reel["status"] == "done", reel
        result = reel["result"]
        assert result["clips"] and all(
            c["url"].startswith("/media/files/") for c in result["clips"]
        )
        assert result["reel_url"].startswith("/media/files/")
        part = client.get(result["reel_url"], headers={"Range": "bytes=0-1023"})
        assert part.status_code == 206 and len(part.content) == 1024
        assert client.get(result["srt_url"]).status_code == 200

        locked = result["clips"][0]["clip_id"]
        replan = {"target_duration_s": 8, "locked_clip_ids": [locked]}
        child = client.post(f"/api/v1/highlights/{request_id}/replan", json=replan)
        assert child.status_code == 202, child.text
        child_job = _wait_for_job(client, child.json()["request_id"], 600)
        assert child_job["status"] == "done", child_job
        assert locked in [c["clip_id"] for c in child_job["result"]["clips"]]

        clipper = client.post("/api/v1/clips/subtitle_clipper", json={"video_id": job["video_id"]})
        assert clipper.status_code == 202, clipper.text
        clipper_id = clipper.json()["request_id"]
        _wait_for_job(client, clipper_id, 600)
        status = client.get(f"/api/v1/clips/subtitle_clipper/{clipper_id}").json()
        assert status["status"] == "done", status
        assert status["clips"] and {"start", "end", "path", "tags", "description"} <= set(
            status["clips"][0]
        )

        with sample_video.path.open("rb") as handle:
            upload = client.post(
                "/api/v1/videos",
                files={"file": ("garden tour.mp4", handle, "video/mp4")},
                headers=SAME_ORIGIN,
            )
        assert upload.status_code == 202, upload.text
        again = _wait_for_job(client, upload.json()["job"]["request_id"], 840)
        assert again.get("status") == "done", again
        assert again["video_id"] == job["video_id"]  # same content, same id
