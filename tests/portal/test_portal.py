"""The portal pages over HTTP: who sees what, escaping, figures, URL box, calendar, nav."""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from starlette.testclient import TestClient

from tests.auth.conftest import csrf_of, log_in
from tests.portal.conftest import (
    EVIL,
    PASSWORD,
    PUBLIC_PAGES,
    SITE,
    PortalArchive,
)
from vellum.index.cdxj import Capture
from vellum.replay.app import create_app
from vellum.urls.surt import surt
from vellum.web.details import DC_ELEMENTS
from vellum.web.portal import CALENDAR_ALL, Portal


@pytest.fixture(scope="module")
def app(archive: PortalArchive) -> object:
    return create_app(archive.settings, archive.catalog)


@pytest.fixture
def client(app: object) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as c:  # type: ignore[arg-type]
        yield c


def as_user(client: TestClient, name: str) -> TestClient:
    assert log_in(client, name, PASSWORD).status_code == 303
    return client


def slugs_on_home(client: TestClient) -> set[str]:
    page = client.get("/")
    assert page.status_code == 200
    return set(re.findall(r'<h2><a href="/([a-z0-9-]+)/"', page.text))


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (None, {"pub"}),
        ("vic", {"pub", "priv-a"}),  # viewer of A
        ("cur", {"pub", "priv-b"}),  # curator of B
        ("ada", {"pub", "priv-a", "priv-b"}),  # site admin
    ],
)
def test_home_lists_only_what_the_visitor_may_see(
    client: TestClient, user: str | None, expected: set[str]
) -> None:
    if user:
        as_user(client, user)
    assert slugs_on_home(client) == expected
    text = client.get("/").text
    for hidden in {"priv-a", "priv-b"} - expected:
        assert hidden not in text
        assert f"About {hidden}" not in text


