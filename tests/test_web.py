"""The web page, end to end in a real browser (headless Chromium through Playwright).

The real server (``server.app.create_app``) runs under uvicorn in a background thread on a free
port, with its data dir in a tmp folder and a library root holding a generated video. Through the
page only: index the video (add by path), search for a word of its narration and play the first
result from its span start, make a highlight reel and play it, lock a clip and re-plan, trigger
errors and check the readable messages, then remove the video. Screenshots of the three views go
to a tmp folder; with ``SCENESPARK_UPDATE_SCREENSHOTS=1`` they are also copied to ``docs/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import playwright.sync_api as playwright_sync
import pytest
import uvicorn

from scenespark.config import Settings, load_settings
from tests.helpers import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--mute-audio",
]
VIEWPORT = {"width": 1100, "height": 800}
NARROW_VIEWPORT = {"width": 360, "height": 740}
INDEX_TIMEOUT_S = 600.0
HIGHLIGHT_TIMEOUT_S = 600.0
DOCS_DIR = Path(__file__).resolve().parent.parent / "docs"
MAX_SCREENSHOT_BYTES = 300 * 1024
SEARCH_WORD = "tomatoes"  # in the sample video's narration (tests/conftest.py)

expect = playwright_sync.expect


# ------------------------------------------------------------------------------------------
# Server and browser fixtures
# ------------------------------------------------------------------------------------------


class _ServerThread:
    """uvicorn serving the real app in a thread, on 127.0.0.1 and a free port."""

    def __init__(self, settings: Settings) -> None:
        from server.app import create_app

        self.port = free_port()
        config = uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="web-test-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 120.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the server thread died while starting (see the log above)")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server did not start within {timeout_s:.0f} s")
            time.sleep(0.1)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)


@pytest.fixture(scope="module")
def web_library(tmp_path_factory: pytest.TempPathFactory, sample_video) -> Path:
    """The only library root: a copy of the generated sample video."""
    library = tmp_path_factory.mktemp("web_library")
    shutil.copyfile(sample_video.path, library / "garden.mp4")
    return library


@pytest.fixture(scope="module")
def web_outside_file(tmp_path_factory: pytest.TempPathFactory, sample_video) -> Path:
    """A real video file that is NOT inside the library roots."""
    outside = tmp_path_factory.mktemp("web_outside")
    path = outside / "private.mp4"
    shutil.copyfile(sample_video.path, path)
    return path


@pytest.fixture(scope="module")
def web_settings(tmp_path_factory: pytest.TempPathFactory, web_library: Path) -> Iterator[Settings]:
    home = tmp_path_factory.mktemp("web_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCENESPARK_HOME", str(home))
        mp.setenv("SCENESPARK_LIBRARY_ROOTS", str(web_library))
        mp.delenv("SCENESPARK_CHROMA_URL", raising=False)
        mp.delenv("SCENESPARK_LLM_BASE_URL", raising=False)
        yield load_settings(home=home, library_roots=[web_library], chroma_url="", llm_base_url="")


@pytest.fixture(scope="module")
def web_server(web_settings: Settings) -> Iterator[_ServerThread]:
    server = _ServerThread(web_settings)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def web_browser() -> Iterator[object]:
    # `make test` installs it (.ci/install-system.sh): a missing browser is a failed set-up
    assert CHROMIUM.exists(), f"{CHROMIUM} is not installed: run `make system`"
    with playwright_sync.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def web_shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("web_screenshots")


# Records Content-Security-Policy violations (inline scripts/styles, foreign URLs) on the page.
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) =>
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


def _csp_violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations || []")


@pytest.fixture
def web_page(web_browser, web_server: _ServerThread):
    """A fresh page at the app; JavaScript errors or CSP violations on the page fail the test."""
    context = web_browser.new_context(viewport=VIEWPORT, color_scheme="light")
    context.add_init_script(CSP_RECORDER)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    response = page.goto(f"{web_server.url}/#library")
    assert response is not None
    assert "default-src 'self'" in (response.headers.get("content-security-policy") or "")
    page.wait_for_selector("body[data-ready='true']")
    yield page
    violations = _csp_violations(page) if not page.is_closed() else []
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not violations, f"Content-Security-Policy violations: {violations}"


@pytest.fixture(scope="module")
def web_indexed_video(web_browser, web_server: _ServerThread, web_library: Path) -> str:
    """Index the library's video through the page (add by path); return its video id."""
    context = web_browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(f"{web_server.url}/#library")
        page.wait_for_selector("body[data-ready='true']")
        page.get_by_label("Path on the server").fill(str(web_library / "garden.mp4"))
        page.get_by_role("button", name="Add", exact=True).click()
        card = page.locator("#video-list li.video-card[data-status='ready']")
        deadline = time.monotonic() + INDEX_TIMEOUT_S
        while card.count() == 0:
            _raise_alert(page, "indexing")
            if page.locator("#video-list li.video-card[data-status='failed']").count():
                raise AssertionError("indexing failed: " + page.locator("#video-list").inner_text())
            if time.monotonic() > deadline:
                raise TimeoutError(f"the video was not indexed within {INDEX_TIMEOUT_S:.0f} s")
            time.sleep(0.5)
        video_id = card.first.get_attribute("data-video-id")
        assert video_id
        return video_id
    finally:
        context.close()


