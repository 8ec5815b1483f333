"""The fidelity suite: each tricky live page against its framed replay, in Chromium.

The live site is captured into WARCs by warcio's `capture_http` (every URL fetched
directly, script-only resources included), imported into a collection and served by
`vellum serve`'s two origins. For each page, live and replayed:

- every request of the replayed page stays on the replay origin (the top page's own on
  the UI origin);
- the content frame's screenshot equals the live page's within a small tolerance;
- text that script put on the live page is on the replayed page.

It prints a fidelity score (pages passing / pages), which must be 100%, and keeps the
screenshots in test-artifacts/fidelity/.
"""

from __future__ import annotations

import base64
import contextlib
import re
import struct
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from warcio.capture_http import capture_http
from warcio.warcwriter import WARCWriter

from tests.conftest import REPO
from tests.fidelity.site import PAGES, FidelityPage, LiveSite
from tests.replay_ui.live import chromium, require_wombat, serving
from vellum.catalog import Catalog
from vellum.index.importer import Importer
from vellum.settings import Settings

pytestmark = pytest.mark.slow

ARTIFACTS = REPO / "test-artifacts" / "fidelity"
SLUG = "fidelity"
VIEWPORT = {"width": 900, "height": 700}
# A pixel differs when a channel differs by more than this; a page passes when at most
# this share of its pixels differ.
CHANNEL_TOLERANCE = 48
PIXEL_TOLERANCE = 0.001


@dataclass
class Suite:
    browser: Browser
    site: LiveSite
    ui: str
    replay: str


@dataclass
class Outcome:
    page: FidelityPage
    problems: list[str]
    share: float  # of pixels that differ between live and replay


_VIDEO_JS = """async () => {
  const c = document.createElement('canvas'); c.width = 160; c.height = 90;
  const g = c.getContext('2d');
  const rec = new MediaRecorder(c.captureStream(10), {mimeType: 'video/webm;codecs=vp8'});
  const parts = []; rec.ondataavailable = e => parts.push(e.data);
  const done = new Promise(ok => { rec.onstop = ok; });
  rec.start();
  for (let n = 0; n < 10; n++) {
    g.fillStyle = n % 2 ? '#c33' : '#33c'; g.fillRect(0, 0, 160, 90);
    await new Promise(ok => setTimeout(ok, 50));
  }
  rec.stop(); await done;
  const bytes = new Uint8Array(await new Blob(parts).arrayBuffer());
  let s = ''; for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}"""

_DIFF_JS = """async ([a, b, tolerance]) => {
  const load = src => new Promise((ok, no) => {
    const i = new Image(); i.onload = () => ok(i); i.onerror = no; i.src = src; });
  const [x, y] = await Promise.all([load(a), load(b)]);
  if (x.width !== y.width || x.height !== y.height)
    return {share: 1, size: [x.width, x.height, y.width, y.height]};
  const c = document.createElement('canvas'); c.width = x.width; c.height = x.height;
  const g = c.getContext('2d', {willReadFrequently: true});
  g.drawImage(x, 0, 0); const p = g.getImageData(0, 0, c.width, c.height).data;
  g.clearRect(0, 0, c.width, c.height);
  g.drawImage(y, 0, 0); const q = g.getImageData(0, 0, c.width, c.height).data;
  let bad = 0;
  for (let i = 0; i < p.length; i += 4) {
    if (Math.abs(p[i] - q[i]) > tolerance || Math.abs(p[i+1] - q[i+1]) > tolerance ||
        Math.abs(p[i+2] - q[i+2]) > tolerance) bad++;
  }
  return {share: bad / (p.length / 4), size: [x.width, x.height]};
}"""


def make_video(browser: Browser) -> bytes:
    """A short WebM (VP8) recorded from a canvas by Chromium itself."""
    page = browser.new_page()
    try:
        return base64.b64decode(page.evaluate(_VIDEO_JS))
    finally:
        page.close()


def capture(site: LiveSite, warc: Path) -> None:
    """Fetch every URL of the site (redirects followed, each hop recorded) into `warc`."""
    with warc.open("wb") as out, capture_http(WARCWriter(out, gzip=True)):
        for url in site.urls():
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    response.read()
            except urllib.error.HTTPError as exc:
                exc.read()
                exc.close()


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    require_wombat()
    base = tmp_path_factory.mktemp("fidelity")
    settings = Settings(data_dir=base / "data")
    catalog = Catalog(settings.catalog_path)
    catalog.create_organization("Fidelity Testers", "FT")
    catalog.create_collection(SLUG, "FT", "Fidelity")
    with chromium() as browser, LiveSite(make_video(browser)) as site:
        warc = base / "fidelity.warc.gz"
        capture(site, warc)
        report = Importer(settings, catalog, workers=1).run(SLUG, [warc])
        assert not report.failed, report
        with serving(settings, catalog) as framed:
            assert framed.ui_origin and framed.replay_origin
            yield Suite(browser, site, framed.ui_origin, framed.replay_origin)
    catalog.close()


