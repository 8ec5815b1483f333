"""Fetching and recording: the WARC holds the HTTP messages as sent and received."""

from __future__ import annotations

import gzip
import socket
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from vellum.capture.crawler import Crawler, CrawlInterrupted
from vellum.capture.fetch import FetchError, FetchOptions, fetch
from vellum.catalog import Catalog
from vellum.clock import Clock
from vellum.demo.site_server import DemoSite
from vellum.errors import InvalidInput, VellumError
from vellum.settings import Settings

OPTIONS = FetchOptions(user_agent="vellum-test")


def raw_header_names(url_host: str, port: int, path: str) -> list[str]:
    """Header names as a plain socket sees them on the wire, in order."""
    with socket.create_connection((url_host, port)) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {url_host}:{port}\r\nAccept-Encoding: gzip\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
    return [line.split(":", 1)[0] for line in head]


def test_fetch_keeps_wire_order_and_decodes_chunked_only(demo_site: DemoSite) -> None:
    page = fetch(demo_site.url + "partners/aimf.html", OPTIONS)
    names = [name for name, _ in page.response_headers]
    wire = raw_header_names("127.0.0.1", demo_site.port, "/partners/aimf.html")
    assert names == [
        "X-Archive-Orig-Transfer-Encoding" if n.lower() == "transfer-encoding" else n for n in wire
    ]
    assert page.header("X-Archive-Orig-Transfer-Encoding") == "chunked"
    assert page.header("Transfer-Encoding") is None
    assert b"Association internationale des maires francophones" in page.body
    assert page.ip_address == "127.0.0.1"

    css = fetch(demo_site.url + "css/portal.css", OPTIONS)
    assert css.header("Content-Encoding") == "gzip"
    assert css.body[:2] == b"\x1f\x8b"  # stored as received: still gzip-encoded
    assert b"url(" in gzip.decompress(css.body)


def test_fetch_errors_are_one_line() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    with pytest.raises(FetchError, match="connection refused"):
        fetch(f"http://127.0.0.1:{free_port}/", OPTIONS)
    with pytest.raises(InvalidInput, match="malformed URL"):
        fetch("ftp://example.org/", OPTIONS)
    with pytest.raises(InvalidInput, match="malformed URL"):
        fetch("http://127.0.0.1:99999/", OPTIONS)


def crawl_demo(
    settings: Settings,
    catalog: Catalog,
    unesco: str,
    site: DemoSite,
    clock: Clock,
    record_ids: Callable[[], str],
    depth: int = 3,
) -> list[Path]:
    crawler = Crawler(settings, catalog, clock=clock, record_id=record_ids)
    report = crawler.crawl(unesco, [site.url], depth)
    return [settings.warc_dir(unesco) / name for name in report.warc_files]


def gzip_members(data: bytes) -> int:
    count = 0
    while data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        d.decompress(data)
        assert d.eof, "truncated gzip member"
        data = d.unused_data
        count += 1
    return count


def test_crawl_writes_valid_warc(
    settings: Settings,
    catalog: Catalog,
    unesco: str,
    demo_site: DemoSite,
    clock: Clock,
    record_ids: Callable[[], str],
) -> None:
    (warc,) = crawl_demo(settings, catalog, unesco, demo_site, clock, record_ids)
    assert warc.parent == settings.data_dir / "collections" / "unesco" / "warcs"
    data = warc.read_bytes()
    with warc.open("rb") as f:
        records = list(ArchiveIterator(f, check_digests=True, ensure_http_headers=False))
    # warcio raises on a bad digest; also check every record has its own gzip member.
    assert gzip_members(data) == len(records)
    with warc.open("rb") as f:
        heads = [
            (r.rec_headers.protocol, r.rec_type, dict(r.rec_headers.headers))
            for r in ArchiveIterator(f)
        ]
    assert heads[0][1] == "warcinfo"
    assert all(proto == "WARC/1.1" for proto, _, _ in heads)
    by_id = {h["WARC-Record-ID"]: (t, h) for _, t, h in heads}
    urls = set()
    for _, rec_type, h in heads[1:]:
        assert rec_type in ("request", "response", "revisit", "metadata")
        assert h["WARC-Date"] == "2015-12-29T23:14:10Z"
        if rec_type == "metadata":  # outlinks and hop path of the response it refers to
            assert by_id[h["WARC-Refers-To"]][0] in ("response", "revisit")
            continue
        assert h["WARC-IP-Address"] == "127.0.0.1"
        partner_type, partner = by_id[h["WARC-Concurrent-To"]]
        assert partner["WARC-Concurrent-To"] == h["WARC-Record-ID"]
        assert {partner_type, rec_type} in ({"request", "response"}, {"request", "revisit"})
        if rec_type in ("response", "revisit"):
            assert h["WARC-Payload-Digest"].startswith("sha1:")
            assert len(h["WARC-Payload-Digest"]) == 5 + 32
            urls.add(h["WARC-Target-URI"])
        if rec_type == "revisit":  # same payload as an earlier response of this crawl
            original_type, original = by_id[h["WARC-Refers-To"]]
            assert original_type == "response"
            assert original["WARC-Payload-Digest"] == h["WARC-Payload-Digest"]
            assert original["WARC-Target-URI"] == h["WARC-Refers-To-Target-URI"]
    site = demo_site.url
    expected = {
        site,
        site + "robots.txt",
        site + "partners/aimf.html",
        site + "partners/print/aimf.html",
        site + "css/portal.css",
        site + "css/fonts.css",  # @import inside a stylesheet
        site + "img/logo.png",
        site + "img/header-bg.png",  # url() inside a stylesheet
    }
    assert expected <= urls
    assert not any("/private/" in u for u in urls), "robots.txt must be obeyed"