def _raise_alert(page, what: str) -> None:
    alert = page.locator("#alert")
    if alert.is_visible():
        raise AssertionError(f"{what}: the page shows an error: {alert.inner_text()}")


def _alert_text(page) -> str:
    alert = page.locator("#alert")
    expect(alert).to_be_visible()
    assert alert.get_attribute("role") == "alert"
    return page.locator("#alert-text").inner_text().strip()


def _assert_readable(text: str) -> None:
    assert text, "the alert is empty"
    assert not text.lstrip().startswith(("{", "[")), f"raw JSON shown to the user: {text}"
    assert "Traceback" not in text and "undefined" not in text and "[object" not in text, text


def _screenshot(page, folder: Path, name: str) -> Path:
    """Screenshot to the tmp folder; copy to docs/ when SCENESPARK_UPDATE_SCREENSHOTS=1."""
    page.evaluate("document.getElementById('notice').textContent = ''")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.wait_for_timeout(300)
    path = folder / f"screenshot-{name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 1000
    if os.environ.get("SCENESPARK_UPDATE_SCREENSHOTS") == "1":
        DOCS_DIR.mkdir(exist_ok=True)
        target = DOCS_DIR / path.name
        _save_small_png(path, target)
        assert target.stat().st_size < MAX_SCREENSHOT_BYTES, f"{target} is too large"
    return path


def _save_small_png(source: Path, target: Path) -> None:
    """Copy a screenshot, reduced to a 256-colour palette when it is over the size budget."""
    shutil.copyfile(source, target)
    if target.stat().st_size < MAX_SCREENSHOT_BYTES:
        return
    from PIL import Image

    with Image.open(source) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        small.save(target, optimize=True)


def _wait_video(page, selector: str, condition: str, timeout_s: float = 30.0) -> dict:
    """Wait until ``condition`` (JS over ``v``) holds for the video; return its state."""
    page.wait_for_function(
        f"() => {{ const v = document.querySelector({selector!r}); return !!v && ({condition}); }}",
        timeout=timeout_s * 1000,
        polling=50,
    )
    return _video_state(page, selector)


def _video_state(page, selector: str) -> dict:
    return page.eval_on_selector(
        selector,
        """v => ({currentTime: v.currentTime, duration: v.duration, readyState: v.readyState,
                 paused: v.paused, src: v.currentSrc, error: v.error && v.error.code,
                 state: v.dataset.state || '', seekedTo: v.dataset.seekedTo || ''})""",
    )


# ------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------


def test_library_shows_the_video_indexed_through_the_page(
    web_page, web_indexed_video: str, web_shots: Path
) -> None:
    page = web_page
    expect(page.get_by_role("tab", name="Library")).to_have_attribute("aria-selected", "true")
    card = page.locator(f"#video-list li[data-video-id='{web_indexed_video}']")
    expect(card).to_have_count(1)
    expect(card.locator(".badge")).to_have_text("Ready")
    expect(card.locator(".card-title")).to_contain_text("garden")
    text = card.inner_text()
    assert "00:00:2" in text or "00:00:1" in text, f"no duration shown: {text}"
    # the speech language the indexer found (the narration is English)
    expect(card.locator(".meta-line.language")).to_contain_text("Speech: English")
    # segment counts per modality, and the models used
    assert card.locator(".chips .chip").count() >= 1, text
    assert "Speech" in card.locator(".chips").inner_text()
    card.locator("details.models summary").click()
    assert card.locator("details.models dd").count() >= 1
    thumb = card.locator(".thumb img")
    if thumb.count():
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
        )
    _screenshot(page, web_shots, "library")