def _settle(page: Page, texts: tuple[str, ...], frame_name: str | None = None) -> None:
    """Wait until the page (or its named frame) has loaded, shows `texts`, fonts ready."""
    # A page that keeps a connection open never idles: the checks below still apply.
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_load_state("networkidle", timeout=15000)
    target = page.frame(frame_name) if frame_name else page.main_frame
    assert target is not None
    for text in texts:
        try:
            target.wait_for_function(
                "t => document.body && document.body.innerText.includes(t)", arg=text, timeout=5000
            )
        except Exception:
            break  # reported by the text check
    target.evaluate("() => document.fonts.ready.then(() => true)")
    page.wait_for_timeout(300)


def _name(page: FidelityPage) -> str:
    return re.sub(r"[^a-z0-9]+", "-", page.name.lower()).strip("-")


def check_page(suite: Suite, fp: FidelityPage) -> Outcome:
    problems: list[str] = []
    replay_ctx: BrowserContext = suite.browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    requests: list[tuple[str, bool]] = []  # (url, from the top page)

    def record(request: object) -> None:
        url = request.url  # type: ignore[attr-defined]
        try:
            top = request.frame.parent_frame is None  # type: ignore[attr-defined]
        except Exception:  # a service worker's request has no frame
            top = False
        requests.append((url, top))

    replay_ctx.on("request", record)
    try:
        page = replay_ctx.new_page()
        page.goto(f"{suite.ui}/{SLUG}/{suite.site.origin}{fp.path}", wait_until="load")
        _settle(page, fp.script_text, "vellum-replay")
        frame = page.frame("vellum-replay")
        assert frame is not None
        replayed = page.locator("#vellum-replay").screenshot()
        replayed_text = frame.inner_text("body")
        form_action = frame.get_attribute("form", "action") if fp.path == "/form.html" else None
    finally:
        replay_ctx.close()

    # The live page gets a viewport of the frame's size, in whole pixels as shot.
    width, height = struct.unpack(">II", replayed[16:24])
    live_ctx = suite.browser.new_context(viewport={"width": width, "height": height})
    try:
        page = live_ctx.new_page()
        page.goto(suite.site.origin + fp.path, wait_until="load")
        _settle(page, fp.script_text)
        live = page.screenshot()
        live_text = page.inner_text("body")
        compare = live_ctx.new_page()
        diff = compare.evaluate(
            _DIFF_JS,
            [
                "data:image/png;base64," + base64.b64encode(live).decode(),
                "data:image/png;base64," + base64.b64encode(replayed).decode(),
                CHANNEL_TOLERANCE,
            ],
        )
    finally:
        live_ctx.close()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{_name(fp)}-live.png").write_bytes(live)
    (ARTIFACTS / f"{_name(fp)}-replay.png").write_bytes(replayed)

    for url, top in requests:
        allowed = suite.ui + "/" if top else suite.replay + "/"
        if not url.startswith(allowed) and not url.startswith(("data:", "blob:", "about:")):
            problems.append(f"request left the replay origin: {url}")
    if diff["share"] > PIXEL_TOLERANCE:
        problems.append(f"screenshots differ: {diff['share']:.2%} of pixels {diff['size']}")
    for text in fp.script_text:
        if text not in live_text:
            problems.append(f"the live page itself lacks {text!r} (suite bug)")
        if text not in replayed_text:
            problems.append(f"script text missing on replay: {text!r}")
    if form_action is not None and not form_action.startswith(f"/{SLUG}/"):
        problems.append(f"form action not rewritten into the archive: {form_action}")
    return Outcome(fp, problems, float(diff["share"]))


def test_fidelity_suite(suite: Suite, capsys: pytest.CaptureFixture[str]) -> None:
    assert len(PAGES) >= 30
    outcomes = []
    for fp in PAGES:
        try:
            outcomes.append(check_page(suite, fp))
        except Exception as exc:  # one broken page must not hide the others' results
            outcomes.append(Outcome(fp, [f"error: {exc}".splitlines()[0]], 1.0))
    passing = [o for o in outcomes if not o.problems]
    lines = [
        f"{'ok  ' if not o.problems else 'FAIL'} {o.page.name} ({o.share:.3%} of pixels differ)"
        for o in outcomes
    ]
    for o in outcomes:
        lines.extend(f"     {o.page.name}: {p}" for p in o.problems)
    score = f"fidelity score: {len(passing)}/{len(outcomes)} ({len(passing) / len(outcomes):.0%})"
    lines.append(score)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "score.txt").write_text("\n".join(lines) + "\n")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert len(passing) == len(outcomes), score
