"""Security of framed replay over HTTP: escaping, open redirects, path traversal."""

from __future__ import annotations

import http.client
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.replay_ui.archive import Page, make_collection
from tests.replay_ui.conftest import REPLAY, SITE, TS1, UI, TwoOrigins
from tests.replay_ui.live import serving
from vellum.catalog import Catalog
from vellum.errors import InvalidInput, VellumError
from vellum.replay.app import create_app
from vellum.replay.frame import Origins, check_origin
from vellum.replay.frame_insert import frame_insert, script_json
from vellum.replay.server import bind_pair, with_origins
from vellum.settings import Settings

EVIL_ORG = 'Evil "Org" </script><script>alert("org")</script>'
EVIL_TITLE = "<img src=x onerror=alert('title')>"
EVIL_URL = "http://evil.example/p?a=\"'><script>alert(1)</script>&b=</script>"
WHEN = datetime(2016, 5, 4, 3, 2, 1, tzinfo=UTC)
EVIL_TS = "20160504030201"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    base = tmp_path_factory.mktemp("hostile")
    settings = replace(Settings(data_dir=base / "data"), ui_origin=UI, replay_origin=REPLAY)
    catalog = Catalog(settings.catalog_path)
    body = b"<html><head><title></title><script>alert(1)</script></head><body>x</body></html>"
    make_collection(
        settings,
        catalog,
        "evil",
        [
            Page(
                EVIL_URL,
                WHEN,
                body,
                headers=[("X-Evil", "</script><script>alert('header')</script>")],
            )
        ],
        organization=EVIL_ORG,
        acronym="EVIL",
        title=EVIL_TITLE,
    )
    with TestClient(create_app(settings, catalog), base_url=UI, follow_redirects=False) as c:
        yield c
    catalog.close()


def test_archived_strings_are_escaped_on_the_top_page(hostile: TestClient) -> None:
    response = hostile.get(f"/evil/{EVIL_TS}/{EVIL_URL}")
    assert response.status_code == 200, response.text[:300]
    html = response.text
    # The only script elements are our own (CSP forbids inline script anyway).
    assert re.findall(r"<script\b[^>]*>", html) == ['<script src="/static/banner.js" defer>']
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(&#39;title&#39;)&gt;" in html
    assert "Evil &#34;Org&#34; &lt;/script&gt;" in html
    # The URL is percent-encoded where it lands in an href or a src.
    for attr in re.findall(r'(?:href|src)="([^"]*)"', html):
        assert "<" not in attr and '"' not in attr and "'" not in attr, attr
    banner = hostile.get(
        "/api/replay/banner", params={"collection": "evil", "timestamp": EVIL_TS, "url": EVIL_URL}
    )
    assert banner.status_code == 200
    assert "<script" not in banner.text and "<img src=x" not in banner.text


def test_the_head_insert_cannot_be_broken_out_of() -> None:
    insert = frame_insert(
        Origins(UI, REPLAY), "evil", EVIL_URL + "\u2028</SCRIPT>", EVIL_TS, EVIL_TS, "mp_"
    )
    script = insert[insert.index('<script data-vellum="1">') :]
    assert script.lower().count("</script") == 1  # only the element's own end tag
    assert "<!--" not in script and "\u2028" not in script
    assert script_json("</script><!--&") == '"\\u003c/script\\u003e\\u003c!--\\u0026"'


OPEN_REDIRECT_PATHS = [
    "//evil.example/",
    "/\\evil.example/",
    "/%2F%2Fevil.example/",
    "/web//evil.example/",
    f"/web/{TS1}//evil.example/",
    f"/web/{TS1}mp_///evil.example/",
    f"/web/{TS1}/http://evil.example/",
    "/web/http://evil.example/",
    "/api/replay/banner?collection=web&timestamp=20140302100000&url=//evil.example/",
    "/static//evil.example/",
    "/web/*/http://evil.example/",
]


def _safe_location(location: str) -> bool:
    if location.startswith((UI + "/", REPLAY + "/")):
        return True
    return location.startswith("/") and not location.startswith(("//", "/\\"))


@pytest.mark.parametrize("path", OPEN_REDIRECT_PATHS)
def test_no_open_redirect(two_origins: TwoOrigins, path: str) -> None:
    for client in (two_origins.ui, two_origins.replay):
        for dest in ("document", "iframe", "empty"):
            response = client.get(path, headers={"Sec-Fetch-Dest": dest})
            location = response.headers.get("location")
            if location is not None:
                assert _safe_location(location), (client.base_url, path, location)
    # A rescue by Referer stays inside the collection the referer was in.
    rescued = two_origins.replay.get(
        "//evil.example/x",
        headers={"Referer": f"{REPLAY}/web/{TS1}mp_/{SITE}", "Sec-Fetch-Dest": "iframe"},
    )
    location = rescued.headers.get("location", "")
    assert not location or location.startswith("/web/"), location


TRAVERSALS = [
    "/static/../app.py",
    "/static/..%2fapp.py",
    "/static/%2e%2e/app.py",
    "/static/%2e%2e%2fapp.py",
    "/static/vendor/wombat/../../../app.py",
    "/static/vendor/wombat/..%2f..%2f..%2fapp.py",
    "/static/banner.css/../../settings.py",
    "/static/..%5capp.py",
    "/static/%252e%252e/app.py",
]


def test_static_path_traversal_fails(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    catalog = Catalog(settings.catalog_path)
    try:
        with serving(settings, catalog) as framed:
            assert framed.ui_origin and framed.replay_origin
            for origin in (framed.ui_origin, framed.replay_origin):
                host, port = origin.rsplit("//", 1)[1].rsplit(":", 1)
                for path in TRAVERSALS:
                    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)
                    try:
                        conn.putrequest("GET", path, skip_host=True)
                        conn.putheader("Host", f"{host}:{port}")
                        conn.endheaders()
                        response = conn.getresponse()
                        body = response.read()
                    finally:
                        conn.close()
                    assert response.status in (301, 302, 400, 404), (origin, path, response.status)
                    assert b"def create_app" not in body and b"class Settings" not in body
                    location = response.getheader("Location") or ""
                    assert not location or _safe_location_for(location, framed), location
    finally:
        catalog.close()


def _safe_location_for(location: str, framed: Settings) -> bool:
    ours = (f"{framed.ui_origin}/", f"{framed.replay_origin}/")
    return location.startswith(ours) or (location.startswith("/") and not location.startswith("//"))


def test_origins_must_differ_by_host_name(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    ui, replay_sock = bind_pair("127.0.0.1", 0, 0)
    try:
        framed = with_origins(settings, "127.0.0.1", ui, replay_sock)
        assert framed.ui_origin and framed.ui_origin.startswith("http://localhost:")
        assert framed.replay_origin and framed.replay_origin.startswith("http://127.0.0.1:")
        with pytest.raises(InvalidInput, match="share a host name"):
            with_origins(settings, "127.0.0.1", ui, replay_sock, replay_origin="http://LOCALHOST:9")
        for bad in ("javascript:alert(1)", "http://x/path", "ftp://x", "http://u@x", "x"):
            with pytest.raises(InvalidInput):
                check_origin(bad)
    finally:
        ui.close()
        replay_sock.close()


def test_a_taken_replay_port_is_a_one_line_error() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(VellumError, match=f"port {port} .*--replay-port"):
            bind_pair("127.0.0.1", 0, port)