def test_search_plays_the_first_result_from_its_span_start(
    web_page, web_indexed_video: str, web_shots: Path
) -> None:
    page = web_page
    page.get_by_role("tab", name="Search").click()
    expect(page.locator("#view-search")).to_be_visible()
    query = page.get_by_label("Search the library")
    query.fill(SEARCH_WORD)
    query.press("Enter")  # Enter submits
    first = page.locator("#hit-list li.hit-card").first
    expect(first).to_be_visible(timeout=60_000)
    assert "result" in page.locator("#search-meta").inner_text()
    # the evidence names what was said, with the time span and a score
    card_text = first.inner_text()
    assert SEARCH_WORD in card_text.lower(), card_text
    assert "confidence" in card_text and "%" in card_text, card_text
    start_s = float(first.get_attribute("data-start"))
    end_s = float(first.get_attribute("data-end"))
    assert first.get_attribute("data-video-id") == web_indexed_video
    assert 0.0 <= start_s < end_s <= 7.5, (start_s, end_s)  # the narration is in scene 1 (0–7 s)

    first.click()
    state = _wait_video(page, "#search-player", "v.dataset.state === 'seeked' && v.readyState >= 1")
    assert state["error"] is None
    assert abs(float(state["seekedTo"]) - start_s) <= 0.5, (state, start_s)
    assert state["src"].endswith(f"/media/videos/{web_indexed_video}")
    # playback continues from the span start (and stops at the span end)
    state = _wait_video(page, "#search-player", "v.readyState >= 2")
    assert start_s - 0.5 <= state["currentTime"] <= end_s + 1.0, (state, start_s, end_s)
    expect(page.locator("#search-span")).to_be_visible()
    expect(page.locator("#search-now-playing")).to_contain_text("00:00:0")
    expect(first).to_have_attribute("aria-current", "true")

    # keyboard: the result's play button is a real button; Enter plays it again from the start
    page.evaluate("document.getElementById('search-player').currentTime = 15")
    page.wait_for_function("() => document.getElementById('search-player').currentTime > 14")
    first.locator("button.hit-play").focus()
    page.keyboard.press("Enter")
    state = _wait_video(
        page,
        "#search-player",
        f"v.dataset.state === 'seeked' && Math.abs(v.currentTime - {start_s}) <= 0.5",
    )
    assert abs(state["currentTime"] - start_s) <= 0.5, (state, start_s)
    _screenshot(page, web_shots, "search")


def test_highlights_reel_plays_and_clips_can_be_replanned(
    web_page, web_indexed_video: str, web_shots: Path
) -> None:
    page = web_page
    page.get_by_role("tab", name="Highlights").click()
    # the video filter lists the ready video
    expect(page.locator(f"#hl-video-checks input[value='{web_indexed_video}']")).to_have_count(1)
    page.locator(f"#hl-video-checks input[value='{web_indexed_video}']").check()
    page.get_by_label("What should the highlight reel show?").fill(
        "the garden, tomatoes and the spring sale"
    )
    page.get_by_label("Target duration (s)", exact=True).fill("10")
    page.get_by_label("What should the highlight reel show?").press("Enter")
    expect(page.locator("#hl-job")).to_be_visible()
    _wait_highlight(page)
    request_id = page.locator("#hl-result").get_attribute("data-request-id")
    assert request_id and request_id in page.url

    # clips listed with titles, tags, descriptions and reasons
    clips = page.locator("#clip-list li.clip-card")
    assert clips.count() >= 1
    for i in range(clips.count()):
        clip = clips.nth(i)
        assert clip.locator(".card-title").inner_text().strip()
        assert clip.locator(".chips.tags .chip").count() >= 1, clip.inner_text()
        assert clip.locator(".description").inner_text().strip(), clip.inner_text()
        assert clip.locator(".reason").inner_text().strip(), clip.inner_text()
    # downloads for the reel, subtitles and edit list
    downloads = page.locator("#hl-downloads a")
    labels = " ".join(downloads.all_inner_texts())
    assert "Reel" in labels and "SRT" in labels and "EDL" in labels, labels
    # and the editor timelines the job result offers (Premiere/Resolve XML, OpenTimelineIO)
    assert "FCP7 XML" in labels and "OTIO" in labels, labels
    names = downloads.evaluate_all("links => links.map(a => a.getAttribute('download'))")
    assert all(name and "null" not in name for name in names), names
    for i in range(downloads.count()):
        href = downloads.nth(i).evaluate("a => a.href")  # absolute
        response = page.request.get(href)
        assert response.ok, (href, response.status)
        assert int(response.headers.get("content-length", "1")) > 0

    # the reel plays: metadata, decodable frames, and time advances
    reel = "#reel-player"
    state = _wait_video(page, reel, "v.readyState >= 1 && v.duration > 0", timeout_s=60)
    assert state["error"] is None, state
    page.get_by_role("button", name="Play the reel").click()
    state = _wait_video(page, reel, "v.readyState >= 2 && v.currentTime > 0.3", timeout_s=60)
    assert state["duration"] > 0 and state["error"] is None, state

    # a clip plays its own file
    clip_url = page.evaluate(
        "() => document.querySelector('#clip-list li.clip-card a[download]')?.getAttribute('href')"
    )
    assert clip_url
    clips.first.get_by_role("button", name="Play clip").click()
    state = _wait_video(page, reel, "v.readyState >= 2 && v.dataset.kind === 'clip'", timeout_s=60)
    assert state["src"].endswith(clip_url), (state, clip_url)
    assert state["error"] is None
    expect(page.locator("#hl-now-playing")).to_contain_text("Clip 1")
    _screenshot(page, web_shots, "highlights")

    # the re-plan box names the requested target (10 s), not the reel's own length
    expect(page.get_by_label("New target duration (s)")).to_have_attribute(
        "placeholder", "same (10 s)"
    )
    # lock the first clip, re-plan with another duration: a new job that keeps the locked clip
    locked_id = clips.first.get_attribute("data-clip-id")
    clips.first.get_by_label("Lock clip 1", exact=False).check()
    expect(clips.first).to_have_attribute("data-state", "locked")
    page.get_by_label("New target duration (s)").fill("14")
    page.get_by_role("button", name="Re-plan").click()
    page.wait_for_function(
        f"() => document.getElementById('hl-result').dataset.requestId !== {request_id!r}",
        timeout=HIGHLIGHT_TIMEOUT_S * 1000,
    )
    _raise_alert(page, "re-plan")
    new_id = page.locator("#hl-result").get_attribute("data-request-id")
    assert new_id and new_id != request_id and new_id in page.url
    ids = page.eval_on_selector_all(
        "#clip-list li.clip-card", "cards => cards.map(c => c.dataset.clipId)"
    )
    assert locked_id in ids, (locked_id, ids)
    expect(page.get_by_label("New target duration (s)")).to_have_attribute(
        "placeholder", "same (14 s)"
    )

    # reels do not vanish on reload: both jobs are in the history, newest first, and open again
    page.goto(page.url.split("#")[0] + "#highlights")  # same document: the hash only
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    history = page.locator("#hl-history li.history-item")
    expect(history.first).to_have_attribute("data-request-id", new_id)
    expect(page.locator(f"#hl-history li[data-request-id='{request_id}']")).to_have_count(1)
    assert "tomatoes" in history.first.inner_text()
    expect(page.locator("#hl-result")).to_be_hidden()
    page.locator(f"#hl-history li[data-request-id='{request_id}'] button.history-open").click()
    expect(page.locator("#hl-result")).to_have_attribute("data-request-id", request_id)
    assert request_id in page.url
    expect(page.locator("#hl-downloads a")).not_to_have_count(0)
    expect(page.locator(f"#hl-history li[data-request-id='{request_id}']")).to_have_attribute(
        "aria-current", "true"
    )


