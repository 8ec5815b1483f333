"""The portal in real Chromium: phone width, keyboard, labels, contrast, private frames."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import REPO
from tests.portal.conftest import PASSWORD, SITE, build_archive
from tests.serving import serving
from vellum.settings import Settings

pytestmark = pytest.mark.slow

ARTIFACTS = REPO / "test-artifacts" / "portal"
PORTAL_PAGES = {
    "home": "/",
    "collection": "/pub/",
    "calendar": f"/pub/*/{SITE}",
    "url-box-error": "/pub/?url=ftp%3A%2F%2Fx",
}
PRIVATE_TOP = "/priv-a/20200101120000/http://private.example.org/"
PRIVATE_FRAMED = "/priv-a/20200101120000mp_/http://private.example.org/"


@dataclass
class Service:
    ui: str
    replay: str


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("portal-browser") / "data")
    catalog = build_archive(settings)
    with serving(settings, catalog) as framed:
        assert framed.ui_origin and framed.replay_origin
        yield Service(framed.ui_origin, framed.replay_origin)
    catalog.close()


def log_in(page: Page, service: Service, name: str) -> None:
    page.goto(f"{service.ui}/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()


@pytest.mark.parametrize("name", sorted(PORTAL_PAGES))
def test_phone_width_without_horizontal_scroll(
    service: Service,
    browser: Browser,
    name: str,
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    response = page.goto(service.ui + PORTAL_PAGES[name])
    assert response is not None and response.status in (200, 400)
    page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    context.close()


FOCUSABLE = """() => {
  const all = [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary')];
  all.forEach((el, i) => el.setAttribute('data-focus-id', String(i)));
  return all.length;
}"""


@pytest.mark.parametrize("name", ["home", "collection", "calendar"])
def test_keyboard_reaches_everything_and_shows_focus(
    service: Service,
    browser: Browser,
    name: str,
) -> None:
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    log_in(page, service, "ada")  # the navigation's every item (Admin, Log out) too
    page.goto(service.ui + PORTAL_PAGES[name])
    total = page.evaluate(FOCUSABLE)
    reached: list[str] = []
    for _ in range(total + 3):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const el = document.activeElement;
              if (!el) return ['', '', ''];
              const style = getComputedStyle(el);
              return [el.getAttribute('data-focus-id') || '', style.outlineStyle,
                      style.outlineWidth]; }"""
        )
        if focused[0]:
            reached.append(focused[0])
            # focus is visible: a real outline, not none
            assert focused[1] != "none" and focused[2] != "0px", focused
    assert set(reached) == {str(i) for i in range(total)}
    # The first stop is the skip link, and it takes the keyboard into the content.
    page.goto(service.ui + PORTAL_PAGES[name])
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.screenshot(path=str(ARTIFACTS / f"focus-skip-{name}.png"))
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    context.close()


LABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
  .map(el => el.outerHTML)"""

CONTRAST = """() => {
  const lum = c => { const v = c.match(/[0-9.]+/g).slice(0, 3).map(Number).map(x => {
      x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const bg = el => { for (; el; el = el.parentElement) {
      const c = getComputedStyle(el).backgroundColor;
      if (c && !c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return c; }
    return 'rgb(255, 255, 255)'; };
  const worst = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const a = lum(getComputedStyle(el).color), b = lum(bg(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) worst.push([el.tagName, el.className, ratio.toFixed(2)]);
  }
  return worst;
}"""


@pytest.mark.parametrize("name", sorted(PORTAL_PAGES))
def test_labels_and_contrast(service: Service, browser: Browser, name: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    log_in(page, service, "ada")
    page.goto(service.ui + PORTAL_PAGES[name])
    assert page.evaluate(LABELLED) == []
    assert page.evaluate(CONTRAST) == []  # WCAG AA for body text, every text on the page
    context.close()


def test_member_sees_a_private_page_in_the_frame(service: Service, browser: Browser) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    page = context.new_page()
    log_in(page, service, "vic")
    response = page.goto(service.ui + PRIVATE_TOP)
    assert response is not None and response.status == 200
    frame = page.frame_locator("#vellum-replay")
    assert "Secret A" in frame.locator("body").inner_text()
    page.screenshot(path=str(ARTIFACTS / "private-in-frame.png"))
    cookies = context.cookies(service.replay + "/priv-a/")
    (grant,) = [c for c in cookies if c["name"] == "vellum_grant"]
    assert grant["httpOnly"] and grant["secure"] and grant["path"] == "/priv-a/"
    assert grant["sameSite"] == "None"
    # Archived script in the frame sees neither the grant nor the UI's session.
    inner = page.frame(name="vellum-replay")
    assert inner is not None
    assert "vellum" not in inner.evaluate("document.cookie")
    fetch = "url => fetch(url).then(r => r.text())"
    assert "Secret A" in inner.evaluate(fetch, PRIVATE_FRAMED)  # its own collection: yes
    # A page of another (public) collection, in the same browser, cannot read it.
    public = page.goto(f"{service.ui}/pub/20151229231410/{SITE}")
    assert public is not None and public.status == 200
    other_frame = page.frame(name="vellum-replay")
    assert other_frame is not None
    other_frame.wait_for_load_state()
    assert "Home 1" in other_frame.content()
    assert "Secret A" not in other_frame.evaluate(fetch, PRIVATE_FRAMED)
    nested = other_frame.evaluate(
        """url => new Promise(done => { const f = document.createElement('iframe');
             f.onload = () => done(f.contentDocument ? f.contentDocument.body.innerText : '');
             f.src = url; document.body.appendChild(f); })""",
        PRIVATE_FRAMED,
    )
    assert "Secret A" not in nested
    # The grant does not open B's page, nor does the session reach the replay origin.
    other = page.goto(service.replay + "/priv-b/20210101120000mp_/http://b.example.org/")
    assert other is not None and other.status == 404
    assert "Secret B" not in page.content()
    context.close()


def test_anonymous_browser_gets_404_on_the_replay_origin(
    service: Service, browser: Browser
) -> None:
    context = browser.new_context()
    page = context.new_page()
    for url in (service.replay + PRIVATE_FRAMED, service.ui + PRIVATE_TOP, service.ui + "/priv-a/"):
        response = page.goto(url)
        assert response is not None and response.status == 404, url
        assert "Secret" not in page.content()
    context.close()


def test_phone_width_logged_in(service: Service, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    log_in(page, service, "ada")  # the longest navigation: Admin, name, Account, Log out
    for name in ("home", "collection"):
        page.goto(service.ui + PORTAL_PAGES[name])
        page.screenshot(path=str(ARTIFACTS / f"phone-logged-in-{name}.png"), full_page=True)
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], (name, widths)
        assert page.get_by_role("button", name="Log out").is_visible()
    context.close()
