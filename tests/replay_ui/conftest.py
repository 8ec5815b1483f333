"""A small archive served as two origins (UI and replay) through in-process clients."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from tests.replay_ui.archive import Page, make_collection
from vellum.catalog import Catalog
from vellum.replay.app import create_app
from vellum.settings import Settings

UI = "http://localhost:8080"
REPLAY = "http://127.0.0.1:8081"
SITE = "http://site.example/"
T1 = datetime(2014, 3, 2, 10, 0, 0, tzinfo=UTC)
T2 = datetime(2014, 3, 20, 11, 30, 0, tzinfo=UTC)
T3 = datetime(2015, 7, 1, 8, 0, 0, tzinfo=UTC)
TS1, TS2, TS3 = "20140302100000", "20140320113000", "20150701080000"


def page_html(title: str, body: str) -> bytes:
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body>{body}</body></html>"
    ).encode()


@dataclass
class TwoOrigins:
    ui: TestClient
    replay: TestClient
    settings: Settings
    catalog: Catalog


@pytest.fixture(scope="module")
def two_origins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoOrigins]:
    base = tmp_path_factory.mktemp("replay-ui")
    settings = replace(Settings(data_dir=base / "data"), ui_origin=UI, replay_origin=REPLAY)
    catalog = Catalog(settings.catalog_path)
    pages = [
        Page(SITE, T1, page_html("Home one", '<a href="/about.html">About</a>')),
        Page(SITE, T2, page_html("Home two", '<a href="/about.html">About</a>')),
        Page(SITE, T3, page_html("Home three", '<a href="/about.html">About</a>')),
        Page(SITE + "about.html", T2, page_html("About", "<p>About us</p>")),
        Page(SITE + "data.json", T2, b'{"a": 1}', content_type="application/json"),
    ]
    make_collection(settings, catalog, "web", pages, title="Web <sites> & more")
    make_collection(
        settings,
        catalog,
        "hidden",
        [Page(SITE, T1, page_html("Secret", "<p>secret</p>"))],
        organization="Other Organization",
        acronym="OTH",
        title="Hidden",
        public=False,
    )
    app = create_app(settings, catalog)
    with (
        TestClient(app, base_url=UI, follow_redirects=False) as ui,
        TestClient(app, base_url=REPLAY, follow_redirects=False) as replay_client,
    ):
        yield TwoOrigins(ui, replay_client, settings, catalog)
    catalog.close()