def _wait_highlight(page) -> None:
    deadline = time.monotonic() + HIGHLIGHT_TIMEOUT_S
    while not page.locator("#hl-result").is_visible():
        _raise_alert(page, "highlights")
        if page.locator("#hl-job[data-status='failed']").count():
            raise AssertionError(
                "the highlight job failed: " + page.locator("#hl-job").inner_text()
            )
        if time.monotonic() > deadline:
            raise TimeoutError(f"no highlight result within {HIGHLIGHT_TIMEOUT_S:.0f} s")
        time.sleep(0.5)


def test_errors_are_shown_as_readable_messages(
    web_page, web_library: Path, web_outside_file: Path
) -> None:
    page = web_page
    api_calls: list[str] = []
    page.on(
        "request",
        lambda r: (
            api_calls.append(r.url)
            if r.method == "POST" and ("/api/v1/search" in r.url or "/api/v1/highlights" in r.url)
            else None
        ),
    )

    # empty query: a message, and no call to the API
    page.get_by_role("tab", name="Search").click()
    page.get_by_label("Search the library").fill("   ")
    page.get_by_role("button", name="Search", exact=True).click()
    text = _alert_text(page)
    _assert_readable(text)
    assert "type" in text.lower(), text
    assert api_calls == []
    page.get_by_role("button", name="Dismiss message").click()
    expect(page.locator("#alert")).to_be_hidden()

    # the API's own 400 for an invalid request is shown as its detail
    response = page.evaluate(
        """async () => { const r = await fetch('/api/v1/search', {method: 'POST',
             headers: {'Content-Type': 'application/json'}, body: JSON.stringify({query: ''})});
             return {status: r.status, type: r.headers.get('content-type')}; }"""
    )
    assert response["status"] in (400, 422) and "problem+json" in response["type"], response

    # a path outside the library roots: the server's 403 problem, readable
    page.get_by_role("tab", name="Library").click()
    page.get_by_label("Path on the server").fill(str(web_outside_file))
    page.get_by_role("button", name="Add", exact=True).click()
    text = _alert_text(page)
    _assert_readable(text)
    assert "outside the library roots" in text, text
    assert "Path not allowed" in text, text

    # an unknown path inside the roots: 404, readable
    page.get_by_label("Path on the server").fill(str(web_library / "no-such-video.mp4"))
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_function(
        "() => document.getElementById('alert-text').textContent.includes('no-such-video')"
    )
    text = _alert_text(page)
    _assert_readable(text)
    assert "not found" in text.lower() or "does not exist" in text.lower(), text

    # an empty highlight prompt: a message without calling the API
    api_calls.clear()
    page.get_by_role("tab", name="Highlights").click()
    page.get_by_label("What should the highlight reel show?").fill("")
    page.get_by_role("button", name="Make highlights").click()
    page.wait_for_function(
        "() => document.getElementById('alert-text').textContent.includes('Describe')"
    )
    _assert_readable(_alert_text(page))
    assert api_calls == []

    # network failure: a message, not a blank page
    page.route("**/api/v1/search", lambda route: route.abort())
    page.get_by_role("tab", name="Search").click()
    page.get_by_label("Search the library").fill("tomatoes")
    page.get_by_label("Search the library").press("Enter")
    page.wait_for_function(
        "() => document.getElementById('alert-text').textContent.includes('Cannot reach')"
    )
    _assert_readable(_alert_text(page))
    page.unroute("**/api/v1/search")

    # an unknown highlight job in the address: readable 404
    page.goto(page.url.split("#")[0] + "#highlights/does-not-exist")
    page.wait_for_function(
        "() => document.getElementById('alert-text').textContent.includes('does-not-exist')"
    )
    _assert_readable(_alert_text(page))


