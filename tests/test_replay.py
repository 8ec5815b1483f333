"""Replay over HTTP: listings, closest capture, redirects, rewriting, the banner."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.conftest import FROZEN
from vellum.capture.crawler import Crawler
from vellum.catalog import Catalog
from vellum.clock import frozen_clock
from vellum.demo.site_server import DemoSite
from vellum.replay.app import create_app
from vellum.settings import Settings

TS = "20151229231410"


@dataclass
class Archive:
    client: TestClient
    site: str  # the demo site's URL when it was crawled
    settings: Settings
    catalog: Catalog


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("replay") / "data")
    catalog = Catalog(settings.catalog_path)
    catalog.create_organization(
        "United Nations Educational, Scientific and Cultural Organization (UNESCO)", "UNESCO"
    )
    catalog.create_collection("unesco", "UNESCO", "UNESCO", "Partner <directory> & more")
    counter = itertools.count()
    with DemoSite() as site:
        Crawler(
            settings,
            catalog,
            clock=frozen_clock(FROZEN),
            record_id=lambda: f"<urn:uuid:00000000-0000-4000-8000-{next(counter):012d}>",
        ).crawl("unesco", [site.url], 3)
        site_url = site.url
    with TestClient(create_app(settings, catalog), follow_redirects=False) as client:
        yield Archive(client, site_url, settings, catalog)
    catalog.close()


def test_home_lists_collections(archive: Archive) -> None:
    page = archive.client.get("/")
    assert page.status_code == 200
    assert 'href="/unesco/"' in page.text
    assert "United Nations Educational, Scientific and Cultural Organization (UNESCO)" in page.text


def test_collection_page(archive: Archive) -> None:
    page = archive.client.get("/unesco/")
    assert page.status_code == 200
    assert "<h1>UNESCO</h1>" in page.text
    assert "Partner &lt;directory&gt; &amp; more" in page.text  # escaped
    assert f"/unesco/{TS}/{archive.site}partners/aimf.html" in page.text
    assert archive.client.get("/unesco").headers["location"] == "/unesco/"


def test_exact_capture_has_banner_and_rewritten_links(archive: Archive) -> None:
    url = f"/unesco/{TS}/{archive.site}partners/aimf.html"
    # The top page (UI origin) holds the banner; the archived page is its frame (mp_).
    top = archive.client.get(url)
    assert top.status_code == 200
    banner = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", top.text))
    assert (
        "You are viewing an archived web page, collected at the request of United Nations "
        "Educational, Scientific and Cultural Organization (UNESCO) using Vellum. This page was "
        "captured on 23:14:10 Dec 29, 2015, and is part of the UNESCO collection. The information "
        "on this web page may be out of date. See All versions of this archived page."
    ) in banner
    assert f'href="/unesco/*/{archive.site}partners/aimf.html"' in top.text
    page = archive.client.get(f"/unesco/{TS}mp_/{archive.site}partners/aimf.html")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["memento-datetime"] == "Tue, 29 Dec 2015 23:14:10 GMT"
    assert (
        "X-Archive-Orig-X-Demo-Server" in page.headers
        or "x-archive-orig-x-demo-server" in page.headers
    )
    text = page.text
    assert f"/unesco/{TS}cs_/{archive.site}css/portal.css" in text
    assert f"/unesco/{TS}im_/{archive.site}img/logo.png" in text
    assert f'href="/unesco/{TS}/{archive.site}partners/index.html"' in text
    # No reference to the live site is left in a fetchable attribute.
    for attr in re.findall(r'(?:src|href)="([^"]*)"', text):
        assert not attr.startswith(archive.site), attr


def test_partial_timestamp_and_latest_redirect_to_exact(archive: Archive) -> None:
    target = f"{archive.site}partners/aimf.html"
    for asked in (f"/unesco/2015/{target}", f"/unesco/{target}", f"/unesco/2099/{target}"):
        response = archive.client.get(asked)
        assert response.status_code == 302, asked
        assert response.headers["location"] == f"/unesco/{TS}/{target}"


def test_stylesheet_rewritten_and_image_verbatim(archive: Archive) -> None:
    css = archive.client.get(f"/unesco/{TS}cs_/{archive.site}css/portal.css")
    assert css.status_code == 200
    assert "content-encoding" not in css.headers
    assert f"/unesco/{TS}cs_/{archive.site}css/fonts.css" in css.text
    assert f"/unesco/{TS}im_/{archive.site}img/header-bg.png" in css.text
    logo = archive.client.get(f"/unesco/{TS}im_/{archive.site}img/logo.png")
    site_logo = Path(__file__).parent.parent / "src/vellum/demo/site/img/logo.png"
    assert logo.content == site_logo.read_bytes()
    assert logo.headers["content-type"] == "image/png"


def test_raw_mode_returns_stored_bytes(archive: Archive) -> None:
    raw = archive.client.get(f"/unesco/{TS}id_/{archive.site}css/portal.css")
    assert raw.headers["content-encoding"] == "gzip"
    site_css = Path(__file__).parent.parent / "src/vellum/demo/site/css/portal.css"
    assert raw.content == site_css.read_bytes()  # httpx undoes the gzip the server kept


def test_all_versions(archive: Archive) -> None:
    page = archive.client.get(f"/unesco/*/{archive.site}partners/aimf.html")
    assert page.status_code == 200
    assert "All versions of this archived page" in page.text
    assert f'href="/unesco/{TS}/{archive.site}partners/aimf.html"' in page.text
    assert "23:14:10 Dec 29, 2015" in page.text


def test_not_found(archive: Archive) -> None:
    assert archive.client.get("/nope/").status_code == 404
    assert archive.client.get(f"/nope/{TS}/http://x.org/").status_code == 404
    missing = archive.client.get(f"/unesco/{TS}/http://never.example.org/")
    assert missing.status_code == 404
    assert "has not been archived" in missing.text
    robots_blocked = archive.client.get(f"/unesco/{TS}/{archive.site}private/secret.html")
    assert robots_blocked.status_code == 404


def test_banner_escapes_archived_strings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    catalog = Catalog(settings.catalog_path)
    catalog.create_organization('<script>alert("o")</script>', "EVIL")
    catalog.create_collection("c", "EVIL", "<img src=x onerror=alert(1)>")
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text("<html><body><p>hi</p></body></html>")
    with DemoSite(root=root) as site:
        Crawler(settings, catalog, clock=frozen_clock(FROZEN)).crawl("c", [site.url], 0)
        url = site.url
    with TestClient(create_app(settings, catalog)) as client:
        text = client.get(f"/c/{TS}/{url}").text
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(" in text
    assert "<img src=x" not in text
    catalog.close()


def test_cdx_api(archive: Archive) -> None:
    aimf = f"{archive.site}partners/aimf.html"
    exact = archive.client.get("/unesco/cdx", params={"url": aimf})
    assert exact.status_code == 200
    (line,) = exact.text.splitlines()
    assert line.split(" ", 2)[1] == TS and f'"url": "{aimf}"' in line
    listing = archive.client.get(
        "/unesco/cdx",
        params={"url": f"{archive.site}partners/*", "output": "json", "fl": "url,status"},
    )
    rows = [json.loads(x) for x in listing.text.splitlines()]
    assert {"url": aimf, "status": "200"} in rows
    assert all(r["url"].startswith(f"{archive.site}partners/") for r in rows)
    assert len(rows) >= 8 + 8  # partner pages and their print versions
    link = archive.client.get("/unesco/cdx", params={"url": aimf, "output": "link"})
    assert link.text.startswith(f'<http://testserver/unesco/{TS}/{aimf}>; rel="memento"')
    html_only = archive.client.get(
        "/unesco/cdx",
        params={"url": archive.site, "matchType": "host", "filter": "=mime:text/css"},
    )
    assert html_only.text and all('"mime": "text/css"' in x for x in html_only.text.splitlines())
    bad = archive.client.get("/unesco/cdx", params={"url": aimf, "matchType": "fuzzy"})
    assert bad.status_code == 400 and "matchType must be one of" in bad.text
    assert archive.client.get("/nope/cdx", params={"url": aimf}).status_code == 404
