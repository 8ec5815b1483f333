"""The two origins of framed replay over HTTP: what each serves, headers, the banner."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from starlette.testclient import TestClient

from tests.replay_ui.archive import Page, make_collection
from tests.replay_ui.conftest import REPLAY, SITE, T1, TS1, TS2, TS3, UI, TwoOrigins, page_html
from vellum.catalog import Catalog
from vellum.replay.app import create_app
from vellum.replay.frame import SANDBOX
from vellum.settings import Settings

BANNER = (
    "You are viewing an archived web page, collected at the request of Example Organization "
    "using Vellum. This page was captured on 11:30:00 Mar 20, 2014, and is part of the "
    "Web <sites> & more collection. The information on this web page may be out of date. "
    "See All versions of this archived page."
)


def text_of(html: str, tag: str = "") -> str:
    """The text of `html`, each tag replaced by `tag`."""
    text = re.sub(r"<[^>]+>", tag, html)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"\s+", " ", text).strip()


def test_top_page_has_banner_and_frame_from_replay_origin(two_origins: TwoOrigins) -> None:
    response = two_origins.ui.get(f"/web/{TS2}/{SITE}")
    assert response.status_code == 200
    html = response.text
    banner = html[html.index('<div class="vellum-banner-text">') :]
    assert text_of(banner).startswith(BANNER)
    frame = re.search(r'<iframe id="vellum-replay"[^>]*>', html)
    assert frame is not None
    assert f'src="{REPLAY}/web/{TS2}mp_/{SITE}"' in frame.group(0)
    assert f'sandbox="{SANDBOX}"' in frame.group(0)
    assert "allow-top-navigation" not in SANDBOX
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert f"frame-src {REPLAY}" in csp
    assert response.headers["x-frame-options"] == "DENY"
    # Nothing archived is on the top page: the page's own text is only in the frame.
    assert "About" not in text_of(html.replace(banner, ""))


def test_prev_next_and_calendar(two_origins: TwoOrigins) -> None:
    html = two_origins.ui.get(f"/web/{TS2}/{SITE}").text
    assert f'href="/web/{TS1}/{SITE}"' in html  # previous
    assert f'href="/web/{TS3}/{SITE}"' in html  # next
    assert 'href="/web/"' in html  # the collection
    calendar = text_of(html[html.index('<details class="vellum-calendar">') :], " ")
    assert calendar.startswith("Calendar: 3 captures of this page")
    assert "2015 (1) Jan Feb Mar Apr May Jun Jul 1 Aug" in calendar
    assert "2014 (2) Jan Feb Mar 2 Apr" in calendar
    first = two_origins.ui.get(f"/web/{TS1}/{SITE}").text
    assert "No earlier capture" in first and f'href="/web/{TS2}/{SITE}"' in first
    last = two_origins.ui.get(f"/web/{TS3}/{SITE}").text
    assert "No later capture" in last


def test_inexact_timestamp_redirects_to_exact_top_page(two_origins: TwoOrigins) -> None:
    response = two_origins.ui.get(f"/web/2015/{SITE}")
    assert response.status_code == 302
    assert response.headers["location"] == f"/web/{TS3}/{SITE}"


def test_framed_content_loads_wombat_for_our_scheme(two_origins: TwoOrigins) -> None:
    response = two_origins.replay.get(f"/web/{TS2}mp_/{SITE}")
    assert response.status_code == 200
    html = response.text
    assert '<script src="/static/vendor/wombat/wombat.js"' in html
    assert f'"top_host":"{UI}"' in html
    assert f'"prefix":"{REPLAY}/web/"' in html
    assert f'"top_url":"{UI}/web/{TS2}/{SITE}"' in html
    assert '"mod":"mp_"' in html
    assert "vellum-banner" not in html
    assert html.index("wombat.js") < html.index("<title>")


def test_banner_fragment(two_origins: TwoOrigins) -> None:
    ok = two_origins.ui.get(
        "/api/replay/banner", params={"collection": "web", "timestamp": TS3, "url": SITE}
    )
    assert ok.status_code == 200
    assert "15:00" not in ok.text and "08:00:00 Jul 1, 2015" in ok.text
    assert "frame-ancestors 'none'" in ok.headers["content-security-policy"]
    bad = [
        ({"collection": "web", "timestamp": "2015", "url": SITE}, 400),
        ({"collection": "web", "timestamp": TS3, "url": "javascript:alert(1)"}, 400),
        ({"collection": "web", "timestamp": TS3}, 400),
        ({"collection": "web", "timestamp": "20990101000000", "url": SITE}, 404),
        ({"collection": "nope", "timestamp": TS3, "url": SITE}, 404),
        ({"collection": "hidden", "timestamp": TS1, "url": SITE}, 404),
    ]
    for params, status in bad:
        response = two_origins.ui.get("/api/replay/banner", params=params)
        assert response.status_code == status, (params, response.text)
        assert response.text.strip(), params  # a reason is given


def test_private_collection_top_page_is_404(two_origins: TwoOrigins) -> None:
    assert two_origins.ui.get(f"/hidden/{TS1}/{SITE}").status_code == 404
    # The replay origin treats it as no collection at all: off to the UI, which says 404.
    hidden = two_origins.replay.get(f"/hidden/{TS1}mp_/{SITE}")
    missing = two_origins.replay.get(f"/missing/{TS1}mp_/{SITE}")
    assert hidden.status_code == missing.status_code
    if hidden.status_code == 302:
        location = hidden.headers["location"]
        assert location.replace("hidden", "missing") == missing.headers["location"]
        hidden = two_origins.ui.get(location.removeprefix(UI))
    assert hidden.status_code == 404


def test_ui_origin_never_serves_archived_bytes(two_origins: TwoOrigins) -> None:
    for modifier in ("mp_", "id_", "if_", "js_", "im_"):
        response = two_origins.ui.get(f"/web/{TS2}{modifier}/{SITE}data.json")
        assert response.status_code == 302, modifier
        assert response.headers["location"] == f"{REPLAY}/web/{TS2}{modifier}/{SITE}data.json"
    timegate = two_origins.ui.get(f"/web/{SITE}data.json")
    assert timegate.status_code == 302
    assert '"a"' not in timegate.text


def test_replay_origin_serves_no_ui_pages(two_origins: TwoOrigins) -> None:
    for path in ("/", "/web/", f"/web/*/{SITE}", "/web/cdx?url=x", "/api/replay/banner"):
        response = two_origins.replay.get(path)
        assert response.status_code == 302, path
        assert response.headers["location"] == UI + path
        assert "set-cookie" not in response.headers


def test_replay_origin_sends_page_urls_to_the_frame_or_the_top(two_origins: TwoOrigins) -> None:
    path = f"/web/{TS2}/{SITE}about.html"
    top = two_origins.replay.get(path, headers={"Sec-Fetch-Dest": "document"})
    assert top.headers["location"] == UI + path
    framed = two_origins.replay.get(path, headers={"Sec-Fetch-Dest": "iframe"})
    assert framed.status_code == 307
    assert framed.headers["location"] == f"/web/{TS2}mp_/{SITE}about.html"


def test_requests_that_escaped_rewriting_come_back_by_referer(two_origins: TwoOrigins) -> None:
    referer = f"{REPLAY}/web/{TS2}mp_/{SITE}"
    page = two_origins.replay.get(
        "/about.html", headers={"Referer": referer, "Sec-Fetch-Dest": "iframe"}
    )
    assert page.status_code == 307
    assert page.headers["location"] == f"/web/{TS2}mp_/{SITE}about.html"
    data = two_origins.replay.get(
        "/data.json?x=1", headers={"Referer": referer, "Sec-Fetch-Dest": "empty"}
    )
    assert data.headers["location"] == f"/web/{TS2}id_/{SITE}data.json?x=1"
    # A referer from elsewhere rescues nothing.
    stray = two_origins.replay.get(
        "/about.html",
        headers={"Referer": "http://evil.example/web/2014mp_/x", "Sec-Fetch-Dest": "iframe"},
    )
    assert stray.status_code == 404


def test_ui_pages_on_the_replay_host_go_to_the_ui_origin(two_origins: TwoOrigins) -> None:
    # Same host name as replay, other port: cookies would be shared with archived script.
    response = two_origins.ui.get("/web/", headers={"Host": "127.0.0.1:8080"})
    assert response.status_code == 302
    assert response.headers["location"] == UI + "/web/"


def test_every_ui_answer_forbids_framing(two_origins: TwoOrigins) -> None:
    for path in ("/", "/web/", f"/web/*/{SITE}", "/nope/"):
        response = two_origins.ui.get(path)
        assert response.headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path


def test_never_captured_url_gets_the_not_found_page_on_the_ui(two_origins: TwoOrigins) -> None:
    response = two_origins.ui.get(f"/web/{TS2}/http://never.example/page")
    assert response.status_code == 404
    assert "Not in this archive" in response.text
    assert "<iframe" not in response.text  # a page of the service, not a frame
    assert response.headers["x-frame-options"] == "DENY"


def test_a_revisit_is_a_version_with_its_own_top_page(tmp_path: Path) -> None:
    settings = replace(Settings(data_dir=tmp_path / "data"), ui_origin=UI, replay_origin=REPLAY)
    catalog = Catalog(settings.catalog_path)
    body = page_html("Same", "<p>unchanged</p>")
    later = datetime(2014, 9, 1, tzinfo=UTC)
    make_collection(
        settings,
        catalog,
        "re",
        [Page(SITE, T1, body), Page(SITE, later, body, revisit_of=T1)],
    )
    with TestClient(create_app(settings, catalog), base_url=UI, follow_redirects=False) as ui:
        top = ui.get(f"/re/20140901000000/{SITE}")
        assert top.status_code == 200, top.headers.get("location")
        assert "Calendar: 2 captures of this page" in top.text
        assert f'href="/re/{TS1}/{SITE}"' in top.text  # previous: the original
    catalog.close()