def test_keyboard_and_narrow_screen(
    web_browser, web_server: _ServerThread, web_indexed_video: str
) -> None:
    context = web_browser.new_context(viewport=NARROW_VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{web_server.url}/")
        page.wait_for_selector("body[data-ready='true']")
        page.wait_for_selector(f"#video-list li[data-video-id='{web_indexed_video}']")
        # no horizontal scrolling at 360 px in any view
        for view in ("library", "search", "highlights"):
            page.goto(f"{web_server.url}/#{view}")
            page.wait_for_timeout(300)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= NARROW_VIEWPORT["width"], (view, width)
        # tabs follow the ARIA pattern: arrow keys move between views
        page.goto(f"{web_server.url}/#library")
        page.get_by_role("tab", name="Library").focus()
        page.keyboard.press("ArrowRight")
        expect(page.get_by_role("tab", name="Search")).to_be_focused()
        expect(page.locator("#view-search")).to_be_visible()
        # type a query and press Enter, Tab to the first result and play it with Enter
        page.get_by_label("Search the library").focus()
        page.keyboard.type(SEARCH_WORD)
        page.keyboard.press("Enter")
        first = page.locator("#hit-list li.hit-card").first
        expect(first).to_be_visible(timeout=60_000)
        first.locator("button.hit-play").focus()
        page.keyboard.press("Enter")
        _wait_video(page, "#search-player", "v.dataset.state === 'seeked'")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= NARROW_VIEWPORT["width"], width
        # every form control has an accessible name
        unnamed = page.evaluate(
            """() => [...document.querySelectorAll('input, select, button')]
                 .filter(e => e.offsetParent !== null)
                 .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                              && !e.getAttribute('aria-labelledby') && !e.textContent.trim())
                 .map(e => e.outerHTML.slice(0, 80))"""
        )
        assert unnamed == []
        # no external URLs anywhere on the page
        external = page.evaluate(
            """() => [...document.querySelectorAll('[src], [href]')]
                 .map(e => e.getAttribute('src') || e.getAttribute('href'))
                 .filter(u => /^(https?:)?\\/\\//.test(u))"""
        )
        assert external == []
    finally:
        context.close()
    assert not errors, errors


def test_chinese_query_with_an_input_method(web_page, web_indexed_video: str) -> None:
    """Chinese typed through an IME: Enter that confirms a candidate does not submit; the query
    reaches the API intact and the page shows it in a CJK-capable font."""
    page = web_page
    posts: list[str] = []
    page.on(
        "request",
        lambda r: (
            posts.append(r.post_data or "") if r.method == "POST" and "/search" in r.url else None
        ),
    )
    page.get_by_role("tab", name="Search").click()
    query = page.get_by_label("Search the library")
    query.focus()
    cdp = page.context.new_cdp_session(page)
    # composing "番茄" (tomato) from pinyin; Enter here confirms the candidate, it must not submit
    cdp.send("Input.imeSetComposition", {"text": "fanqie", "selectionStart": 6, "selectionEnd": 6})
    page.keyboard.press("Enter")
    cdp.send("Input.insertText", {"text": "番茄"})
    page.wait_for_timeout(300)
    assert posts == [], posts
    expect(query).to_have_value("番茄")
    # a second Enter, after the composition ended, searches
    page.keyboard.press("Enter")
    expect(page.locator("#search-meta")).to_contain_text("“番茄”", timeout=60_000)
    assert len(posts) == 1 and '"query":"番茄"' in posts[0].replace(" ", ""), posts
    _raise_alert(page, "Chinese search")
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "WenQuanYi Zen Hei" in font and "Noto Sans CJK SC" in font, font
    # the glyphs render from a real CJK face, not as empty boxes: the text has a CJK width
    width = page.evaluate(
        """() => { const s = document.createElement('span'); s.textContent = '番茄番茄';
             document.body.append(s); const w = s.getBoundingClientRect().width; s.remove();
             return w; }"""
    )
    assert width > 40, width


def test_chinese_highlight_prompt_is_sent_intact(web_page, web_indexed_video: str) -> None:
    page = web_page
    posts: list[dict] = []
    page.on(
        "request",
        lambda r: (
            posts.append(r.post_data_json)
            if r.method == "POST" and r.url.endswith("/api/v1/highlights")
            else None
        ),
    )
    page.get_by_role("tab", name="Highlights").click()
    page.get_by_label("Target duration (s)", exact=True).fill("6")
    prompt = page.get_by_label("What should the highlight reel show?")
    prompt.focus()
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.imeSetComposition", {"text": "huayuan", "selectionStart": 7, "selectionEnd": 7})
    page.keyboard.press("Enter")  # confirms the candidate: no job may start
    cdp.send("Input.insertText", {"text": "花园里的番茄"})
    page.wait_for_timeout(500)
    assert posts == [], posts
    expect(prompt).to_have_value("花园里的番茄")
    prompt.press("Enter")
    page.wait_for_function("() => location.hash.startsWith('#highlights/')")
    assert len(posts) == 1 and posts[0]["prompt"] == "花园里的番茄", posts
    _wait_highlight(page)
    _raise_alert(page, "Chinese highlight")
    downloads = page.locator("#hl-result").inner_text()
    assert "null" not in downloads and "undefined" not in downloads, downloads


def test_a_failed_highlight_job_shows_its_error(
    web_page, web_indexed_video: str, web_library: Path
) -> None:
    """The source file disappears after indexing: the render fails for real; the page says why,
    shows no reel or broken links, and the history keeps the failed job with its error."""
    page = web_page
    source = web_library / "garden.mp4"
    hidden = web_library / "garden.mp4.away"
    source.rename(hidden)
    try:
        page.get_by_role("tab", name="Highlights").click()
        page.get_by_label("What should the highlight reel show?").fill("tomatoes in the garden")
        page.get_by_label("Target duration (s)", exact=True).fill("6")
        page.get_by_role("button", name="Make highlights").click()
        page.wait_for_function("() => location.hash.startsWith('#highlights/')")
        request_id = page.url.split("#highlights/")[1]
        expect(page.locator("#hl-job")).to_have_attribute(
            "data-status", "failed", timeout=HIGHLIGHT_TIMEOUT_S * 1000
        )
    finally:
        hidden.rename(source)
    text = _alert_text(page)
    _assert_readable(text)
    assert text.startswith("The highlight job failed: ") and len(text) > 30, text
    message = page.locator("#hl-job-message")
    expect(message).to_have_class("help error-text")
    assert message.inner_text().strip(), "the job panel does not show the error"
    expect(page.locator("#hl-result")).to_be_hidden()
    item = page.locator(f"#hl-history li[data-request-id='{request_id}']")
    expect(item).to_have_attribute("data-status", "failed")
    expect(item.locator(".error-text")).not_to_be_empty()


def test_an_index_job_can_be_cancelled_from_the_page(
    web_page, web_indexed_video: str, web_library: Path
) -> None:
    """A new file (same pictures, other bytes) starts a real index job; Cancel stops it."""
    page = web_page
    copy = web_library / "garden-copy.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(web_library / "garden.mp4"),
            "-c",
            "copy",
            "-metadata",
            "comment=another file",
            str(copy),
        ],
        check=True,
        timeout=60,
    )
    try:
        with page.expect_response(
            lambda r: r.request.method == "POST" and r.url.endswith("/api/v1/videos")
        ) as added:
            page.get_by_label("Path on the server").fill(str(copy))
            page.get_by_role("button", name="Add", exact=True).click()
        request_id = added.value.json()["job"]["request_id"]
        page.get_by_role("button", name="Cancel indexing garden-copy.mp4").click()
        expect(page.locator("#notice")).to_contain_text(
            "Cancelled indexing garden-copy.mp4", timeout=60_000
        )
        _raise_alert(page, "cancel")
        job = page.request.get(f"{page.url.split('#')[0]}api/v1/jobs/{request_id}").json()
        assert job["status"] == "cancelled", job
        expect(page.locator(f"#video-list li[data-job-id='{request_id}']")).to_have_count(0)
    finally:
        copy.unlink(missing_ok=True)


