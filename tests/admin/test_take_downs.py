"""Exclusions and embargoes hold on every route at once: replay, frames, TimeMaps, the
`*/` list, the CDX API, search hits and exports."""

from __future__ import annotations

import gzip
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.admin.conftest import AdminSite, post_form
from tests.search.conftest import Page, html, write_warc
from vellum.catalog.collections import CollectionFields, Collections
from vellum.catalog.exclusions import Exclusions
from vellum.export.wacz import write_wacz
from vellum.export.warc_copy import write_cdxj
from vellum.index.importer import Importer
from vellum.search.feed import update_search_index

OLD = "20200105101010"
SECRET = "http://site.test/secret/page"
PUBLIC = "http://site.test/open"
OTHER = "http://other.test/"
REASON = "court order 2026-17 (confidential)"


def _recent() -> str:
    return (datetime.now(UTC) - timedelta(days=1)).strftime("%Y%m%d%H%M%S")


@pytest.fixture
def archived(site: AdminSite, tmp_path: Path) -> tuple[AdminSite, str]:
    """a-open holds three old captures and one of yesterday, indexed and searchable."""
    recent = _recent()
    pages = [
        Page(SECRET, OLD, html("Secret plans", "zebrafish secret plans")),
        Page(PUBLIC, OLD, html("Open page", "zebrafish open page")),
        Page(OTHER, OLD, html("Other host", "zebrafish other host")),
        Page("http://site.test/news", recent, html("Fresh news", "zebrafish fresh news")),
    ]
    warc = write_warc(tmp_path / "pages.warc.gz", pages)
    assert not Importer(site.settings, site.catalog, workers=1).run("a-open", [warc]).failed
    update_search_index(site.settings, site.catalog, "a-open", workers=1)
    return site, recent


def _routes_show(client: TestClient, url: str, ts: str) -> dict[str, bool]:
    """Which routes show the capture of `url` at `ts`."""
    replay = client.get(f"/a-open/{ts}id_/{url}")
    frame = client.get(f"/a-open/{ts}/{url}")
    timemap = client.get(f"/a-open/timemap/link/{url}")
    listing = client.get(f"/a-open/*/{url}")
    cdx_lines = [
        json.loads(line)
        for params in ({"url": "site.test/", "matchType": "host"}, {"url": url})
        for line in client.get("/a-open/cdx", params={**params, "output": "json"}).text.splitlines()
    ]
    search = client.get("/api/search", params={"q": "zebrafish", "per_page": "50"})
    assert search.status_code == 200
    hits = {(h["url"], t) for h in search.json()["hits"] for t in h["timestamps"]}
    return {
        "replay": replay.status_code == 200,
        "frame": frame.status_code == 200,
        "timemap": timemap.status_code == 200 and ts in timemap.text,
        "listing": ts in listing.text,
        "cdx": any(c["url"] == url and c["timestamp"] == ts for c in cdx_lines),
        "search": (url, ts) in hits,
    }


def _exported(site: AdminSite, url: str, tmp: Path) -> bool:
    """Whether a WACZ package and a CDXJ export of a-open both hold `url` (or neither)."""
    target = tmp / f"export-{len(list(tmp.iterdir()))}"
    target.mkdir()
    write_wacz(site.settings, site.catalog, "a-open", target / "a.wacz")
    text = b""
    with zipfile.ZipFile(target / "a.wacz") as package:
        for name in package.namelist():
            data = package.read(name)
            text += gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    in_wacz = url.encode() in text
    write_cdxj(site.settings, site.catalog, "a-open", target / "a.cdxj")
    in_cdxj = url in (target / "a.cdxj").read_text()
    assert in_wacz == in_cdxj, (in_wacz, in_cdxj)
    return in_wacz


