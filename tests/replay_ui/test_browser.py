"""Framed replay in real Chromium: the banner follows the frame; archived script is caged."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import REPO
from tests.replay_ui.archive import Page as Capture
from tests.replay_ui.archive import make_collection
from tests.replay_ui.conftest import SITE, T1, T2, TS1, TS2, page_html
from tests.replay_ui.live import chromium, require_wombat, serving
from vellum.catalog import Catalog
from vellum.settings import Settings

pytestmark = pytest.mark.slow

ARTIFACTS = REPO / "test-artifacts"
EVIL_TITLE = "</title><script>top.__pwned = 1</script>"
EVIL_NAME = "Evil\" onmouseover='top.__pwned=1' </script><script>top.__pwned=1</script>"
EVIL_URL = "http://evil.example/x?q=\"'><script>top.__pwned=1</script>&u=javascript:alert(1)"


class _Trap(BaseHTTPRequestHandler):
    """Where an escaped top window would land: every hit is recorded."""

    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Trap.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "7")
        self.end_headers()
        self.wfile.write(b"escaped")

    def log_message(self, format: str, *args: object) -> None:
        pass


def _attacks(trap: str) -> str:
    """Archived script trying everything the issue forbids, on load and on a click."""
    return f"""
<p id="out">archived page</p><button id="go">go</button>
<a id="toplink" href="{trap}/link" target="_top">x</a>
<form id="topform" action="{trap}/form" target="_top"></form>
<script>
var tried = [];
function attempt(name, f) {{ try {{ f(); tried.push(name + ': done'); }}
  catch (e) {{ tried.push(name + ': ' + e.name); }} }}
attempt('banner', function () {{
  top.document.getElementById('vellum-banner').textContent = 'pwned'; }});
attempt('parent title', function () {{ parent.document.title = 'pwned'; }});
attempt('top.location', function () {{ top.location = '{trap}/location'; }});
attempt('window.open _top', function () {{ window.open('{trap}/open', '_top'); }});
attempt('link click', function () {{ document.getElementById('toplink').click(); }});
attempt('form submit', function () {{ document.getElementById('topform').submit(); }});
attempt('forged js url', function () {{ parent.postMessage(
  {{wb_type: 'load', url: 'javascript:top.__pwned=1', ts: '{TS1}'}}, '*'); }});
attempt('forged title', function () {{ parent.postMessage(
  {{wb_type: 'title', title: '<img src=x onerror=top.__pwned=1>'}}, '*'); }});