WEB_TOKEN = "page-test-token-0123456789"


@pytest.fixture(scope="module")
def web_token_server(
    tmp_path_factory: pytest.TempPathFactory, web_library: Path
) -> Iterator[_ServerThread]:
    """A second real server, with SCENESPARK_API_TOKEN set (its own data dir, same library)."""
    home = tmp_path_factory.mktemp("web_token_home")
    settings = load_settings(
        home=home,
        library_roots=[web_library],
        chroma_url="",
        llm_base_url="",
        api_token=WEB_TOKEN,
    )
    server = _ServerThread(settings)
    server.start()
    yield server
    server.stop()


def test_page_asks_for_the_api_token_once_and_keeps_it_for_the_tab(
    web_browser, web_token_server: _ServerThread
) -> None:
    context = web_browser.new_context(viewport=VIEWPORT)
    context.add_init_script(CSP_RECORDER)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    requests: list = []
    page.on("request", lambda r: requests.append(r) if "/api/v1/" in r.url else None)
    try:
        page.goto(f"{web_token_server.url}/#library")
        # the first API call got a 401: the page asks (once, though several calls were refused)
        dialog = page.locator("#token-dialog")
        expect(dialog).to_be_visible()
        page.get_by_label("API token", exact=True).fill("not-the-token")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#token-error")).to_be_visible()
        page.get_by_label("API token", exact=True).fill(WEB_TOKEN)
        page.get_by_role("button", name="Sign in").click()
        expect(dialog).to_be_hidden()
        expect(page.locator("#library-empty")).to_be_visible()
        expect(page.locator("#alert")).to_be_hidden()

        sessions = [r for r in requests if r.url.endswith("/api/v1/session")]
        assert [r.post_data_json["token"] for r in sessions] == ["not-the-token", WEB_TOKEN]
        assert all(r.headers.get("content-type") == "application/json" for r in sessions)
        after = requests[requests.index(sessions[-1]) + 1 :]
        assert after, "the refused call was not retried"
        assert all(r.headers.get("authorization") == f"Bearer {WEB_TOKEN}" for r in after)

        # the session cookie is HttpOnly and SameSite=Strict, and alone opens the API (as the
        # <video>/<img> loads need): a plain fetch without the header is answered
        cookie = next(c for c in context.cookies() if c["name"] == "scenespark_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie
        assert page.evaluate("fetch('/api/v1/videos').then(r => r.status)") == 200
        assert WEB_TOKEN not in page.evaluate("document.cookie")

        # kept for the tab: a reload asks nothing
        page.reload()
        page.wait_for_selector("body[data-ready='true']")
        expect(page.locator("#library-empty")).to_be_visible()
        expect(dialog).to_be_hidden()

        # an upload is multipart and carries the Bearer header
        with page.expect_request(lambda r: r.method == "POST" and "/api/v1/videos" in r.url) as up:
            page.set_input_files(
                "#upload-file",
                files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"no video"}],
            )
            page.get_by_role("button", name="Upload").click()
        assert up.value.headers.get("authorization") == f"Bearer {WEB_TOKEN}"
        assert "multipart/form-data" in (up.value.headers.get("content-type") or "")
        page.wait_for_timeout(500)
        expect(dialog).to_be_hidden()
        assert not _csp_violations(page)
    finally:
        context.close()
    assert not errors, errors

    # a visitor who declines to give the token gets one readable line, not a blank page
    context = web_browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(f"{web_token_server.url}/#library")
        expect(page.locator("#token-dialog")).to_be_visible()
        page.get_by_role("button", name="Cancel").click()
        text = _alert_text(page)
        _assert_readable(text)
        assert "API token" in text, text
    finally:
        context.close()


