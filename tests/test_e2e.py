"""The demo flow end to end, checked in real headless Chromium (framed replay)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser
from rich.console import Console

from tests.conftest import FROZEN, REPO, shared_dir
from tests.serving import serving
from vellum.catalog import Catalog
from vellum.clock import frozen_clock
from vellum.demo.runner import capture_demo
from vellum.settings import Settings

pytestmark = pytest.mark.slow

ARTIFACTS = REPO / "test-artifacts"
BANNER = (
    "You are viewing an archived web page, collected at the request of United Nations "
    "Educational, Scientific and Cultural Organization (UNESCO) using Vellum. This page was "
    "captured on 23:14:10 Dec 29, 2015, and is part of the UNESCO collection. The information "
    "on this web page may be out of date. See All versions of this archived page."
)


@dataclass
class Replay:
    origin: str  # the UI origin, http://localhost:PORT
    replay: str  # the replay origin, http://127.0.0.1:PORT2
    aimf: str  # full URL of the archived AIMF page (its top page on the UI origin)
    site: str  # the demo site's (stopped) URL


def normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def seed_body_lines() -> list[str]:
    (seed,) = (shared_dir() / "seed").glob("*.txt")
    lines = [normalize(line) for line in seed.read_text(encoding="utf-8").splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("UNESCO.ORG"))
    return [line for line in lines[start:] if line]


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replay]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("e2e") / "data")
    catalog = Catalog(settings.catalog_path)
    console = Console(file=open("/dev/null", "w"))  # noqa: SIM115
    capture = capture_demo(settings, catalog, console, clock=frozen_clock(FROZEN))
    console.file.close()
    with serving(settings, catalog) as framed:
        assert framed.ui_origin and framed.replay_origin
        origin = framed.ui_origin
        yield Replay(origin, framed.replay_origin, origin + capture.aimf_path, capture.site_url)
    catalog.close()


def test_archived_aimf_page_in_chromium(replay: Replay, browser: Browser) -> None:
    assert "/unesco/20151229231410/" in replay.aimf
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    requests: list[str] = []
    responses: dict[str, int] = {}
    page.on("request", lambda r: requests.append(r.url))
    page.on("response", lambda r: responses.__setitem__(r.url, r.status))
    page.goto(replay.aimf, wait_until="networkidle")

    banner = normalize(page.inner_text("#vellum-banner"))
    assert banner.startswith(BANNER), banner[:400]
    assert normalize(page.inner_text("body")).startswith(BANNER)
    frame = page.frame("vellum-replay")
    assert frame is not None and frame.url.startswith(replay.replay + "/unesco/")
    text = normalize(frame.inner_text("body"))
    position = 0
    for line in seed_body_lines():
        found = text.find(line, position)
        assert found >= 0, f"seed line missing or out of order: {line!r}"
        position = found + len(line)

    stylesheet = f"{replay.replay}/unesco/20151229231410cs_/{replay.site}css/portal.css"
    logo = f"{replay.replay}/unesco/20151229231410im_/{replay.site}img/logo.png"
    assert responses.get(stylesheet) == 200
    assert responses.get(logo) == 200
    # (wombat reports archived URLs to archived script, so these are the original ones)
    assert frame.evaluate(
        "() => [...document.images]"
        ".some(i => i.src.endsWith('/img/logo.png') && i.naturalWidth > 0)"
    )
    assert frame.evaluate(
        "() => [...document.styleSheets].some(s => (s.href || '').endsWith('/css/portal.css'))"
    )
    ours = (replay.origin + "/", replay.replay + "/")
    outside = [u for u in requests if not u.startswith(ours)]
    assert outside == [], f"requests left the archive: {outside}"

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "e2e-aimf.png"))
    assert page.get_attribute("#vellum-banner time", "title") == "Capture time in UTC"
    page.click("#vellum-banner .vellum-hide")
    assert not page.is_visible("#vellum-banner .vellum-banner-text")
    page.click("#vellum-banner .vellum-hide")  # "show banner"
    assert page.is_visible("#vellum-banner .vellum-banner-text")
    page.close()


def test_partner_link_opens_archived_partner(replay: Replay, browser: Browser) -> None:
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(replay.aimf.replace("partners/aimf.html", "partners/index.html"))
    frame = page.frame_locator("#vellum-replay")
    links = frame.locator("a[href*='/partners/'][href$='.html']:not([href*='print'])")
    target = next(
        link
        for link in links.all()
        if not link.get_attribute("href").endswith("/index.html")  # type: ignore[union-attr]
    )
    href = target.get_attribute("href") or ""
    assert href.startswith("/unesco/20151229231410")
    partner = href[href.index("/http") + 1 :]
    target.click()
    # The banner follows: the top page's address becomes the partner's page.
    page.wait_for_url(f"{replay.origin}/unesco/20151229231410/{partner}")
    page.wait_for_load_state("networkidle")
    assert page.locator("#vellum-banner").is_visible()
    assert "Institution Type" in frame.locator("body").inner_text()
    ours = (replay.origin + "/", replay.replay + "/")
    outside = [u for u in requests if not u.startswith(ours)]
    assert outside == []
    all_versions = page.locator("#vellum-banner a.vellum-versions")
    all_versions.click()
    page.wait_for_load_state()
    assert "All versions of this archived page" in page.inner_text("body")
    page.close()