window.cookiesSeen = document.cookie;
window.tried = tried;
document.getElementById('go').addEventListener('click', function () {{
  try {{ window.top.location.href = '{trap}/clicked'; }}
  catch (e) {{ tried.push('click: ' + e.name); }}
}});
</script>"""


@dataclass
class Live:
    browser: Browser
    ui: str
    replay: str
    trap: str


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    require_wombat()
    trap_server = ThreadingHTTPServer(("127.0.0.1", 0), _Trap)
    trap = f"http://127.0.0.1:{trap_server.server_address[1]}"
    threading.Thread(target=trap_server.serve_forever, daemon=True).start()
    settings = Settings(data_dir=tmp_path_factory.mktemp("browser") / "data")
    catalog = Catalog(settings.catalog_path)
    pages = [
        Capture(SITE, T1, page_html("Home one", '<a id="about" href="/about.html">About</a>')),
        Capture(SITE, T2, page_html("Home two", '<a id="about" href="about.html">About</a>')),
        Capture(SITE + "about.html", T2, page_html("About us", "<p>About us</p>")),
        Capture(SITE + "evil.html", T2, page_html(EVIL_TITLE, _attacks(trap))),
    ]
    make_collection(settings, catalog, "web", pages, title="Web")
    make_collection(
        settings,
        catalog,
        "evil",
        [Capture(EVIL_URL, T2, page_html(EVIL_TITLE, "<p>hostile names</p>"))],
        organization=EVIL_NAME,
        acronym="EVIL",
        title=EVIL_NAME,
    )
    try:
        with serving(settings, catalog) as framed, chromium() as browser:
            assert framed.ui_origin and framed.replay_origin
            yield Live(browser, framed.ui_origin, framed.replay_origin, trap)
    finally:
        trap_server.shutdown()
        trap_server.server_close()
        catalog.close()


def _requests(page: Page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    return seen


def test_banner_and_address_follow_navigation_in_the_frame(live: Live) -> None:
    page = live.browser.new_page(viewport={"width": 1100, "height": 700})
    requests = _requests(page)
    page.goto(f"{live.ui}/web/{TS2}/{SITE}", wait_until="networkidle")
    assert "Home two" in page.title()
    assert "11:30:00 Mar 20, 2014" in page.inner_text("#vellum-banner time")
    assert page.is_visible("#vellum-banner a.vellum-prev")
    page.frame_locator("#vellum-replay").locator("#about").click()
    page.wait_for_url(f"{live.ui}/web/{TS2}/{SITE}about.html")
    page.wait_for_function("() => document.title.startsWith('About us')")
    # The banner now describes the about page: its only capture, so no neighbours.
    page.wait_for_selector("#vellum-banner .vellum-prev.vellum-none")
    assert "1 capture of this page" in page.inner_text("#vellum-banner summary")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "replay-ui-framed.png"))
    # Hide and show.
    page.click("#vellum-banner .vellum-hide")
    assert not page.is_visible("#vellum-banner .vellum-banner-text")
    assert page.inner_text("#vellum-banner .vellum-hide") == "show banner"
    page.click("#vellum-banner .vellum-hide")
    assert page.is_visible("#vellum-banner .vellum-banner-text")
    # The calendar opens; its month links lead to captures.
    page.click("#vellum-banner summary")
    assert page.is_visible("#vellum-banner .vellum-calendar table")
    ours = (live.ui + "/", live.replay + "/")
    assert [u for u in requests if not u.startswith(ours)] == []
    page.close()


def test_archived_script_is_caged(live: Live) -> None:
    context = live.browser.new_context()
    context.add_cookies([{"name": "ui_secret", "value": "s3cret", "url": live.ui}])
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    cookie_headers: list[str] = []
    page.on(
        "request",
        lambda r: (
            cookie_headers.append(r.headers.get("cookie", ""))
            if r.url.startswith(live.replay)
            else None
        ),
    )
    start = f"{live.ui}/web/{TS2}/{SITE}evil.html"
    page.goto(start, wait_until="networkidle")
    page.wait_for_timeout(500)
    frame = page.frame("vellum-replay")
    assert frame is not None
    frame.click("#go")  # a real user gesture: still no way out
    page.wait_for_timeout(800)

    assert page.url == start
    assert _Trap.hits == []
    assert dialogs == []
    assert page.evaluate("() => window.__pwned") is None
    assert "pwned" not in page.inner_text("#vellum-banner")
    assert page.inner_text("#vellum-banner").startswith("You are viewing an archived web page")
    # A title posted by archived script is shown as text, never as markup.
    assert page.locator("img").count() == 0
    tried = frame.evaluate("() => window.tried")
    assert "banner: SecurityError" in tried and "parent title: SecurityError" in tried
    # The UI's cookie is neither readable by archived script nor sent to the replay origin.
    assert "s3cret" not in frame.evaluate("() => document.cookie + window.cookiesSeen")
    assert not any("s3cret" in c for c in cookie_headers)
    assert page.locator("script").count() == 1  # only banner.js
    context.close()


def test_top_page_cannot_be_framed(live: Live) -> None:
    page = live.browser.new_page()
    page.goto(f"{live.replay}/web/{TS2}mp_/{SITE}about.html")  # wombat sends us to the top page
    page.wait_for_url(f"{live.ui}/web/{TS2}/{SITE}about.html")
    # A replay-origin document that frames a UI page gets nothing rendered in it.
    page.goto(f"{live.replay}/static/banner.css")
    page.set_content(f'<iframe id="f" src="{live.ui}/web/{TS2}/{SITE}"></iframe>')
    page.wait_for_timeout(800)
    inner = page.frame_locator("#f").locator("#vellum-banner")
    assert inner.count() == 0
    page.close()


def test_capture_times_in_the_banner_match_the_index(live: Live) -> None:
    page = live.browser.new_page()
    page.goto(f"{live.ui}/web/{TS1}/{SITE}", wait_until="networkidle")
    when = page.get_attribute("#vellum-banner time", "datetime")
    assert when == datetime(2014, 3, 2, 10, 0, tzinfo=UTC).isoformat()
    page.close()


def test_hostile_names_and_urls_run_no_script_on_the_ui(live: Live) -> None:
    page = live.browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{live.ui}/evil/{TS2}/{EVIL_URL}", wait_until="networkidle")
    page.wait_for_timeout(300)
    banner = page.inner_text("#vellum-banner")
    assert 'collected at the request of Evil" onmouseover=' in banner  # shown as text
    page.hover("#vellum-banner a.vellum-org")
    for link in page.locator("#vellum-banner a").all():
        href = link.get_attribute("href") or ""
        assert href.startswith("/evil/"), href
    assert dialogs == []
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("script").count() == 1
    # The archived page itself loads in the frame (no redirect loop on its odd URL).
    assert "hostile names" in page.frame_locator("#vellum-replay").locator("body").inner_text()
    page.close()