def _sign_in(page, server: _ServerThread, view: str) -> None:
    page.goto(f"{server.url}/#{view}")
    expect(page.locator("#token-dialog")).to_be_visible()
    page.get_by_label("API token", exact=True).fill(WEB_TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#token-dialog")).to_be_hidden()


def test_an_empty_reel_says_so_without_a_player_or_links(
    web_browser, web_token_server: _ServerThread
) -> None:
    """Nothing matches (the token server's library is empty): a clear message, no player, no
    'Download: null…', no 'ready: 0 clips'; the history keeps it as 'no clip matched'."""
    context = web_browser.new_context(viewport=VIEWPORT)
    context.add_init_script(CSP_RECORDER)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        _sign_in(page, web_token_server, "highlights")
        page.get_by_label("What should the highlight reel show?").fill("fireworks at midnight")
        page.get_by_role("button", name="Make highlights").click()
        _wait_highlight(page)
        result = page.locator("#hl-result")
        expect(result).to_have_attribute("data-state", "empty")
        expect(page.locator("#hl-title")).to_have_text("No highlight reel")
        expect(page.locator("#hl-description")).to_contain_text("fireworks at midnight")
        expect(page.locator("#reel-player")).to_be_hidden()
        expect(page.get_by_role("button", name="Play the reel")).to_be_hidden()
        expect(page.locator("#hl-downloads")).to_be_hidden()
        expect(page.locator("#hl-downloads a")).to_have_count(0)
        expect(page.locator("#hl-clips")).to_be_hidden()
        expect(page.locator("#replan-form")).to_be_hidden()
        text = result.inner_text()
        assert "null" not in text and "undefined" not in text and "0 clips" not in text, text
        expect(page.locator("#notice")).to_contain_text("No reel")
        _raise_alert(page, "empty reel")
        request_id = result.get_attribute("data-request-id")
        item = page.locator(f"#hl-history li[data-request-id='{request_id}']")
        expect(item).to_contain_text("no clip matched")
        assert not _csp_violations(page)
    finally:
        context.close()
    assert not errors, errors


def test_a_reel_is_recut_from_its_transcript(web_page, web_indexed_video: str) -> None:
    """The reel's source opens as a transcript with its sentences ticked; tick one sentence,
    move its end a word earlier, re-render: the new reel is exactly that span."""
    page = web_page
    page.get_by_role("tab", name="Highlights").click()
    page.locator(f"#hl-video-checks input[value='{web_indexed_video}']").check()
    page.get_by_label("What should the highlight reel show?").fill("the garden and tomatoes")
    page.get_by_label("Target duration (s)", exact=True).fill("8")
    page.get_by_label("What should the highlight reel show?").press("Enter")
    _wait_highlight(page)
    request_id = page.locator("#hl-result").get_attribute("data-request-id")
    form = page.locator("#recut-form")
    expect(form).to_be_visible()
    boxes = form.locator(f"fieldset[data-video-id='{web_indexed_video}'] input[type=checkbox]")
    assert boxes.count() >= 2
    assert form.locator("input[type=checkbox]:checked").count() >= 1  # the reel's sentences
    for i in range(boxes.count()):
        boxes.nth(i).uncheck()
    boxes.nth(1).check()
    form.get_by_role("button", name="End one word earlier").click()
    base = page.url.split("#")[0].rstrip("/")
    transcript = page.request.get(f"{base}/api/v1/videos/{web_indexed_video}/transcript").json()
    sentence = transcript["sentences"][1]
    ends = sorted({w["end_s"] for s in transcript["sentences"] for w in s["words"]})
    expected_end = ends[ends.index(sentence["end_s"]) - 1] if sentence["words"] else None
    form.get_by_role("button", name="Re-render").click()
    page.wait_for_function(
        f"() => document.getElementById('hl-result').dataset.requestId !== {request_id!r}",
        timeout=HIGHLIGHT_TIMEOUT_S * 1000,
    )
    _wait_highlight(page)
    _raise_alert(page, "re-cut")
    new_id = page.locator("#hl-result").get_attribute("data-request-id")
    job = page.request.get(f"{base}/api/v1/highlights/{new_id}").json()
    assert job["status"] == "done", job
    [clip] = job["result"]["clips"]
    assert clip["start_s"] == pytest.approx(max(0.0, sentence["start_s"] - 0.1), abs=0.002)
    if expected_end is not None:
        assert clip["end_s"] == pytest.approx(expected_end + 0.1, abs=0.002)
    assert job["result"]["planner"] == "explicit"
    expect(page.locator("#clip-list li.clip-card")).to_have_count(1)


# Keep last: it removes the module's shared video.
def test_remove_video_asks_for_confirmation(web_page, web_indexed_video: str) -> None:
    page = web_page
    card = page.locator(f"#video-list li[data-video-id='{web_indexed_video}']")
    expect(card).to_have_count(1)
    # dismissing the confirmation keeps the video
    page.once("dialog", lambda dialog: dialog.dismiss())
    card.get_by_role("button", name="Remove").click()
    page.wait_for_timeout(500)
    expect(card).to_have_count(1)
    # accepting removes it
    messages: list[str] = []

    def accept(dialog) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    card.get_by_role("button", name="Remove").click()
    expect(card).to_have_count(0)
    assert messages and "Remove" in messages[0]
    expect(page.locator("#alert")).to_be_hidden()
