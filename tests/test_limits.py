"""Bounded work and safe media over HTTP: JSON depth and size, path length, list and duration
limits (in the OpenAPI schema too), the reel cap, media types and relative paths in errors.

Real app with its lifespan and a real SQLite catalog in a tmp data dir (Litestar TestClient).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from scenespark.config import Settings
from scenespark.engine import Engine
from scenespark.highlights.planner import plan_highlight
from scenespark.types import HighlightRequest, Video, VideoStatus
from server.app import create_app
from server.media import media_type_for
from server.security.json_depth import JsonDepthScanner

BASE = "http://localhost:8000"
JSON = {"content-type": "application/json"}


@pytest.fixture
def lim_settings(tmp_path: Path) -> Settings:
    library = tmp_path / "library"
    library.mkdir()
    return Settings(home=tmp_path / "home", library_roots=[library])


@pytest.fixture
def lim_engine(lim_settings: Settings) -> Iterator[Engine]:
    engine = Engine(lim_settings)
    yield engine
    engine.close()


@pytest.fixture
def client(lim_settings: Settings, lim_engine: Engine) -> Iterator[TestClient]:
    app = create_app(lim_settings, engine=lim_engine, start_workers=False)
    with TestClient(app, base_url=BASE) as test_client:
        yield test_client


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Traceback" not in response.text
    return response.json()


def _add_video(engine: Engine, path: Path, video_id: str = "0123456789abcdef") -> Video:
    video = Video(
        video_id=video_id,
        path=str(path),
        title=path.stem,
        duration_s=10.0,
        fps=25.0,
        width=64,
        height=48,
        status=VideoStatus.READY,
    )
    engine.catalog.upsert_video(video)
    return video


def test_deep_json_is_400_on_every_json_route(client: TestClient) -> None:
    deep = b"[" * 5000 + b"]" * 5000
    wrapped = b'{"query": ' + deep + b', "prompt": "x"}'
    for path in ("/api/v1/search", "/api/v1/highlights", "/api/v1/videos", "/api/v1/session"):
        for body in (deep, wrapped):
            detail = _problem(client.post(path, content=body, headers=JSON), 400)["detail"]
            assert "nested deeper" in detail
    # depth inside strings does not count
    flat = client.post("/api/v1/search", json={"query": "[" * 900}, headers=JSON)
    assert flat.status_code != 400 or "nested" not in flat.text


def test_oversized_bodies_are_413(client: TestClient) -> None:
    big = b'{"query": "' + b"a" * (5 * 1024 * 1024) + b'"}'
    _problem(client.post("/api/v1/search", content=big, headers=JSON), 413)
    _problem(client.post("/api/v1/videos", content=big, headers=JSON), 413)


def test_long_paths_and_names_are_400_not_500(client: TestClient, tmp_path: Path) -> None:
    for path in ("a" * 4095, "n" * 300 + ".mp4", str(tmp_path / ("n" * 300))):
        _problem(client.post("/api/v1/videos", json={"path": path}), 400)
    # short names, but too long once joined to a root: no file there (never ENAMETOOLONG 500)
    deep = client.post("/api/v1/videos", json={"path": "x/" * 2047})
    assert deep.status_code in (400, 404), deep.text
    _problem(client.post("/api/v1/videos", json={"path": "a" * 4096}), 400)  # schema limit
    _problem(client.get("/media/files/" + "a" * 300), 400)
    _problem(client.get("/media/files/" + "a/" * 2100), 400)


def test_list_limits_and_dedup(client: TestClient, lim_engine: Engine, tmp_path: Path) -> None:
    too_many = [f"{i:016x}" for i in range(1001)]
    _problem(client.post("/api/v1/search", json={"query": "x", "video_ids": too_many}), 400)
    _problem(client.post("/api/v1/highlights", json={"prompt": "x", "video_ids": too_many}), 400)
    excluded = {"prompt": "x", "excluded_clip_ids": too_many}
    _problem(client.post("/api/v1/highlights", json=excluded), 400)
    video = _add_video(lim_engine, tmp_path / "library" / "a.mp4")
    response = client.post(
        "/api/v1/highlights", json={"prompt": "x", "video_ids": [video.video_id] * 1000}
    )
    assert response.status_code == 202, response.text
    job = client.get(response.json()["url"]).json()
    assert job["params"]["video_ids"] == [video.video_id]


@pytest.mark.parametrize(
    "bad",
    [
        {"min_clip_s": 1e-300},
        {"min_clip_s": 0.1},
        {"max_clip_s": 601},
        {"max_clip_s": 1e300},
        {"target_duration_s": 99999999 * 3600.0},
        {"target_duration_s": -5},
        {"max_clips": 0},
        {"prompt": "x" * 2001},
    ],
)
def test_highlight_bounds_are_400(client: TestClient, bad: dict) -> None:
    _problem(client.post("/api/v1/highlights", json={"prompt": "a reel"} | bad), 400)


@pytest.mark.parametrize(
    "bad", [{"min_score": -0.1}, {"top_k": -1}, {"query": "q" * 1001}, {"modalities": ["x"]}]
)
def test_search_bounds_are_400(client: TestClient, bad: dict) -> None:
    _problem(client.post("/api/v1/search", json={"query": "x"} | bad), 400)


def test_limits_are_in_the_openapi_schema(client: TestClient) -> None:
    schema = client.get("/schema/openapi.json").json()
    parts = schema["components"]["schemas"]
    search, highlight = (
        parts["SearchRequest"]["properties"],
        parts["HighlightRequest"]["properties"],
    )

    def array_or_number(prop: dict, kind: str) -> dict:
        members = prop.get("anyOf") or prop.get("oneOf") or [prop]
        return next(m for m in members if m.get("type") == kind)

    def array_of(prop: dict) -> dict:
        return array_or_number(prop, "array")

    assert array_of(search["video_ids"])["maxItems"] == 1000
    assert array_of(highlight["video_ids"])["maxItems"] == 1000
    assert array_of(highlight["locked_clip_ids"])["maxItems"] == 1000
    assert highlight["min_clip_s"]["minimum"] == 0.5 and highlight["max_clip_s"]["maximum"] == 600
    min_score = array_or_number(search["min_score"], "number")
    assert min_score["minimum"] == 0 and min_score["maximum"] == 1
    target = array_or_number(highlight["target_duration_s"], "number")
    assert target["exclusiveMinimum"] == 0
    assert parts["AddVideoRequest"]["properties"]["path"]["maxLength"] == 4095
    [file_path] = schema["paths"]["/media/files/{file_path}"]["get"]["parameters"]
    assert file_path["schema"]["maxLength"] == 4095
    # error bodies are problem+json, with the statuses the middleware adds
    search_op = schema["paths"]["/api/v1/search"]["post"]["responses"]
    for status in ("400", "401", "403", "404", "413", "415"):
        assert "application/problem+json" in search_op[status]["content"], status
    assert "application/json" not in search_op["400"]["content"]
    session = schema["paths"]["/api/v1/session"]
    assert "content" not in session["post"]["responses"]["204"]
    assert "401" not in schema["paths"]["/api/v1/health"]["get"]["responses"]
    assert "429" in schema["paths"]["/api/v1/highlights"]["post"]["responses"]


def test_options_lists_every_method_of_a_path(client: TestClient) -> None:
    for path, methods in (
        ("/api/v1/highlights", "GET, OPTIONS, POST"),
        ("/api/v1/videos/0123456789abcdef", "DELETE, GET, OPTIONS"),
        ("/api/v1/session", "DELETE, OPTIONS, POST"),
    ):
        assert client.options(path).headers["allow"] == methods, path


@pytest.mark.parametrize(
    "bad",
    [{"top_k": True}, {"min_score": False}, {"start_s": "3"}, {"video_ids": "abc"}],
)
def test_json_types_are_not_coerced(client: TestClient, bad: dict) -> None:
    _problem(client.post("/api/v1/search", json={"query": "x"} | bad), 400)
    stream_copy = client.post("/api/v1/highlights", json={"prompt": "x", "stream_copy": 0})
    _problem(stream_copy, 400)


def test_the_reel_length_is_capped_by_one_setting(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", max_reel_s=90.0)
    for request in (
        HighlightRequest(prompt="a 99999999-hour highlight of the animals"),
        HighlightRequest(prompt="the animals", target_duration_s=5000.0),
    ):
        plan = plan_highlight(request, [], {}, max_target_s=settings.max_reel_s)
        assert plan.target_duration_s == 90.0
    small = plan_highlight(
        HighlightRequest(prompt="a 30-second reel"), [], {}, max_target_s=settings.max_reel_s
    )
    assert small.target_duration_s == 30.0


def test_media_types_come_from_an_allow_list(client: TestClient, lim_settings: Settings) -> None:
    assert media_type_for(Path("x.html")) == "application/octet-stream"
    assert media_type_for(Path("x.svg")) == "application/octet-stream"
    assert media_type_for(Path("x.MP4")) == "video/mp4"
    assert media_type_for(Path("x.srt")).startswith("text/plain")
    media = lim_settings.media_dir
    media.mkdir(parents=True, exist_ok=True)
    (media / "page.html").write_text("<script>alert(1)</script>")
    (media / "sub.vtt").write_text("WEBVTT\n")
    page = client.get("/media/files/page.html")
    assert page.status_code == 200
    assert page.headers["content-type"] == "application/octet-stream"
    assert page.headers["content-security-policy"] == "sandbox"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert client.get("/media/files/sub.vtt").headers["content-type"].startswith("text/plain")


def test_source_video_types_and_errors_name_no_absolute_path(
    client: TestClient, lim_engine: Engine, lim_settings: Settings
) -> None:
    library = lim_settings.library_roots[0]
    source = library / "holiday.html"
    source.write_bytes(b"\0\0\0\x18ftypmp42")
    video = _add_video(lim_engine, source)
    served = client.get(f"/media/videos/{video.video_id}")
    assert served.headers["content-type"] == "application/octet-stream"
    source.unlink()
    body = _problem(client.get(f"/media/videos/{video.video_id}"), 404)
    assert str(library) not in body["detail"] and "holiday.html" in body["detail"]
    missing = _problem(client.post("/api/v1/videos", json={"path": str(library / "no.mp4")}), 404)
    assert str(library) not in missing["detail"]


def test_json_depth_ignores_strings_and_escapes_across_chunks() -> None:
    def depth(body: bytes, size: int, limit: int = 2) -> int:
        scanner = JsonDepthScanner(limit=limit)
        for start in range(0, len(body), size):
            scanner.feed(body[start : start + size])
        return scanner.finish()

    nested = b'{"a": [[{"b": "x"}]], "c": ["[[[", "\\\\", "\\"[[[["]}'
    for size in (1, 2, 3, 7, 1000):
        assert depth(nested, size, limit=10) == 4, size
        assert depth(nested, size, limit=2) == 3, size  # counting stops past the limit
    assert depth(b'["' + b"[" * 100 + b'"]', 5) == 1
    assert depth(b"[" * 100 + b"]" * 100, 9, limit=32) == 33  # counted up to limit + 1
    assert depth(b"[" * 100, 9, limit=32) > 32  # unbalanced still refused
    assert depth(b'{"a": 1}', 3, limit=32) == 1


def test_json_depth_with_escapes_inside_strings() -> None:
    scanner = JsonDepthScanner(limit=1)
    scanner.feed(b'{"a\\n": ["x\\"]]]]", "\\\\"], "b": [[1]], "c": "{{{{"}')
    assert scanner.finish() == 2  # counting stops at limit + 1
    scanner = JsonDepthScanner(limit=5)
    scanner.feed(b'{"a\\n": ["x\\"]]]]", "\\\\"], "b": [[1]], "c": "{{{{"}')
    assert scanner.finish() == 3