def test_an_exclusion_holds_on_every_route_at_once_and_lifting_it_too(
    archived: tuple[AdminSite, str], tmp_path: Path
) -> None:
    site, _ = archived
    anonymous, root = site.client(None), site.client("root")
    everywhere = dict.fromkeys(("replay", "frame", "timemap", "listing", "cdx", "search"), True)
    for client in (anonymous, root):  # warm every cache first
        assert _routes_show(client, SECRET, OLD) == everywhere
    assert _exported(site, SECRET, tmp_path)
    near = f"/a-open/{OLD}/http://site.test/secret/pag"  # not archived: nearby URLs listed
    assert SECRET in anonymous.get(near).text

    added = Exclusions(site.catalog).add("a-open", "prefix", "http://site.test/secret/", REASON)
    nowhere = dict.fromkeys(everywhere, False)
    for client in (anonymous, root):
        assert _routes_show(client, SECRET, OLD) == nowhere
        assert _routes_show(client, PUBLIC, OLD) == everywhere  # its neighbour is untouched
    assert not _exported(site, SECRET, tmp_path) and _exported(site, PUBLIC, tmp_path)
    page = anonymous.get(f"/a-open/{OLD}id_/{SECRET}")
    assert page.status_code == 404 and "This page is not available" in page.text
    assert REASON not in page.text and "court order" not in page.text
    assert SECRET not in anonymous.get(near).text

    Exclusions(site.catalog).remove(added.id)
    for client in (anonymous, root):
        assert _routes_show(client, SECRET, OLD) == everywhere
    assert _exported(site, SECRET, tmp_path)


def test_host_and_url_exclusions(archived: tuple[AdminSite, str]) -> None:
    site, _ = archived
    anonymous = site.client(None)
    Exclusions(site.catalog).add("a-open", "host", "other.test", REASON)
    Exclusions(site.catalog).add("a-open", "url", PUBLIC, REASON)
    assert not any(_routes_show(anonymous, OTHER, OLD).values())
    assert not any(_routes_show(anonymous, PUBLIC, OLD).values())
    assert all(_routes_show(anonymous, SECRET, OLD).values())


def test_an_exclusion_added_in_the_admin_page_holds_at_once(
    archived: tuple[AdminSite, str],
) -> None:
    site, _ = archived
    curator, anonymous = site.client("curator-a"), site.client(None)
    assert anonymous.get(f"/a-open/{OLD}id_/{SECRET}").status_code == 200
    answer = post_form(
        curator,
        "/admin/collections/a-open",
        "/admin/collections/a-open/exclusions",
        {"kind": "url", "target": SECRET, "reason": REASON},
    )
    assert answer.status_code == 303
    assert anonymous.get(f"/a-open/{OLD}id_/{SECRET}").status_code == 404
    page = curator.get("/admin/collections/a-open")
    assert REASON in page.text and "test,site)/secret/page" in page.text
    bad_input = [
        {"target": "", "reason": "r"},
        {"target": SECRET, "reason": ""},
        {"target": SECRET, "reason": "r" * 2001},
        {"target": "ftp://x/", "reason": "r"},
        {"target": "x" * 3000, "reason": "r"},
        {"target": "a b", "reason": "r"},
        {"target": "site.test/path", "reason": "r", "kind": "host"},
        {"target": SECRET, "reason": "r", "kind": "everything"},
    ]
    for bad in bad_input:
        refused = post_form(
            curator,
            "/admin/collections/a-open",
            "/admin/collections/a-open/exclusions",
            {"kind": "url", **bad},
        )
        assert refused.status_code == 400, bad
    assert len(Exclusions(site.catalog).list("a-open")) == 1
    x = Exclusions(site.catalog).list("a-open")[0]
    lifted = post_form(
        curator,
        "/admin/collections/a-open",
        f"/admin/collections/a-open/exclusions/{x.id}/remove",
        {},
    )
    assert lifted.status_code == 303
    assert anonymous.get(f"/a-open/{OLD}id_/{SECRET}").status_code == 200


def test_an_embargo_hides_young_captures_from_the_public_only(
    archived: tuple[AdminSite, str],
) -> None:
    site, recent = archived
    news = "http://site.test/news"
    collections = Collections(site.catalog)
    old = collections.get("a-open")
    everywhere = dict.fromkeys(("replay", "frame", "timemap", "listing", "cdx", "search"), True)
    anonymous, viewer, other = site.client(None), site.client("viewer-a"), site.client("curator-b")
    assert _routes_show(anonymous, news, recent) == everywhere
    fields = CollectionFields(old.title, "A", old.description, True, {}, embargo_days=7)
    collections.update("a-open", fields)
    nowhere = dict.fromkeys(everywhere, False)
    for client in (anonymous, other):
        assert _routes_show(client, news, recent) == nowhere
        assert _routes_show(client, SECRET, OLD) == everywhere  # older than 7 days
    for client in (viewer, site.client("curator-a"), site.client("root")):
        assert _routes_show(client, news, recent) == everywhere
    collections.update("a-open", CollectionFields(old.title, "A", "", True, {}, embargo_days=0))
    assert _routes_show(anonymous, news, recent) == everywhere


