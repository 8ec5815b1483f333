"""Traps and bad servers (issue 3 item 9)."""

from __future__ import annotations

import socket
import time
import tracemalloc
import zlib

from tests.crawl.conftest import CrawlFn, records
from tests.crawl.server import Reply, Site, html
from vellum.capture.bounded import bounded_decode
from vellum.capture.config import Limits
from vellum.capture.http import Timeouts
from vellum.capture.traps import TrapDetector, TrapLimits
from vellum.settings import Settings


def test_trap_detector_table() -> None:
    traps = TrapDetector(TrapLimits(max_url_length=80, max_path_depth=8, max_query_variants=3))
    assert traps.check("http://e.com/" + "a" * 100) == "URL too long"
    assert traps.check("http://e.com/1/2/3/4/5/6/7/8/9/x") == "path too deep"
    assert traps.check("http://e.com/a/a/a/x") == "repeated path segments"
    assert traps.check("http://e.com/a/b/a/b/a/b/") == "repeated path segments"
    assert traps.check("http://e.com/a/b/a/b/") is None
    assert [traps.check(f"http://e.com/cal?m={i}") for i in range(5)][-2:] == [
        "query-parameter explosion"
    ] * 2
    many = "&".join(f"p{i}=1" for i in range(30))
    assert TrapDetector().check("http://e.com/x?" + many) == "too many query parameters"


def calendar(month: int) -> Reply:
    return html(
        f'<a href="/cal?month={month + 1}">next</a><a href="/cal?month={month - 1}">prev</a>'
    )


def test_crawl_escapes_traps_and_host_cap(crawl: CrawlFn) -> None:
    class Calendar(dict[str, Reply]):
        def get(self, key: str, default: object = None) -> Reply | None:  # type: ignore[override]
            if key.startswith("/cal?month="):
                return calendar(int(key.split("=")[1]))
            if key.startswith("/loop/"):
                return html('<a href="again/">deeper</a>')
            return super().get(key)

    routes = Calendar(
        {
            "/": html('<a href="/cal?month=0">calendar</a><a href="/loop/">loop</a>'),
        }
    )
    with Site(routes) as site:  # type: ignore[arg-type]
        report = crawl(site.url, sitemaps=False, traps=TrapLimits(max_query_variants=10))
        cal = [p for p in site.log if p.startswith("/cal")]
        loop = [p for p in site.log if p.startswith("/loop")]
    assert 5 <= len(cal) <= 11
    assert len(loop) <= 3  # /loop/again/again/ is a repeated segment
    assert report.stats.trap_reasons["query-parameter explosion"] >= 1
    assert report.stats.trap_reasons["repeated path segments"] >= 1
    # per-host document cap
    routes = Calendar({"/": html('<a href="/cal?month=0">calendar</a>')})
    with Site(routes) as site:  # type: ignore[arg-type]
        report = crawl(site.url, sitemaps=False, limits=Limits(host_documents=4))
        assert len(site.log) <= 6
    assert report.stats.limited >= 1


def stall(sock: socket.socket, _headers: dict[str, str]) -> bool:
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
    sock.sendall(b"<html><body>" + b"x" * 1000)
    time.sleep(3)
    return False


def http10(sock: socket.socket, _headers: dict[str, str]) -> bool:
    sock.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<a href='after10.html'>a</a>")
    return False  # the body ends when the connection closes


PAGES = [
    "stall.html", "big.html", "latin.html", "broken.html", "http10.html", "noreason.html",
    "sjis.html",
]  # fmt: skip


def test_bad_servers(crawl: CrawlFn, settings: Settings) -> None:
    routes = {
        "/": html("".join(f'<a href="{p}">x</a>' for p in PAGES)),
        "/stall.html": stall,
        "/big.html": html("<p>" + "y" * 5000 + "</p>"),
        "/latin.html": Reply(
            '<a href="caf\xe9.html">café</a>'.encode("latin-1"), "text/html; charset=iso-8859-1"
        ),
        "/broken.html": Reply(b"\xc3(\xff<a href='after-broken.html'>x</a>\xed\xa0\x80"),
        "/sjis.html": Reply(
            '<meta charset="shift_jis"><a href="日本.html">日本</a>'.encode("shift_jis"), ""
        ),
        "/http10.html": http10,
        "/noreason.html": Reply(b"<a href='after-noreason.html'>x</a>", status_line="HTTP/1.1 200"),
    }
    for name in ("after10", "after-broken", "after-noreason", "caf%C3%A9", "%E6%97%A5%E6%9C%AC"):
        routes[f"/{name}.html"] = html("<p>reached</p>")
    with Site(routes) as site:
        started = time.monotonic()
        report = crawl(
            site.url,
            sitemaps=False,
            max_body=3000,
            timeouts=Timeouts(connect=2, read=0.5, total=1.0),
        )
        assert time.monotonic() - started < 8
        for name in ("after10", "after-broken", "after-noreason", "caf%C3%A9"):
            assert site.count(f"/{name}.html") == 1, name
        assert site.count("/%E6%97%A5%E6%9C%AC.html") == 1
    by_url = {
        h["WARC-Target-URI"]: (h, http, body)
        for t, h, http, body in records(settings)
        if t == "response"
    }
    stalled, _, body = by_url[site.url + "stall.html"]
    assert stalled["WARC-Truncated"] == "time" and len(body) == 1012
    big, _, body = by_url[site.url + "big.html"]
    assert big["WARC-Truncated"] == "length" and len(body) == 3000
    _, http, _ = by_url[site.url + "noreason.html"]
    assert http.statusline == "200"
    _, http, body = by_url[site.url + "http10.html"]
    assert http.protocol == "HTTP/1.0" and body.startswith(b"<a href")
    assert report.stats.truncated == 2


def gzip_bomb(size: int, prefix: bytes) -> bytes:
    c = zlib.compressobj(1, zlib.DEFLATED, 31)
    out = [c.compress(prefix)]
    block = b"\0" * (1 << 20)
    out += [c.compress(block) for _ in range(size >> 20)]
    return b"".join(out) + c.flush()


def test_gzip_bomb_does_not_blow_up_link_extraction(crawl: CrawlFn) -> None:
    bomb = gzip_bomb(200 << 20, b"<a href='bomb-link.html'>x</a>")
    assert len(bomb) < 1 << 20
    assert len(bounded_decode(bomb, "gzip", 1 << 20)) == 1 << 20
    routes = {
        "/": Reply(bomb, headers=(("Content-Encoding", "gzip"),)),
        "/bomb-link.html": html("<p>reached</p>"),
    }
    tracemalloc.start()
    try:
        with Site(routes) as site:
            crawl(site.url, sitemaps=False)
            assert site.count("/bomb-link.html") == 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100 << 20  # 200 MB inflated would not fit
