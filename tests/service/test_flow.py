"""The main flow of the archiving service, in real Chromium against `vellum serve`.

The first administrator (made with `vellum user create --admin`) logs in, creates an
organization, a curator and a collection, adds seeds in bulk (a bad line among them),
runs a crawl now, watches its progress, opens its report and replays a captured page;
then makes the collection private and checks that an anonymous browser gets 404 on its
pages, its replay, its CDX API and finds nothing of it in search; finally runs a test
crawl and discards it. Every page of the flow is kept as a screenshot in
test-artifacts/service/.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import REPO
from vellum.demo.site_server import DemoSite

pytestmark = pytest.mark.slow

ARTIFACTS = REPO / "test-artifacts" / "service"
VELLUM = [sys.executable, "-m", "vellum"]
ADMIN, ADMIN_PASSWORD = "ada", "first admin password"
CURATOR, CURATOR_PASSWORD = "curt", "curator password"
SLUG = "flow"


@dataclass
class Service:
    data: Path
    ui: str  # http://localhost:PORT
    replay: str  # http://127.0.0.1:PORT
    site: str  # the demo site being crawled


def vellum(data: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*VELLUM, "--data", str(data), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    data = tmp_path_factory.mktemp("service") / "data"
    made = vellum(
        data, "user", "create", ADMIN, "--admin", "--password-stdin", stdin=ADMIN_PASSWORD
    )
    assert ADMIN in made.stdout + made.stderr
    log = data.parent / "serve.log"
    with DemoSite() as site, log.open("w") as out:
        proc = subprocess.Popen(
            [*VELLUM, "--data", str(data), "serve", "--port", "0"],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        try:
            found = None
            deadline = time.monotonic() + 60
            while found is None and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.1)
                found = re.search(
                    r"Vellum replay on (http://\S+)/ \(archived pages from (http://\S+)\)",
                    log.read_text(),
                )
            assert found, log.read_text()
            yield Service(data, found.group(1), found.group(2), site.url)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


class Shots:
    """Numbered full-page screenshots of the flow."""

    def __init__(self, page: Page, prefix: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page = page
        self.prefix = prefix
        self.n = 0

    def __call__(self, name: str) -> None:
        self.n += 1
        path = ARTIFACTS / f"{self.prefix}-{self.n:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)


def submit(page: Page, button: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()


def wait_for_job(page: Page, shot: Shots, seconds: float = 180) -> tuple[str, list[str]]:
    """Reload the job page until the job ends: its final state, and the states seen."""
    deadline = time.monotonic() + seconds
    seen: list[str] = []
    while True:
        state = page.locator("#state").inner_text().strip()
        if not seen or seen[-1] != state:
            seen.append(state)
            shot(f"job-{state}")
        if state not in ("queued", "running", "pausing", "stopping"):
            return state, seen
        assert time.monotonic() < deadline, f"the job is still {state}"
        time.sleep(0.3)
        page.reload()


def test_main_flow(service: Service, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    shot = Shots(page, "flow")

    # The first admin logs in.
    page.goto(f"{service.ui}/login")
    shot("login")
    page.get_by_label("User name").fill(ADMIN)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    submit(page, "Log in")
    expect(page.locator("header.site")).to_contain_text(ADMIN)
    shot("home-logged-in")

    # An organization.
    page.get_by_role("link", name="Admin").click()
    shot("admin")
    page.goto(f"{service.ui}/admin/organizations/new")
    page.get_by_label("Name").fill("Archive <of> Flows")
    page.get_by_label("Acronym").fill("AOF")
    page.get_by_label("Contact").fill("mailto:flows@example.org")
    shot("organization-form")
    submit(page, "Create organization")
    expect(page.locator("main")).to_contain_text("Archive <of> Flows")
    shot("organization-created")

    # A curator of it.
    page.goto(f"{service.ui}/admin/users/new")
    page.get_by_label("User name").fill(CURATOR)
    page.locator("#password").fill(CURATOR_PASSWORD)  # its label carries a hint
    page.get_by_label("Password again").fill(CURATOR_PASSWORD)
    submit(page, "Create user")
    page.goto(f"{service.ui}/admin/users/{CURATOR}")
    page.get_by_label("Organization").select_option(label="Archive <of> Flows (AOF)")
    page.get_by_label("Role").select_option("curator")
    submit(page, "Add role")
    expect(page.locator("main")).to_contain_text("curator")
    shot("curator")

    # A collection, public for now.
    page.goto(f"{service.ui}/admin/collections/new")
    page.get_by_label("Slug").fill(SLUG)
    page.get_by_label("Title").fill("Flow <collection>")
    page.get_by_label("Owning organization").select_option(label="Archive <of> Flows (AOF)")
    page.get_by_label("Public: anyone may see it").check()
    page.get_by_label("Description").fill("Pages of the UNESCO partner directory.")
    page.get_by_label("Subject").fill("partners\nmayors")
    shot("collection-form")
    submit(page, "Create collection")
    shot("collection-created")

    # Seeds in bulk: good lines are saved, the bad one is listed with its reason.
    page.goto(f"{service.ui}/admin/collections/{SLUG}/seeds")
    page.get_by_label("URLs, one a line").fill(
        f"{service.site}\nnot a url at all\n{service.site}partners/index.html\n"
    )
    submit(page, "Add seeds")
    main = page.locator("main")
    expect(main).to_contain_text("not a url at all")
    expect(main).to_contain_text(f"{service.site}partners/index.html")
    shot("seeds-added")

    # Crawl now; watch the progress; the report.
    submit(page, "Crawl now")
    expect(page.locator("h1")).to_contain_text("job")
    state, seen = wait_for_job(page, shot)
    assert state == "finished" and "running" in seen, seen  # progress watched while running
    report = page.locator("#report")
    expect(report).to_be_visible()
    page.locator("#report").scroll_into_view_if_needed()
    shot("job-report")
    pages = int(page.locator('dd[data-k="pages"]').inner_text().replace(",", ""))
    assert pages > 5

    # The portal shows it; a captured page replays in the frame.
    page.goto(f"{service.ui}/")
    expect(page.locator("main")).to_contain_text("Flow <collection>")
    shot("portal-home")
    page.goto(f"{service.ui}/{SLUG}/")
    expect(page.locator("main")).to_contain_text("Pages of the UNESCO partner directory.")
    shot("portal-collection")
    with page.expect_navigation():
        page.locator("table.pages a", has_text="partners/aimf.html").first.click()
    frame = page.frame_locator("#vellum-replay")
    expect(frame.locator("body")).to_contain_text("Association internationale des maires")
    shot("replay")
    capture_top = page.url
    capture_path = capture_top.removeprefix(service.ui)
    replay_url = service.replay + re.sub(r"^(/[^/]+/\d{14})/", r"\1mp_/", capture_path)
    anonymous = browser.new_context()
    probe = anonymous.new_page()
    assert probe.goto(replay_url).status == 200  # type: ignore[union-attr]
    found = probe.goto(f"{service.ui}/api/search?q=maires&collection={SLUG}")
    assert found is not None
    hits_while_public = json.loads(found.text())["total"]

    # Private now: an anonymous browser gets 404 everywhere; the search finds nothing.
    page.goto(f"{service.ui}/admin/collections/{SLUG}")
    page.get_by_label("Private: only members of the organization").check()
    submit(page, "Save")
    shot("collection-private")
    for url in (
        f"{service.ui}/{SLUG}/",
        capture_top,
        replay_url,
        f"{service.ui}/{SLUG}/*/{service.site}",
        f"{service.ui}/{SLUG}/cdx?url={service.site}*",
    ):
        response = probe.goto(url)
        assert response is not None and response.status == 404, url
        assert "Association internationale" not in probe.content()
    probe.goto(f"{service.ui}/{SLUG}/")
    Shots(probe, "anonymous")("private-collection-404")
    probe.goto(f"{service.ui}/search?q=maires")
    assert "Association internationale" not in probe.content()
    api = probe.goto(f"{service.ui}/api/search?q=maires&collection={SLUG}")
    assert api is not None and json.loads(api.text())["total"] == 0
    assert hits_while_public > 0  # the crawl was searchable while public
    home = probe.goto(f"{service.ui}/")
    assert home is not None and "Flow &lt;collection&gt;" not in probe.content()
    anonymous.close()
    # The admin still sees it, replay frame included.
    page.goto(capture_top)
    expect(page.frame_locator("#vellum-replay").locator("body")).to_contain_text(
        "Association internationale des maires"
    )
    shot("private-replay-for-admin")

    # A test crawl, reviewed and discarded.
    captures_before = page_count(page, service)
    page.goto(f"{service.ui}/admin/collections/{SLUG}/seeds")
    submit(page, "Test crawl")
    expect(page.locator("h1")).to_contain_text("Test crawl job")
    assert wait_for_job(page, shot)[0] == "finished"
    submit(page, "Discard")
    expect(page.locator("#state")).to_contain_text("discarded")
    shot("test-crawl-discarded")
    assert page_count(page, service) == captures_before
    context.close()


def page_count(page: Page, service: Service) -> str:
    """The collection's figures line on its portal page (captures, URLs, dates)."""
    page.goto(f"{service.ui}/{SLUG}/")
    return page.locator("p.figures").inner_text()
