"""Dedup across crawls, WARC rotation and naming, and agreement with warcio and cdxj-indexer."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from cdxj_indexer.main import write_cdx_index

from tests.crawl.conftest import CrawlFn, records, warcio_check
from tests.crawl.server import Reply, Site, html
from vellum.catalog import Catalog
from vellum.index.store import open_index
from vellum.settings import Settings

NAME = re.compile(r"^coll-\d{14}-\d{5}-[A-Za-z0-9-]+\.warc\.gz$")


def site_routes() -> dict[str, Reply]:
    routes = {"/": html("".join(f'<a href="p{i}.html">{i}</a>' for i in range(30)))}
    for i in range(30):
        routes[f"/p{i}.html"] = html(
            f'<h1>page {i}</h1><img src="shared.png"><p>{"lorem ipsum " * 200}</p>', chunked=True
        )
    routes["/shared.png"] = Reply(b"\x89PNG" + bytes(range(256)) * 40, "image/png")
    return routes


def peer_index(paths: list[Path]) -> list[str]:
    """cdxj-indexer's lines, digests in pywb's form (without `sha1:`), as Vellum keeps them."""
    lines = []
    for path in paths:
        out = io.StringIO()
        write_cdx_index(out, [str(path)], {"records": "response,revisit,resource"})
        for line in out.getvalue().splitlines():
            key, ts, blob = line.split(" ", 2)
            data = json.loads(blob)
            if data.get("digest", "").startswith("sha1:"):
                data["digest"] = data["digest"][5:]
            lines.append(f"{key} {ts} {json.dumps(data)}")
    return sorted(lines)


def test_second_crawl_writes_revisits(crawl: CrawlFn, settings: Settings, catalog: Catalog) -> None:
    with Site(site_routes()) as site:
        first = crawl(site.url, sitemaps=False)
        second = crawl(site.url, sitemaps=False)
    assert first.stats.duplicate == 0 and first.stats.new == 33  # robots 404, /, 30 pages, png
    assert second.stats.stored == 33
    # the 200s of the second crawl are all revisits; the robots.txt 404 is not deduplicated
    assert second.stats.duplicate == 32 and second.stats.new == 1
    assert second.stats.duplicate_bytes == first.stats.bytes - len(b"not here")
    by_id = {h["WARC-Record-ID"]: h for _, h, _, _ in records(settings)}
    revisits = [(h, http, body) for t, h, http, body in records(settings) if t == "revisit"]
    assert len(revisits) == 32
    for h, http, body in revisits:
        assert h["WARC-Profile"] == (
            "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
        )
        original = by_id[h["WARC-Refers-To"]]
        assert original["WARC-Type"] == "response"
        assert original["WARC-Target-URI"] == h["WARC-Refers-To-Target-URI"]
        assert original["WARC-Date"] == h["WARC-Refers-To-Date"]
        assert original["WARC-Payload-Digest"] == h["WARC-Payload-Digest"]
        assert body == b""  # headers only
        assert http.get_statuscode() == "200"
    report = catalog_report(catalog, second.crawl.id)
    assert report["duplicate"] == 32 and report["new"] == 1


def catalog_report(catalog: Catalog, crawl_id: int) -> dict[str, object]:
    from vellum.catalog.crawls import load_report

    return load_report(catalog, crawl_id)


def test_rotation_naming_and_peers_agree(crawl: CrawlFn, settings: Settings) -> None:
    with Site(site_routes()) as site:
        report = crawl(site.url, sitemaps=False, rotate_bytes=20_000, dedup=False)
    warcs = sorted(settings.warc_dir("coll").glob("*"))
    assert len(warcs) >= 3
    assert all(NAME.match(p.name) for p in warcs), [p.name for p in warcs]
    assert [p.name for p in warcs] == sorted(report.warc_files)
    serials = [int(p.name.split("-")[2]) for p in warcs]
    assert serials == list(range(1, len(warcs) + 1))
    check = warcio_check(warcs)
    assert check.returncode == 0, check.stdout + check.stderr
    # Every file starts with a warcinfo naming it; the index equals cdxj-indexer's.
    for path in warcs:
        first = records_of(path)[0]
        assert first[0] == "warcinfo" and first[1]["WARC-Filename"] == path.name
    index = open_index(settings.index_dir("coll"), settings.warc_dir("coll"))
    ours = sorted(c.to_line() for c in index.all())
    index.close()
    assert ours == peer_index(warcs)
    meta = [b for t, _, _, b in records(settings) if t == "metadata"]
    assert len(meta) == report.stats.stored
    assert any(b"outlink: " in m and b"hopsFromSeed: L" in m for m in meta)


def records_of(path: Path) -> list[tuple[str, dict[str, str]]]:
    from warcio.archiveiterator import ArchiveIterator

    with path.open("rb") as f:
        return [(r.rec_type, dict(r.rec_headers.headers)) for r in ArchiveIterator(f)]


@pytest.mark.parametrize("inline", [200, 0], ids=["thread", "worker-process"])
def test_duplicates_fetched_together_refer_to_an_earlier_response(
    crawl: CrawlFn, settings: Settings, monkeypatch: pytest.MonkeyPatch, inline: int
) -> None:
    """Many URLs with one body, fetched concurrently: one response, the rest revisits,
    each written after the response it refers to (groups are made in a thread or a
    worker process, but appended in the order they were planned)."""
    from vellum.capture import extraction

    monkeypatch.setattr(extraction, "INLINE_DOCUMENTS", inline)
    same = Reply(b"<p>" + b"same body " * 500 + b"</p>")
    routes: dict[str, Reply] = {"/": html("".join(f'<a href="d{i}">d</a>' for i in range(30)))}
    routes.update({f"/d{i}": same for i in range(30)})
    with Site(routes) as site:
        crawl(site.url, sitemaps=False)
    seen: set[str] = set()
    responses = revisits = 0
    for rec_type, headers, _http, _body in records(settings):
        if rec_type == "response" and headers["WARC-Target-URI"].startswith(site.url + "d"):
            responses += 1
        elif rec_type == "revisit":
            revisits += 1
            assert headers["WARC-Refers-To"] in seen  # the original came first
        seen.add(headers.get("WARC-Record-ID", ""))
    assert (responses, revisits) == (1, 29)
