"""The admin flow in real Chromium: the first admin logs in, creates an organization,
a curator and a collection (with Dublin Core), adds an exclusion; screenshots of every
page, on a desktop and on a phone-width screen, go to test-artifacts/admin/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import REPO
from tests.serving import serving
from vellum.catalog import Catalog
from vellum.catalog.collections import Collections
from vellum.catalog.exclusions import Exclusions
from vellum.catalog.users import Users
from vellum.settings import Settings

pytestmark = pytest.mark.slow

ARTIFACTS = REPO / "test-artifacts" / "admin"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Catalog]]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("admin-browser") / "data")
    catalog = Catalog(settings.catalog_path)
    Users(catalog).create("root", PASSWORD, admin=True)
    with serving(settings, catalog) as framed:
        assert framed.ui_origin
        yield framed.ui_origin, catalog
    catalog.close()


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_admin_flow(ui: tuple[str, Catalog], browser: Browser) -> None:
    base, catalog = ui
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.goto(f"{base}/admin/")
    assert page.locator("h1").inner_text() == "Log in"  # sent to log in first
    page.get_by_label("User name").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    assert page.url == f"{base}/admin/"
    _shot(page, "01-admin-index")

    # An organization
    page.get_by_role("link", name="Organizations").click()
    page.get_by_role("link", name="New organization").click()
    page.get_by_label("Name").fill("National Library <NL>")
    page.get_by_label("Acronym").fill("NL")
    page.get_by_label("Contact").fill("webarchive@nl.example")
    page.get_by_label("Logo URL").fill("https://nl.example/logo.png")
    _shot(page, "02-organization-new")
    page.get_by_role("button", name="Create organization").click()
    assert page.get_by_role("status").inner_text() == "Saved."
    assert "National Library <NL>" in page.locator("h1").inner_text()
    _shot(page, "03-organization-saved")

    # A curator
    page.get_by_role("link", name="Users").click()
    page.get_by_role("link", name="New user").click()
    page.get_by_label("User name").fill("cora")
    page.get_by_label("Password (at least 8 characters)").fill("a long password")
    page.get_by_label("Password again").fill("a long password")
    page.get_by_role("button", name="Create user").click()
    assert page.locator("h1").inner_text() == "User cora"
    page.get_by_label("Organization").select_option(label="National Library <NL> (NL)")
    page.get_by_label("Role").select_option("curator")
    page.get_by_role("button", name="Add role").click()
    assert "curator of National Library <NL>" in page.locator("ul.roles").inner_text()
    _shot(page, "04-user-curator")
    page.get_by_role("link", name="Users").click()
    _shot(page, "05-users")

    # A collection
    admin_nav = page.get_by_role("navigation", name="Admin")
    admin_nav.get_by_role("link", name="Collections").click()
    page.get_by_role("link", name="New collection").click()
    page.get_by_label("Slug").fill("elections")
    page.get_by_label("Title").fill("Elections 2026")
    page.get_by_label("Private: only members").check()
    page.get_by_label("Description").fill("Campaign sites & parties.")
    page.get_by_label("Subject").fill("Elections\nPolitics")
    page.get_by_label("Language").fill("en\nfr")
    page.get_by_label("Embargo").fill("30")
    _shot(page, "06-collection-new")
    page.get_by_role("button", name="Create collection").click()
    assert page.get_by_role("status").inner_text() == "Saved."
    record = Collections(catalog).get("elections")
    assert not record.public and record.embargo_days == 30
    assert record.dublin_core["subject"] == ("Elections", "Politics")

    # A take-down on the collection's page
    page.get_by_label("every URL starting with this").check()
    page.get_by_label("URL or host").fill("http://party.example/leaks/")
    page.get_by_label("Reason").fill("Request of the site owner")
    page.get_by_role("button", name="Add exclusion").click()
    assert "Request of the site owner" in page.locator("#exclusions").inner_text()
    assert [x.value for x in Exclusions(catalog).list("elections")] == ["example,party)/leaks/"]
    _shot(page, "07-collection-with-exclusion")

    page.get_by_role("link", name="Delete this collection").click()
    _shot(page, "08-collection-delete")
    page.get_by_label("Type the slug").fill("wrong")
    page.get_by_role("button", name="Delete collection").click()
    assert "to confirm" in page.get_by_role("alert").inner_text()

    # The same pages on a phone: nothing wider than the screen.
    phone = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    phone.add_cookies(context.cookies())
    small = phone.new_page()
    for path, name in [
        ("/admin/", "09-phone-index"),
        ("/admin/collections/elections", "10-phone-collection"),
        ("/admin/users/cora", "11-phone-user"),
        ("/admin/organizations", "12-phone-organizations"),
    ]:
        small.goto(f"{base}{path}")
        width = small.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, (path, width)
        _shot(small, name)
    phone.close()
    context.close()
