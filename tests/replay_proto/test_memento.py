"""Item 5: Memento (RFC 7089) — TimeGate, memento headers, TimeMaps and their pages."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.replay_proto.conftest import SITE, SLUG, T1, T2, T3, Proto, write_site
from vellum.catalog import Catalog
from vellum.errors import InvalidInput
from vellum.index.importer import Importer
from vellum.index.store import open_index
from vellum.replay.app import create_app
from vellum.replay.memento import TIMEMAP_PAGE, parse_accept_datetime
from vellum.settings import Settings
from vellum.urls.timestamps import to_timestamp

PAGE = f"{SITE}/page.html"
BASE = f"http://testserver/{SLUG}/"


def links(value: str) -> dict[str, str]:
    """rel → URI of a Link header (or link-format body)."""
    out = {}
    for match in re.finditer(r"<([^>]*)>\s*;([^<]*)", value):
        rel = re.search(r'rel="([^"]*)"', match.group(2))
        if rel:
            out[rel.group(1)] = match.group(1)
    return out


def test_timegate_without_accept_datetime_gives_the_latest(proto: Proto) -> None:
    r = proto.client.get(f"/{SLUG}/{PAGE}")
    assert r.status_code == 302
    assert r.headers["location"] == f"/{SLUG}/{T3}/{PAGE}"
    assert r.headers["vary"] == "accept-datetime"
    assert "memento-datetime" not in r.headers
    rels = links(r.headers["link"])
    assert rels["original"] == PAGE
    assert rels["timemap"] == f"{BASE}timemap/link/{PAGE}"


def test_timegate_honours_accept_datetime(proto: Proto) -> None:
    for asked, expected in (
        ("Thu, 01 Oct 2020 00:00:00 GMT", T2),
        ("Sun, 01 Jan 1995 00:00:00 GMT", T1),
        ("Tue, 01 Dec 2099 10:00:00 GMT", T3),
    ):
        r = proto.client.get(f"/{SLUG}/{PAGE}", headers={"accept-datetime": asked})
        assert r.status_code == 302 and r.headers["location"] == f"/{SLUG}/{expected}/{PAGE}"
    bad = proto.client.get(f"/{SLUG}/{PAGE}", headers={"accept-datetime": "2020-10-01"})
    assert bad.status_code == 400 and "RFC 1123" in bad.text


def test_accept_datetime_parsing() -> None:
    assert parse_accept_datetime("Tue, 02 Jan 2024 03:04:05 GMT").isoformat() == (
        "2024-01-02T03:04:05+00:00"
    )
    for bad in ("", "Tue, 31 Feb 2024 03:04:05 GMT", "Tue, 02 Jan 2024 03:04:05 PST", "yesterday"):
        with pytest.raises(InvalidInput):
            parse_accept_datetime(bad)


def test_memento_headers(proto: Proto) -> None:
    r = proto.client.get(f"/{SLUG}/{T2}mp_/{PAGE}")
    assert r.status_code == 200
    assert r.headers["memento-datetime"] == "Fri, 01 Jan 2021 00:00:00 GMT"
    assert "accept-datetime" not in r.headers.get("vary", "").lower()
    memento = next(v for v in r.headers.get_list("link") if 'rel="original"' in v)
    rels = links(memento)
    assert rels["original"] == PAGE
    assert rels["timegate"] == f"{BASE}{PAGE}"
    assert rels["timemap"] == f"{BASE}timemap/link/{PAGE}"
    assert rels["first prev memento"] == f"{BASE}{T1}/{PAGE}"
    assert rels["next last memento"] == f"{BASE}{T3}/{PAGE}"
    assert 'datetime="Wed, 01 Jan 2020 00:00:00 GMT"' in memento


def test_timemaps(proto: Proto) -> None:
    r = proto.client.get(f"/{SLUG}/timemap/link/{PAGE}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/link-format")
    rels = links(r.text)
    assert rels["original"] == PAGE and rels["timegate"] == f"{BASE}{PAGE}"
    assert rels["self"] == f"{BASE}timemap/link/{PAGE}"
    assert rels["first memento"] == f"{BASE}{T1}/{PAGE}"
    assert rels["memento"] == f"{BASE}{T2}/{PAGE}"
    assert rels["last memento"] == f"{BASE}{T3}/{PAGE}"
    assert "vary" not in r.headers
    rows = [
        json.loads(x) for x in proto.client.get(f"/{SLUG}/timemap/json/{PAGE}").text.splitlines()
    ]
    assert [row["timestamp"] for row in rows] == [T1, T2, T3]
    assert all(row["url"] == PAGE for row in rows)
    missing = proto.client.get(f"/{SLUG}/timemap/link/{SITE}/never.html")
    assert missing.status_code == 404
    assert proto.client.get(f"/{SLUG}/timemap/xml/{PAGE}").status_code == 400


def test_large_timemaps_are_paged(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    catalog = Catalog(settings.catalog_path)
    catalog.create_organization("Org", "ORG")
    catalog.create_collection(SLUG, "ORG", "Paged")
    warc = tmp_path / "site.warc.gz"
    write_site(warc)
    Importer(settings, catalog, workers=1).run(SLUG, [warc])
    store = open_index(settings.index_dir(SLUG), settings.warc_dir(SLUG))
    (real,) = [c for c in store.captures(PAGE) if c.timestamp == T1]
    total = TIMEMAP_PAGE + 500
    start = datetime(2019, 1, 1, tzinfo=UTC)
    fixed = [
        replace(real, timestamp=to_timestamp(start + timedelta(seconds=n)))
        for n in range(total - 3)
    ]
    store.append("site.warc.gz", fixed)
    store.close()
    with TestClient(create_app(settings, catalog)) as client:
        first = client.get(f"/{SLUG}/timemap/link/{PAGE}")
        rels = links(first.text)
        mementos = first.text.count('memento"; datetime=')
        assert mementos == TIMEMAP_PAGE
        nxt = rels["next timemap"]
        second = client.get(nxt.removeprefix("http://testserver"))
        assert second.status_code == 200
        more = second.text.count('memento"; datetime=')
        assert mementos + more == len(fixed) + 3
        assert "prev timemap" in links(second.text)
        assert "last memento" in second.text and "first memento" not in second.text
        json_page = client.get(f"/{SLUG}/timemap/json/{PAGE}")
        assert len(json_page.text.split("\n")) - 1 == TIMEMAP_PAGE
        assert 'rel="next"' in json_page.headers["link"]
    catalog.close()