def test_response_record_holds_received_bytes(
    settings: Settings,
    catalog: Catalog,
    unesco: str,
    demo_site: DemoSite,
    clock: Clock,
    record_ids: Callable[[], str],
) -> None:
    (warc,) = crawl_demo(settings, catalog, unesco, demo_site, clock, record_ids, depth=0)
    with warc.open("rb") as f:
        for record in ArchiveIterator(f):
            if record.rec_headers.get_header("WARC-Target-URI", "").endswith("/css/portal.css"):
                if record.rec_type == "response":
                    assert record.http_headers.get_header("Content-Encoding") == "gzip"
                    raw = record.raw_stream.read()
                    assert gzip.decompress(raw).startswith(b"/*") or b"url(" in gzip.decompress(raw)
                elif record.rec_type == "request":
                    head = record.http_headers
                    assert head.protocol == "GET"
                    assert head.get_header("User-Agent").startswith(
                        "Mozilla/5.0 (compatible; Vellum/"
                    )
                    assert head.get_header("Accept-Encoding") == "gzip, deflate, br"


def test_resources_from_other_hosts_pages_only_on_seed_host(
    tmp_path: Path,
    settings: Settings,
    catalog: Catalog,
    unesco: str,
    clock: Clock,
    record_ids: Callable[[], str],
) -> None:
    other_root = tmp_path / "other"
    (other_root / "img").mkdir(parents=True)
    (other_root / "img" / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    (other_root / "page.html").write_text("<p>other host page</p>")
    (other_root / "index.html").write_text("other host")
    with DemoSite(host="127.0.0.2", root=other_root) as other:
        other_url = other.url
        seed_root = tmp_path / "seed"
        seed_root.mkdir()
        (seed_root / "index.html").write_text(
            f'<img src="{other.url}img/pic.png"><a href="{other.url}page.html">x</a>'
            '<a href="deeper.html">d</a>'
        )
        (seed_root / "deeper.html").write_text('<a href="deepest.html">e</a>')
        (seed_root / "deepest.html").write_text("end")
        with DemoSite(root=seed_root) as seed:
            seed_url = seed.url
            crawler = Crawler(settings, catalog, clock=clock, record_id=record_ids)
            report = crawler.crawl(unesco, [seed.url], depth=1)
    stored = set()
    for name in report.warc_files:
        with (settings.warc_dir(unesco) / name).open("rb") as f:
            stored |= {
                r.rec_headers.get_header("WARC-Target-URI")
                for r in ArchiveIterator(f)
                if r.rec_type == "response"
            }
    assert f"{other_url}img/pic.png" in stored  # a resource, from another host
    assert f"{other_url}page.html" not in stored  # a page on another host: out of scope
    assert f"{seed_url}deeper.html" in stored  # depth 1
    assert f"{seed_url}deepest.html" not in stored  # depth 2 > --depth 1


def test_bad_crawl_input(
    settings: Settings, catalog: Catalog, unesco: str, demo_site: DemoSite
) -> None:
    crawler = Crawler(settings, catalog)
    with pytest.raises(VellumError, match="no collection"):
        crawler.crawl("nope", [demo_site.url], 1)
    with pytest.raises(InvalidInput, match="malformed URL"):
        crawler.crawl(unesco, ["not a url"], 1)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(VellumError, match=r"nothing captured: .*connection refused"):
        crawler.crawl(unesco, [f"http://127.0.0.1:{port}/"], 1)
    assert list(settings.warc_dir(unesco).glob("*.warc.gz")) == []


def test_interrupted_crawl_leaves_valid_warc_and_matching_index(
    settings: Settings,
    catalog: Catalog,
    unesco: str,
    demo_site: DemoSite,
    clock: Clock,
    record_ids: Callable[[], str],
) -> None:
    from vellum.index.indexer import index_warc
    from vellum.index.store import CdxjIndex

    seen = []

    def stop_after_five(event: object) -> None:
        seen.append(event)
        if len(seen) == 5:
            raise KeyboardInterrupt

    crawler = Crawler(
        settings, catalog, clock=clock, record_id=record_ids, observer=stop_after_five
    )
    with pytest.raises(CrawlInterrupted, match="interrupted"):
        crawler.crawl(unesco, [demo_site.url], 3)
    (warc,) = settings.warc_dir(unesco).glob("*.warc.gz")
    with warc.open("rb") as f:
        records = list(ArchiveIterator(f, check_digests=True))
    assert 5 <= len([r for r in records if r.rec_type == "response"]) <= 6
    index = CdxjIndex(settings.index_dir(unesco), settings.warc_dir(unesco))
    assert [c.to_line() for c in index.all()] == sorted(c.to_line() for c in index_warc(warc))
    assert not list(settings.index_dir(unesco).glob("*.open"))
    assert catalog.crawls(unesco)[-1].status == "interrupted"
