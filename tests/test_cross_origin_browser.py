"""The cross-site takeover of issue 10, replayed in headless Chromium against the real server.

A page on another origin (``attacker.test``, served by Playwright's router) tries what the issue
showed: upload a real MP4 named ``holiday.html`` with a no-CORS multipart POST, send ``text/plain``
JSON to search and highlights, read the library. A DNS-rebinding page (``rebind.test`` resolving
to 127.0.0.1, same origin as the server's port) tries to read and delete. Then a browser opens
source files and generated media whose bytes are an HTML page with a script. The server must have
stored nothing, queued nothing, deleted nothing, and no script may run on its origin.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import playwright.sync_api as playwright_sync
import pytest
import uvicorn

from scenespark.config import Settings
from scenespark.engine import Engine
from scenespark.types import Video, VideoStatus
from server.app import create_app
from tests.helpers import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
EVIL_PAGE = "<html><body><script>document.title = 'pwned'</script>evil</body></html>"
VIDEO_ID = "0123456789abcdef"
BROWSER_GUARDS_OFF = (
    "PrivateNetworkAccessSendPreflights",
    "PrivateNetworkAccessRespectPreflightResults",
    "BlockInsecurePrivateNetworkRequests",
    "LocalNetworkAccessChecks",
)


class _Server:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.port = free_port()
        app = create_app(settings, engine=engine, start_workers=False)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture
def world(tmp_path: Path, short_video: Path) -> Iterator[dict]:
    library = tmp_path / "library"
    library.mkdir()
    html_named = library / "holiday.html"  # bytes of a web page, indexed as a "video"
    html_named.write_text(EVIL_PAGE)
    settings = Settings(home=tmp_path / "home", library_roots=[library], allowed_hosts=[])
    engine = Engine(settings)
    engine.catalog.upsert_video(
        Video(video_id=VIDEO_ID, path=str(html_named), title="holiday", status=VideoStatus.READY)
    )
    generated = settings.media_dir / "clips" / "page.html"
    generated.parent.mkdir(parents=True, exist_ok=True)
    generated.write_text(EVIL_PAGE)
    try:
        with _Server(settings, engine) as server:
            yield {
                "settings": settings,
                "engine": engine,
                "port": server.port,
                "mp4": short_video.read_bytes(),
            }
    finally:
        engine.close()


@pytest.fixture
def browser(world: dict) -> Iterator[playwright_sync.Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is not installed: run `make system`"
    rules = "MAP attacker.test 127.0.0.1, MAP rebind.test 127.0.0.1"
    with playwright_sync.sync_playwright() as pw:
        launched = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--headless",
                f"--host-resolver-rules={rules}",
                # Private Network Access would stop some of these requests in the browser; the
                # server must hold on its own (older browsers, other clients), so it is off here
                f"--disable-features={','.join(BROWSER_GUARDS_OFF)}",
            ],
        )
        yield launched
        launched.close()


CROSS_SITE_ATTACK = """
async () => {
  const target = TARGET;
  const out = {};
  const mp4 = await (await fetch('/video.mp4')).blob();
  const form = new FormData();
  form.append('file', new File([mp4], 'holiday.html', {type: 'text/html'}));
  const attempt = async (name, url, init) => {
    try { const r = await fetch(url, init); out[name] = r.type === 'opaque' ? 'opaque' : r.status; }
    catch (e) { out[name] = 'blocked'; }
  };
  await attempt('upload', target + '/api/v1/videos', {method: 'POST', body: form, mode: 'no-cors'});
  const text = {'Content-Type': 'text/plain'};
  await attempt('search', target + '/api/v1/search',
    {method: 'POST', mode: 'no-cors', headers: text, body: JSON.stringify({query: 'garden'})});
  await attempt('highlight', target + '/api/v1/highlights',
    {method: 'POST', mode: 'no-cors', headers: text, body: JSON.stringify({prompt: 'a reel'})});
  try { out.read = await (await fetch(target + '/api/v1/videos')).text(); }
  catch (e) { out.read = 'blocked'; }
  return out;
}
"""

REBIND_ATTACK = """
async () => {
  const out = {};
  const list = await fetch('/api/v1/videos');
  out.list_status = list.status; out.list_body = await list.text();
  const del = await fetch('/api/v1/videos/VIDEO_ID', {method: 'DELETE'});
  out.delete_status = del.status;
  return out;
}
"""


def _serve_page(page: playwright_sync.Page, url: str, world: dict) -> None:
    def handle(route: playwright_sync.Route) -> None:
        if route.request.url.endswith("/video.mp4"):
            route.fulfill(status=200, body=world["mp4"], content_type="video/mp4")
        else:
            route.fulfill(
                status=200, body="<html><body>hello</body></html>", content_type="text/html"
            )

    origin = url.rsplit("/", 1)[0]
    page.route(f"{origin}/attack.html", handle)
    page.route(f"{origin}/video.mp4", handle)
    page.goto(url)


def test_a_foreign_page_cannot_upload_start_jobs_or_read(
    world: dict, browser: playwright_sync.Browser
) -> None:
    page = browser.new_page()
    _serve_page(page, f"http://attacker.test:{free_port()}/attack.html", world)
    target = f"http://127.0.0.1:{world['port']}"
    out = page.evaluate(CROSS_SITE_ATTACK.replace("TARGET", json.dumps(target)))
    assert out["read"] == "blocked", out  # no CORS: the library cannot be read
    uploads = world["settings"].home / "uploads"
    assert not uploads.exists() or not [p for p in uploads.rglob("*") if p.is_file()]
    assert world["engine"].catalog.list_jobs(limit=50) == []  # no index, search or highlight job
    assert world["engine"].catalog.get_video(VIDEO_ID) is not None


def test_dns_rebinding_gets_nothing(world: dict, browser: playwright_sync.Browser) -> None:
    page = browser.new_page()
    _serve_page(page, f"http://rebind.test:{world['port']}/attack.html", world)
    out = page.evaluate(REBIND_ATTACK.replace("VIDEO_ID", VIDEO_ID))
    assert out["list_status"] == 400 and "holiday" not in out["list_body"], out
    assert out["delete_status"] == 400, out
    assert world["engine"].catalog.get_video(VIDEO_ID) is not None


@pytest.mark.parametrize("path", [f"/media/videos/{VIDEO_ID}", "/media/files/clips/page.html"])
def test_media_bytes_never_run_as_a_page(
    world: dict, browser: playwright_sync.Browser, path: str
) -> None:
    page = browser.new_page()
    url = f"http://127.0.0.1:{world['port']}{path}"
    response = page.request.get(url)
    assert response.ok
    assert not response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == "sandbox"
    assert response.headers["x-content-type-options"] == "nosniff"
    with contextlib.suppress(playwright_sync.Error):
        page.goto(url)  # octet-stream: a download, nothing rendered
    page.wait_for_timeout(300)
    assert page.title() != "pwned"
    assert page.evaluate("1 + 1") == 2