def test_private_collection_page_is_404_for_others(client: TestClient) -> None:
    missing = client.get("/no-such/")
    hidden = client.get("/priv-a/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.text == missing.text
    as_user(client, "cur")  # curator of B only
    assert client.get("/priv-a/").status_code == 404
    page = client.get("/priv-b/")
    assert page.status_code == 200
    assert "Only members of Org B can see this collection." in page.text


def visible_text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def assert_escaped(page: str) -> None:
    assert "<script" not in page.lower()
    assert "<b onmouseover" not in page
    assert EVIL in html.unescape(page)


def test_every_text_is_escaped_on_every_page(client: TestClient) -> None:
    as_user(client, "ada")
    pages = {
        "/": client.get("/"),
        "/pub/": client.get("/pub/"),
        "/priv-a/": client.get("/priv-a/"),
        "calendar": client.get(f"/pub/*/{SITE}"),
    }
    for where, response in pages.items():
        assert response.status_code == 200, where
        assert_escaped(response.text)
    home, pub = visible_text(pages["/"].text), visible_text(pages["/pub/"].text)
    for element in DC_ELEMENTS:
        # Every Dublin Core element, with its script shown as text, on both pages.
        assert f"{element}-pub {EVIL}" in home, element
        assert f"{element}-pub {EVIL}" in pub, element
        assert element.capitalize() in pub
    assert f"second subject {EVIL}" in pub
    assert f"About pub {EVIL}" in pub
    assert f"Pub {EVIL}" in pub
    assert f"Org A {EVIL}" in home
    assert f"mailto:a@example.org {EVIL}" in pub
    assert "private notes" not in pub  # seed notes are for curators


def date_words(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def test_counts_and_dates(client: TestClient) -> None:
    first = min(p.when for p in PUBLIC_PAGES)
    last = max(p.when for p in PUBLIC_PAGES)
    urls = {p.url for p in PUBLIC_PAGES}
    pages = {
        p.url
        for p in PUBLIC_PAGES
        if p.content_type.startswith("text/html") and p.status.startswith("2")
    }
    expected = (
        f"{len(PUBLIC_PAGES)} captures of {len(urls)} URLs ({len(pages)} pages), "
        f"captured from {date_words(first)} to {date_words(last)}"
    )
    assert expected in visible_text(client.get("/").text)
    page = client.get("/pub/").text
    assert expected in visible_text(page)
    assert f"Pages captured ({len(pages)})" in page
    # Each page links its latest capture and its calendar with its number of captures.
    for url in pages:
        captures = sorted(p.when for p in PUBLIC_PAGES if p.url == url)
        latest = captures[-1].strftime("%Y%m%d%H%M%S")
        assert f'href="/pub/{latest}/{url}"' in page
        assert f'aria-label="All {len(captures)} captures of {url}"' in page


def test_seeds_active_only_with_calendar_links(client: TestClient) -> None:
    page = client.get("/pub/").text
    assert "Seeds (2)" in page
    assert f'<a href="/pub/*/{SITE}">{SITE}</a>' in page
    assert f"{SITE}about.html?x=&lt;i&gt;</a>" in page
    assert f"{SITE}paused/" not in page


def test_url_box_goes_to_the_calendar(client: TestClient) -> None:
    page = client.get("/pub/").text
    assert '<label id="url-box-label" for="url-box">See all versions of this URL</label>' in page
    found = client.get("/pub/", params={"url": "www.example.org/about.html"})
    assert found.status_code == 303
    assert found.headers["location"] == "/pub/*/http://www.example.org/about.html"
    calendar = client.get(found.headers["location"])
    assert calendar.status_code == 200
    assert "1 capture in the" in visible_text(calendar.text)


@pytest.mark.parametrize(
    ("asked", "reason"),
    [
        ("", "Enter the address of a page"),
        ("   ", "Enter the address of a page"),
        ("http://x.org/" + "a" * 3000, "at most 2048 characters"),
        ("http://x.org/a b", "cannot contain spaces"),
        ("ftp://x.org/", "Only http and https"),
        ("http://[zz::1/", "not a valid web address"),
        ("http://", "not a valid web address"),
    ],
)
def test_url_box_bad_input(client: TestClient, asked: str, reason: str) -> None:
    page = client.get("/pub/", params={"url": asked})
    assert page.status_code == 400
    assert reason in page.text
    assert 'aria-invalid="true"' in page.text
    assert "Seeds (2)" in page.text  # the page itself is still all there


def test_search_box_searches_this_collection(client: TestClient) -> None:
    page = client.get("/pub/").text
    form = page[page.index('<form class="box" action="/search"') :]
    form = form[: form.index("</form>")]
    assert '<input type="hidden" name="collection" value="pub">' in form
    assert '<label id="search-box-label" for="search-box">' in form
    assert 'id="search-box" type="search" name="q"' in form


def test_calendar_by_year_month_and_day(client: TestClient) -> None:
    page = client.get(f"/pub/*/{SITE}")
    assert page.status_code == 200
    captures = sorted(p.when for p in PUBLIC_PAGES if p.url == SITE)
    text = page.text
    assert f"{len(captures)} captures in the" in visible_text(text)
    years = sorted({c.year for c in captures}, reverse=True)
    # Years newest first, each a heading, with its months.
    positions = [text.index(f'<h2 id="y{y}">') for y in years]
    assert positions == sorted(positions)
    for c in captures:
        ts = c.strftime("%Y%m%d%H%M%S")
        assert f'<h3 id="y{c.year}-m{c.month:02d}">{c:%B %Y}' in text
        # every capture is linked in its month's list, with its time
        assert f'<a href="/pub/{ts}/{SITE}"><time datetime="{c:%Y-%m-%dT%H:%M:%S}Z">' in text
    # A day with two captures links its first and says two.
    day = [c for c in captures if c.strftime("%Y%m%d") == "20151229"]
    assert len(day) == 2
    assert 'aria-label="29 December 2015: 2 captures"' in text
    first = day[0].strftime("%Y%m%d%H%M%S")
    assert re.search(rf'<a class="day" href="/pub/{first}/{re.escape(SITE)}"[^>]*>29<span', text)
    # the image at another URL is not on this page
    assert "logo.png" not in text


def test_calendar_of_a_url_never_archived(client: TestClient) -> None:
    page = client.get("/pub/*/http://never.example.org/")
    assert page.status_code == 200
    assert "This URL has not been archived in this collection." in page.text


def test_timemap_unchanged(client: TestClient) -> None:
    timemap = client.get(f"/pub/timemap/link/{SITE}")
    assert timemap.status_code == 200
    assert timemap.text.count('rel="memento"') + timemap.text.count('memento"') >= 1


def test_navigation_anonymous_and_logged_in(client: TestClient) -> None:
    anonymous = client.get("/pub/").text
    assert '<a href="/login">Log in</a>' in anonymous
    assert "Log out" not in anonymous and "/admin/" not in anonymous
    as_user(client, "vic")  # a viewer: no Admin link
    page = client.get("/pub/").text
    assert "Logged in as <strong>vic</strong>" in page
    assert '<a href="/account">Account</a>' in page
    assert "/admin/" not in page and "Log in<" not in page
    token = csrf_of(page[page.index('action="/logout"') - 40 :])
    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303
    assert '<a href="/login">Log in</a>' in client.get("/").text


@pytest.mark.parametrize("user", ["ada", "cur"])
def test_admin_link_for_admins_and_curators(client: TestClient, user: str) -> None:
    as_user(client, user)
    for path in ("/", "/pub/", f"/pub/*/{SITE}", "/search"):
        assert '<a href="/admin/">Admin</a>' in client.get(path).text, path


def test_skip_link_and_headings(client: TestClient) -> None:
    for path in ("/", "/pub/", f"/pub/*/{SITE}"):
        page = client.get(path).text
        assert '<a class="skip" href="#main">Skip to content</a>' in page
        assert '<main id="main"' in page
        levels = [int(n) for n in re.findall(r"<h([1-6])[ >]", page)]
        assert levels[0] == 1 and levels.count(1) == 1, path
        for before, after in itertools.pairwise(levels):
            assert after <= before + 1, (path, levels)  # no level skipped


def test_calendar_of_one_year(client: TestClient) -> None:
    page = client.get(f"/pub/2015*/{SITE}")
    assert page.status_code == 200
    text = page.text
    shown = [p.when for p in PUBLIC_PAGES if p.url == SITE and p.when.year == 2015]
    hidden = [p.when for p in PUBLIC_PAGES if p.url == SITE and p.when.year != 2015]
    assert shown and hidden
    for c in shown:
        assert f'href="/pub/{c:%Y%m%d%H%M%S}/{SITE}"' in text
    for c in hidden:
        assert f'href="/pub/{c:%Y%m%d%H%M%S}/{SITE}"' not in text
    assert f'<a href="/pub/2016*/{SITE}">2016</a>' in text  # the other year, a link away
    assert '<a href="#y2015" aria-current="true">2015</a>' in text
    assert "The captures of 2015" in text
    # A year without captures: the whole calendar.
    assert 'href="#y2016"' in client.get(f"/pub/2003*/{SITE}").text


def test_calendar_of_a_much_captured_url_shows_its_latest_year(archive: PortalArchive) -> None:
    portal = Portal(archive.settings, archive.catalog, lambda slug: None)  # type: ignore[arg-type,return-value]
    collection = archive.catalog.get_collection("pub")
    url = "http://hot.example.org/"
    key = surt(url)
    stamps = [f"2019{m:02d}{d:02d}120000" for m in range(1, 13) for d in range(1, 29)]
    stamps += [
        f"2020{m:02d}{d:02d}{h:02d}0000"
        for m in range(1, 4)
        for d in range(1, 29)
        for h in range(8)
    ]
    assert len(stamps) > CALENDAR_ALL
    captures = [Capture(key, ts, url, "text/html", "200", "D", 1, 0, "a") for ts in stamps]
    text = bytes(portal.calendar(collection, url, captures).body).decode()
    assert f"{len(stamps)} captures in the" in text
    assert text.count('<li><a href="/pub/2020') == sum(s.startswith("2020") for s in stamps)
    assert '<li><a href="/pub/201901' not in text
    assert f'<a href="/pub/2019*/{url}">2019</a>' in text
