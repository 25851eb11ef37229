"""The server's security layer over HTTP: Host allow-list, cross-origin writes, token auth and
its session cookie, security headers, and the refusal to serve beyond loopback without a token.

Real app (``create_app``) with its lifespan, a real SQLite catalog in a tmp data dir, through
Litestar's TestClient; ``serve`` is run as a real subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from scenespark.config import Settings
from server.app import create_app
from server.runtime import LOCAL_TOKEN_HEADER
from server.security.exposure import check_exposure, is_loopback
from server.security.hosts import allowed_host_names, host_name, is_allowed_host
from server.security.tokens import SESSION_COOKIE, session_value

TOKEN = "s3cret-token-for-tests"
BASE = "http://127.0.0.1:8123"
OWN_ORIGIN = {"origin": BASE}
REPO = Path(__file__).resolve().parent.parent


def _settings(tmp_path: Path, **extra: object) -> Settings:
    library = tmp_path / "library"
    library.mkdir(exist_ok=True)
    values: dict[str, object] = {
        "home": tmp_path / "home",
        "library_roots": [library],
        "allowed_hosts": [],  # the defaults: loopback names and the bind address
        "max_upload_mb": 1,
    }
    values.update(extra)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def open_client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(_settings(tmp_path), start_workers=False)
    with TestClient(app, base_url=BASE) as client:
        yield client


@pytest.fixture
def token_client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(_settings(tmp_path, api_token=TOKEN), start_workers=False)
    with TestClient(app, base_url=BASE) as client:
        yield client


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and "Traceback" not in response.text
    return body


# ------------------------------------------------------------------------------------ Host
def test_host_names_parse_with_ports_and_ipv6() -> None:
    assert host_name("LocalHost:8000") == "localhost"
    assert host_name("[::1]:8000") == "::1"
    assert host_name("127.0.0.1") == "127.0.0.1"
    allowed = allowed_host_names(Settings(host="192.168.1.20", allowed_hosts=[]))
    assert allowed is not None
    for good in ("localhost:1", "127.0.0.1:65535", "[::1]:80", "192.168.1.20:8000"):
        assert is_allowed_host(good, allowed), good
    for bad in ("evil.example", "evil.example:8000", "127.0.0.2", "", None, "localhost.evil"):
        assert not is_allowed_host(bad, allowed), bad
    assert allowed_host_names(Settings(allowed_hosts=["*"])) is None
    wildcard = allowed_host_names(Settings(host="0.0.0.0", allowed_hosts=[]))
    assert wildcard is not None and "0.0.0.0" not in wildcard


def test_foreign_host_header_is_refused(open_client: TestClient) -> None:
    assert open_client.get("/api/v1/videos").status_code == 200
    assert open_client.get("/api/v1/videos", headers={"host": "localhost:9999"}).status_code == 200
    for path in (
        "/api/v1/videos",
        "/api/v1/health",
        "/",
        "/media/files/x.png",
        "/api/v1/prompts",
        "/api/v1/videos/0123456789abcdef/transcript",
    ):
        body = _problem(open_client.get(path, headers={"host": "rebind.evil.example:8123"}), 400)
        assert "SCENESPARK_ALLOWED_HOSTS" in body.get("hint", "")


def test_allowed_hosts_setting_names_the_server(tmp_path: Path) -> None:
    settings = _settings(tmp_path, allowed_hosts=["videos.lan"])
    with TestClient(create_app(settings, start_workers=False), base_url=BASE) as client:
        _problem(client.get("/api/v1/videos"), 400)  # 127.0.0.1 no longer listed
        ok = client.get("/api/v1/videos", headers={"host": "videos.lan:8000"})
        assert ok.status_code == 200


# ---------------------------------------------------------------------------- cross-origin
def test_writes_from_a_foreign_origin_are_403(open_client: TestClient) -> None:
    foreign = {"origin": "http://evil.example"}
    for method, path in (
        ("POST", "/api/v1/search"),
        ("POST", "/api/v1/highlights"),
        ("DELETE", "/api/v1/videos/0123456789abcdef"),
    ):
        response = open_client.request(method, path, json={"query": "x"}, headers=foreign)
        _problem(response, 403)
    # another port of the same host is another origin
    _problem(
        open_client.post(
            "/api/v1/search", json={"query": "x"}, headers={"origin": "http://127.0.0.1:9"}
        ),
        403,
    )
    _problem(
        open_client.post("/api/v1/search", json={"query": "x"}, headers={"origin": "null"}), 403
    )
    cross = {"sec-fetch-site": "cross-site"}
    _problem(open_client.post("/api/v1/search", json={"query": "x"}, headers=cross), 403)
    # reads are not writes; same-origin writes pass
    assert open_client.get("/api/v1/videos", headers=foreign).status_code == 200
    same = open_client.post("/api/v1/search", json={"query": "x"}, headers=OWN_ORIGIN)
    assert same.status_code != 403


def test_simple_request_bodies_are_refused(open_client: TestClient) -> None:
    """text/plain and form bodies need no CORS preflight, so no write accepts them."""
    for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        for path in ("/api/v1/search", "/api/v1/highlights", "/api/v1/videos"):
            response = open_client.post(
                path,
                content=b'{"query": "x", "prompt": "x"}',
                headers={"content-type": content_type} if content_type else {},
            )
            _problem(response, 415)


def test_multipart_upload_needs_the_token_or_the_own_origin(tmp_path: Path) -> None:
    files = {"file": ("holiday.html", b"<script>alert(1)</script>", "text/html")}
    app = create_app(_settings(tmp_path, api_token=TOKEN), start_workers=False)
    bearer = {"authorization": f"Bearer {TOKEN}"}
    with TestClient(app, base_url=BASE) as client:
        _problem(
            client.post(
                "/api/v1/videos", files=files, headers=bearer | {"origin": "http://evil.example"}
            ),
            403,
        )
        # no Origin, no token: refused before any byte is stored
        response = client.post("/api/v1/videos", files=files)
        assert response.status_code in (401, 403)
        # with the token it reaches the upload handler, which refuses a page that is no video
        _problem(client.post("/api/v1/videos", files=files, headers=bearer), 422)
    uploads = tmp_path / "home" / "uploads"
    assert not uploads.exists() or not [p for p in uploads.rglob("*") if p.is_file()]


# ------------------------------------------------------------------------------- token auth
def test_every_route_but_health_and_the_page_needs_the_token(token_client: TestClient) -> None:
    for method, path in (
        ("GET", "/api/v1/videos"),
        ("GET", "/api/v1/highlights"),
        ("GET", "/api/v1/jobs/abc"),
        ("GET", "/media/files/thumbs/x.jpg"),
        ("GET", "/media/videos/0123456789abcdef"),
        ("GET", "/schema/openapi.json"),
        ("GET", "/api/v1/prompts"),
        ("GET", "/api/v1/videos/0123456789abcdef/transcript"),
        ("POST", "/api/v1/search"),
        ("DELETE", "/api/v1/videos/0123456789abcdef"),
    ):
        response = token_client.request(
            method, path, json={"query": "x"} if method == "POST" else None
        )
        _problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert token_client.get("/api/v1/health").status_code == 200
    assert token_client.get("/").status_code == 200
    assert token_client.get("/static/js/main.js").status_code == 200
    wrong = token_client.get("/api/v1/videos", headers={"authorization": "Bearer nope"})
    assert "wrong" in _problem(wrong, 401)["detail"]


def test_bearer_and_local_cli_token_are_accepted(token_client: TestClient) -> None:
    ok = token_client.get("/api/v1/videos", headers={"authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200
    local = (Path(token_client.app.state.runtime.settings.home) / "server.token").read_text()
    assert (
        token_client.get("/api/v1/videos", headers={LOCAL_TOKEN_HEADER: local}).status_code == 200
    )
    bad_local = token_client.get("/api/v1/videos", headers={LOCAL_TOKEN_HEADER: local + "x"})
    _problem(bad_local, 401)


def test_session_cookie_for_the_page_and_media(token_client: TestClient) -> None:
    _problem(token_client.post("/api/v1/session", json={"token": "wrong"}, headers=OWN_ORIGIN), 401)
    _problem(token_client.post("/api/v1/session", json={}, headers=OWN_ORIGIN), 400)
    response = token_client.post("/api/v1/session", json={"token": TOKEN}, headers=OWN_ORIGIN)
    assert response.status_code == 204, response.text
    set_cookie = response.headers["set-cookie"]
    assert f"{SESSION_COOKIE}={session_value(TOKEN)}" in set_cookie
    assert TOKEN not in set_cookie
    lowered = set_cookie.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "path=/" in lowered
    # the client now sends the cookie: no Authorization header needed
    assert token_client.get("/api/v1/videos").status_code == 200
    assert token_client.get("/media/files/none.jpg").status_code == 404  # past auth
    cleared = token_client.delete("/api/v1/session", headers=OWN_ORIGIN)
    assert cleared.status_code == 204
    assert "max-age=0" in cleared.headers["set-cookie"].lower()
    token_client.cookies.clear()
    _problem(token_client.get("/api/v1/videos"), 401)
    forged = token_client.get("/api/v1/videos", headers={"cookie": f"{SESSION_COOKIE}={TOKEN}"})
    _problem(forged, 401)


def test_session_cookie_is_secure_over_https(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path, api_token=TOKEN), start_workers=False)
    origin = {"origin": "https://127.0.0.1:8123"}
    with TestClient(app, base_url="https://127.0.0.1:8123") as client:
        response = client.post("/api/v1/session", json={"token": TOKEN}, headers=origin)
        assert response.status_code == 204, response.text
        assert "secure" in response.headers["set-cookie"].lower()
    with TestClient(app, base_url=BASE) as client:
        response = client.post("/api/v1/session", json={"token": TOKEN}, headers=OWN_ORIGIN)
        assert "secure" not in response.headers["set-cookie"].lower()


def test_without_a_token_the_api_is_open_and_session_is_a_no_op(open_client: TestClient) -> None:
    assert open_client.get("/api/v1/videos").status_code == 200
    response = open_client.post("/api/v1/session", json={"token": "anything"}, headers=OWN_ORIGIN)
    assert response.status_code == 204 and "set-cookie" not in response.headers


# ---------------------------------------------------------------------------------- headers
def test_security_headers_on_every_response(open_client: TestClient) -> None:
    for path in ("/", "/api/v1/health", "/api/v1/nothing-here", "/static/js/main.js"):
        response = open_client.get(path)
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["referrer-policy"] == "no-referrer", path
        assert "default-src 'self'" in headers["content-security-policy"], path
        assert "unsafe-inline" not in headers["content-security-policy"], path
    media = open_client.get("/media/files/missing.mp4")
    assert media.headers["content-security-policy"] == "sandbox"
    assert media.headers["x-content-type-options"] == "nosniff"


# --------------------------------------------------------------------------------- exposure
def test_exposure_rule() -> None:
    for host in ("127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.5"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.2", "example.com"):
        assert not is_loopback(host), host
    check_exposure(Settings(), "127.0.0.1")
    check_exposure(Settings(api_token=TOKEN), "0.0.0.0")
    with pytest.raises(Exception, match="API token"):
        check_exposure(Settings(api_token=""), "0.0.0.0")


def test_serve_on_all_interfaces_without_a_token_refuses_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCENESPARK_")}
    env.update({"SCENESPARK_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO)})
    proc = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--host", "0.0.0.0", "--port", "8124"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "SCENESPARK_API_TOKEN" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and "serving" not in proc.stdout


def test_run_on_all_interfaces_without_a_token_refuses_before_indexing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCENESPARK_")}
    env.update({"SCENESPARK_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO)})
    videos = tmp_path / "videos"
    videos.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "server.cli", "run", "--host", "0.0.0.0", "--videos", str(videos)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    assert "SCENESPARK_API_TOKEN" in proc.stderr and "indexing" not in proc.stdout
    assert not (tmp_path / "home" / "catalog.db").exists()


def test_same_origin_rules() -> None:
    from litestar.datastructures import Headers

    from server.security.origins import same_origin

    def same(origin: str, host: str, scheme: str = "http") -> bool:
        return same_origin(origin, Headers({"host": host}), scheme)

    assert same("http://127.0.0.1:8000", "127.0.0.1:8000")
    assert same("http://[::1]:8000", "[::1]:8000")
    assert not same("http://127.0.0.1:8001", "127.0.0.1:8000")
    assert not same("http://evil.example:8000", "127.0.0.1:8000")
    assert not same("https://127.0.0.1:8000", "127.0.0.1:8000")  # other scheme, same port
    assert not same("null", "127.0.0.1:8000")
    # behind a TLS proxy: Host without a port, the page on https's default port
    assert same("https://videos.example", "videos.example")
    assert not same("https://videos.example:8443", "videos.example")
    assert not same("https://other.example", "videos.example")


def test_a_wildcard_bind_without_allowed_hosts_gets_a_note() -> None:
    from server.security.exposure import exposure_notes

    [note] = exposure_notes(Settings(api_token=TOKEN, allowed_hosts=[]), "0.0.0.0")
    assert "SCENESPARK_ALLOWED_HOSTS" in note
    assert exposure_notes(Settings(api_token=TOKEN, allowed_hosts=["videos.lan"]), "0.0.0.0") == []
    assert exposure_notes(Settings(allowed_hosts=[]), "127.0.0.1") == []
