"""In real Chromium: a curator adds seeds in bulk, clicks crawl now, watches the progress
until the crawl is finished, opens the report; runs a test crawl and discards it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import REPO
from tests.serving import serving
from vellum.catalog import Catalog
from vellum.catalog.users import Users
from vellum.jobs.queue import JobQueue
from vellum.jobs.scheduler import Scheduler
from vellum.settings import Settings

from .site import PagesSite

pytestmark = pytest.mark.slow

ARTIFACTS = REPO / "test-artifacts" / "jobs"
PASSWORD = "curator password 1"


@dataclass
class Service:
    ui: str
    site: PagesSite
    catalog: Catalog


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("jobs-browser") / "data")
    catalog = Catalog(settings.catalog_path)
    catalog.create_organization("Partner <Library>", "PL")
    catalog.create_collection("news", "PL", "News <sites>", public=False)
    users = Users(catalog)
    users.create("carla", PASSWORD)
    users.add_membership("carla", "PL", "curator")
    scheduler = Scheduler(settings, catalog)
    with PagesSite(pages=30, delay=0.08) as site, serving(settings, catalog) as framed:
        assert framed.ui_origin
        scheduler.start(interval=0.3)
        try:
            yield Service(framed.ui_origin, site, catalog)
        finally:
            scheduler.stop()
    catalog.close()


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _log_in(page: Page, ui: str, next_path: str) -> None:
    page.goto(f"{ui}/login?next={next_path}")
    page.fill("#name", "carla")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{ui}{next_path}")


def _wait_for_state(page: Page, state: str, timeout: float = 90_000) -> None:
    # The job page reloads itself (meta refresh) while the job is queued or running.
    page.wait_for_selector(f"#state:text-is('{state}')", timeout=timeout)


def test_bulk_add_crawl_now_progress_report(service: Service, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    seeds_path = "/admin/collections/news/seeds"
    anonymous = page.goto(f"{service.ui}{seeds_path}")
    assert anonymous is not None and anonymous.status == 404
    _log_in(page, service.ui, seeds_path)
    assert page.locator("h1").inner_text() == "Seeds of News <sites>"
    _shot(page, "01-seeds-empty")

    site = service.site.url
    page.fill("#urls", f"{site}\nnot a url\n{site}p/3\n")
    page.click("button:text-is('Add seeds')")
    page.wait_for_url(f"{service.ui}/admin/collections/news/seeds/bulk")
    assert page.locator("text=2 seeds added.").is_visible()
    assert page.locator("text=line 2:").is_visible()
    rows = page.locator("table.pages tbody tr")
    assert rows.count() == 2
    _shot(page, "02-seeds-bulk-added")
    page.click(f"a:text-is('{site}p/3')")
    assert page.locator("h1").inner_text() == f"Seed {site}p/3"
    edit_url = page.url
    page.fill("#notes", "Front page <b>and</b> section 3")
    page.fill("#dc_subject", "news; politics")
    page.select_option("#frequency", "weekly")
    page.click("button:text-is('Save seed')")
    page.wait_for_url(f"{service.ui}{seeds_path}?saved=*")
    assert page.locator("td:text-is('Front page <b>and</b> section 3')").is_visible()
    assert page.locator("td:text-is('weekly')").count() == 1
    page.goto(edit_url)
    assert page.input_value("#dc_subject") == "news; politics"
    _shot(page, "02b-seed-edit")
    page.goto(f"{service.ui}{seeds_path}")

    page.click("button:text-is('Crawl now')")
    page.wait_for_url(f"{service.ui}/admin/jobs/*")
    assert page.locator("h1").inner_text().startswith("Crawl job")
    page.wait_for_selector("dd[data-k=pages]:not(:text-is('0'))", timeout=60_000)
    _shot(page, "03-job-running")
    _wait_for_state(page, "finished")
    pages = int(page.locator("dd[data-k=pages]").inner_text().replace(",", ""))
    assert pages >= 30
    report = page.locator("#report")
    assert report.is_visible()
    assert page.locator("caption:text-is('By HTTP status')").is_visible()
    _shot(page, "04-job-finished-report")

    page.click("text=Crawl jobs of News <sites>")
    assert page.locator("td >> text=finished").count() == 1
    _shot(page, "05-jobs-list")

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    small = phone.new_page()
    small.context.add_cookies(context.cookies())
    small.goto(f"{service.ui}{seeds_path}")
    _shot(small, "06-seeds-phone")
    small.goto(page.url.replace("/jobs", "/jobs").rsplit("/admin", 1)[0] + "/admin/jobs/1")
    _shot(small, "07-job-phone")
    phone.close()
    context.close()


def test_test_crawl_reviewed_then_discarded(service: Service, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    _log_in(page, service.ui, "/admin/collections/news/seeds")
    page.click("button:text-is('Test crawl')")
    page.wait_for_url(f"{service.ui}/admin/jobs/*")
    assert page.locator("h1").inner_text().startswith("Test crawl job")
    _wait_for_state(page, "finished")
    assert page.locator("#review").is_visible()
    assert page.locator("text=Not in the collection, not replayed").is_visible()
    _shot(page, "08-test-crawl-review")
    job_id = int(page.url.rsplit("/", 1)[1])
    page.click("button:text-is('Discard')")
    _wait_for_state(page, "discarded")
    _shot(page, "09-test-crawl-discarded")
    assert JobQueue(service.catalog).get(job_id).state == "discarded"
    context.close()
