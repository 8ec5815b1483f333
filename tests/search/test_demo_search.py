"""The demo collection is searchable: "maires francophones" finds the AIMF page first."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from starlette.testclient import TestClient

from tests.conftest import FROZEN
from vellum.catalog import Catalog
from vellum.clock import frozen_clock
from vellum.demo.runner import capture_demo
from vellum.replay.app import create_app
from vellum.settings import Settings

pytestmark = pytest.mark.slow


def test_demo_query_finds_the_aimf_page_first(settings: Settings, catalog: Catalog) -> None:
    capture = capture_demo(
        settings, catalog, Console(file=io.StringIO()), clock=frozen_clock(FROZEN)
    )
    with TestClient(create_app(settings, catalog)) as client:
        data = client.get("/api/search", params={"q": "maires francophones"}).json()
        first = data["hits"][0]
        assert first["url"] == capture.aimf_url
        assert first["replay"] == capture.aimf_path
        assert client.get(first["replay"]).status_code in (200, 302)
        page = client.get("/search", params={"q": "maires francophones"})
        assert page.text.index(capture.aimf_url) < page.text.index("</ol>")