def test_search_totals_and_facets_leave_out_what_is_hidden(
    archived: tuple[AdminSite, str],
) -> None:
    """Hidden pages are not counted either: a count or a facet would betray them."""
    site, _ = archived
    collections = Collections(site.catalog)
    old = collections.get("a-open")
    collections.update("a-open", CollectionFields(old.title, "A", "", True, {}, embargo_days=7))
    Exclusions(site.catalog).add("a-open", "prefix", "http://site.test/secret/", REASON)
    Exclusions(site.catalog).add("a-open", "url", OTHER, REASON)
    anonymous, viewer = site.client(None), site.client("viewer-a")

    def search(client: TestClient, **params: str) -> dict[str, object]:
        answer = client.get("/api/search", params={"q": "zebrafish", **params})
        assert answer.status_code == 200
        found: dict[str, object] = answer.json()
        return found

    public = search(anonymous, per_page="1")
    assert public["total"] == 1 and public["pages"] == 1  # the open page alone
    assert [h["url"] for h in public["hits"]] == [PUBLIC]  # type: ignore[attr-defined]
    facets = public["facets"]
    assert facets["host"] == [{"value": "site.test", "count": 1}]  # type: ignore[index]
    assert search(anonymous, q="zebrafish secret")["total"] == 0
    assert search(anonymous, q="site:other.test")["total"] == 0
    # A member of the collection sees the embargoed capture, not the excluded ones.
    member = search(viewer, per_page="50")
    urls = sorted(h["url"] for h in member["hits"])  # type: ignore[attr-defined]
    assert urls == sorted([PUBLIC, "http://site.test/news"]) and member["total"] == 2
    page = anonymous.get("/search", params={"q": "zebrafish"})
    assert page.status_code == 200 and "secret" not in page.text.lower()


def test_wasapi_withholds_the_files_that_hold_hidden_captures(
    archived: tuple[AdminSite, str], tmp_path: Path
) -> None:
    """WASAPI serves WARC files whole: one holding a hidden capture is not served."""
    site, _ = archived
    old_only = write_warc(
        tmp_path / "old.warc.gz", [Page(PUBLIC, "20190101000000", html("O", "o"))]
    )
    assert not Importer(site.settings, site.catalog, workers=1).run("a-open", [old_only]).failed
    (pages_file,) = [
        w.filename for w in site.catalog.warc_files("a-open") if w.filename.startswith("pages")
    ]
    (old_file,) = [
        w.filename for w in site.catalog.warc_files("a-open") if w.filename != pages_file
    ]
    anonymous, viewer, root = site.client(None), site.client("viewer-a"), site.client("root")

    def served(client: TestClient) -> set[str]:
        listed = client.get("/wasapi/v1/webdata", params={"collection": "a-open"}).json()
        names = {f["filename"] for f in listed["files"]}
        for name in (pages_file, old_file):
            download = client.get(f"/wasapi/v1/download/a-open/{name}")
            assert (download.status_code == 200) == (name in names), (name, download.status_code)
        return names

    both = {pages_file, old_file}
    assert served(anonymous) == both and served(root) == both
    added = Exclusions(site.catalog).add("a-open", "prefix", "http://site.test/secret/", REASON)
    assert served(anonymous) == {old_file} and served(root) == {old_file}
    Exclusions(site.catalog).remove(added.id)
    assert served(anonymous) == both
    # pages.warc.gz holds a capture of yesterday: under a 7-day embargo, for the public only.
    collections = Collections(site.catalog)
    old = collections.get("a-open")
    collections.update("a-open", CollectionFields(old.title, "A", "", True, {}, embargo_days=7))
    assert served(anonymous) == {old_file} and served(viewer) == both
