"""Logging in in real Chromium and seeing a private collection (UI on localhost)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser

from tests.auth.conftest import PASSWORD
from tests.conftest import REPO, shared_dir
from tests.serving import serving
from vellum.catalog import Catalog
from vellum.catalog.users import Users
from vellum.index.importer import Importer
from vellum.settings import Settings

pytestmark = pytest.mark.slow

ARTIFACTS = REPO / "test-artifacts"
IANA = "warcio/example-iana.org-chunked.warc"


@dataclass
class Service:
    ui: str  # http://localhost:PORT
    replay: str  # http://127.0.0.1:PORT


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("auth-browser") / "data")
    catalog = Catalog(settings.catalog_path)
    catalog.create_organization("Org <A>", "A")
    catalog.create_organization("Org B", "B")
    catalog.create_collection("a-private", "A", "A's <private> pages", public=False)
    catalog.create_collection("b-private", "B", "B's private pages", public=False)
    fixture = shared_dir() / "fixtures" / IANA
    for slug in ("a-private", "b-private"):
        assert not Importer(settings, catalog, workers=1).run(slug, [fixture]).failed
    users = Users(catalog)
    users.create("vic", PASSWORD)
    users.add_membership("vic", "A", "viewer")
    users.create("pat", PASSWORD)
    users.add_membership("pat", "A", "curator")
    with serving(settings, catalog) as framed:
        assert framed.ui_origin and framed.replay_origin
        yield Service(framed.ui_origin, framed.replay_origin)
    catalog.close()


def test_log_in_and_see_a_private_collection(service: Service, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    page = context.new_page()
    private = f"{service.ui}/a-private/"
    first = page.goto(private)
    assert first is not None and first.status == 404
    assert "private" not in page.content()

    page.goto(f"{service.ui}/login?next=/a-private/")
    assert page.locator("h1").inner_text() == "Log in"
    page.get_by_label("User name").fill("vic")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong user name or password."
    assert page.get_by_label("User name").input_value() == "vic"
    page.screenshot(path=str(ARTIFACTS / "auth-login-error.png"))

    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    assert page.url == private
    assert "A's <private> pages" in page.locator("h1").inner_text()
    assert "iana.org" in page.content()
    page.screenshot(path=str(ARTIFACTS / "auth-private-collection.png"))
    # Another organization's private collection stays invisible.
    other = page.goto(f"{service.ui}/b-private/")
    assert other is not None and other.status == 404

    (cookie,) = [c for c in context.cookies() if c["name"] == "vellum_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
    assert cookie["domain"] == "localhost"  # host-only: the replay host never gets it
    assert "vellum_session" not in page.evaluate("document.cookie")
    assert context.cookies(service.replay) == []

    page.goto(f"{service.ui}/account")
    assert "Org &lt;A&gt; (A): viewer" in page.content()
    page.screenshot(path=str(ARTIFACTS / "auth-account.png"))
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()
    gone = page.goto(private)
    assert gone is not None and gone.status == 404
    assert [c for c in context.cookies() if c["name"] == "vellum_session"] == []
    context.close()


def test_password_change_in_the_browser(service: Service, browser: Browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{service.ui}/login?next=/account/password")
    page.get_by_label("User name").fill("pat")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    assert page.locator("h1").inner_text() == "Change your password"
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("the next password")
    page.get_by_label("New password again").fill("the next password")
    page.keyboard.press("Enter")  # usable from the keyboard alone
    page.wait_for_selector("text=Your password was changed")
    page.screenshot(path=str(ARTIFACTS / "auth-password-changed.png"))
    assert page.goto(f"{service.ui}/a-private/").status == 200  # type: ignore[union-attr]
    context.close()
