"""The private-address guard, keep-alive, wire-exact recording, 429/503 back-off."""

from __future__ import annotations

import asyncio
import gzip

import pytest

from tests.crawl.conftest import CrawlFn, records
from tests.crawl.server import Reply, Site, html
from vellum.capture.config import Politeness
from vellum.capture.fetch import FetchError
from vellum.capture.http import HttpClient
from vellum.capture.safety import AddressGuard, private_network
from vellum.settings import Settings


@pytest.mark.parametrize(
    ("ip", "private"),
    [
        ("127.0.0.1", True), ("10.1.2.3", True), ("172.16.0.1", True), ("172.32.0.1", False),
        ("192.168.1.1", True), ("169.254.169.254", True), ("100.64.0.1", True), ("::1", True),
        ("fe80::1", True), ("fd00::1", True), ("::ffff:10.0.0.1", True), ("93.184.216.34", False),
        ("2606:2800:220:1::1", False),
    ],
)  # fmt: skip
def test_private_networks(ip: str, private: bool) -> None:
    assert (private_network(ip) is not None) == private


def test_guard_allows_the_seeds_network_only() -> None:
    public_seed = AddressGuard(["93.184.216.34"])
    assert public_seed.refusal("127.0.0.1") is not None
    assert public_seed.refusal("169.254.169.254") is not None
    assert public_seed.refusal("93.184.216.35") is None
    loopback_seed = AddressGuard(["127.0.0.1"])
    assert loopback_seed.refusal("127.0.0.2") is None
    assert "private address 10.0.0.1" in (loopback_seed.refusal("10.0.0.1") or "")
    assert AddressGuard(["93.184.216.34"], allow_private=True).refusal("10.0.0.1") is None


def test_guard_in_a_crawl_links_and_redirects(crawl: CrawlFn, settings: Settings) -> None:
    # The seed is on loopback, so loopback is allowed; link-local and private are not,
    # whether linked or reached through a redirect. Nothing leaves this machine: the
    # guard refuses before connecting.
    routes = {
        "/": html(
            '<a href="http://169.254.169.254/latest/meta-data/">metadata</a>'
            '<img src="http://10.255.255.1/x.png"><a href="to-private">r</a>'
        ),
        "/to-private": Reply(
            status_line="HTTP/1.1 302 Found", headers=(("Location", "http://192.168.255.254/"),)
        ),
    }
    with Site(routes) as site:
        report = crawl(
            site.url,
            sitemaps=False,
            politeness=Politeness(delay=0, retries=0),
            include_re=(".*",),  # every host in scope: only the guard stops them
        )
    errors = report.stats.samples["errors"]
    assert len(errors) == 3
    assert all("refused to connect to private address" in e for e in errors)
    assert report.stats.stored == 3  # robots.txt, /, the redirect


def test_keep_alive_and_wire_exact_recording(crawl: CrawlFn, settings: Settings) -> None:
    css = gzip.compress(b"body { color: red }")
    routes = {
        "/": html(
            "".join(f'<a href="p{i}.html">{i}</a>' for i in range(20))
            + '<link rel=stylesheet href="s.css">',
            chunked=True,
        ),
        **{f"/p{i}.html": html(f"<p>{i}</p>") for i in range(20)},
        "/s.css": Reply(
            css,
            "text/css",
            headers=(("X-Zeta", "1"), ("Content-Encoding", "gzip"), ("x-alpha", "two words")),
        ),
    }
    with Site(routes) as site:
        crawl(site.url, sitemaps=False, politeness=Politeness(delay=0, per_host=1, concurrency=1))
        assert site.connections == 1  # 23 requests over one kept-alive connection
    by_url = {
        h["WARC-Target-URI"]: (http, body)
        for t, h, http, body in records(settings)
        if t == "response"
    }
    http, body = by_url[site.url + "s.css"]
    assert [k for k, _ in http.headers] == [
        "Content-Type",
        "X-Zeta",
        "Content-Encoding",
        "x-alpha",
        "Content-Length",
    ]
    raw = None
    from warcio.archiveiterator import ArchiveIterator

    for path in settings.warc_dir("coll").glob("*.warc.gz"):
        with path.open("rb") as f:
            for r in ArchiveIterator(f):
                if r.rec_type == "response" and r.rec_headers.get_header(
                    "WARC-Target-URI"
                ).endswith("s.css"):
                    raw = r.raw_stream.read()
    assert raw == css  # Content-Encoding kept
    home, body = by_url[site.url]
    assert home.get_header("X-Archive-Orig-Transfer-Encoding") == "chunked"
    assert home.get_header("Transfer-Encoding") is None
    assert body.startswith(b'<a href="p0.html">')  # de-chunked


def test_429_and_503_back_off_with_retry_after(crawl: CrawlFn) -> None:
    state = {"n": 0}

    def busy_then_ok(sock, _headers):  # type: ignore[no-untyped-def]
        state["n"] += 1
        if state["n"] == 1:
            sock.sendall(
                Reply(
                    b"slow down",
                    "text/plain",
                    "HTTP/1.1 429 Too Many Requests",
                    headers=(("Retry-After", "1"),),
                ).encode()
            )
        else:
            sock.sendall(html("<p>ok now</p>").encode())
        return True

    routes = {
        "/": html('<a href="busy.html">b</a><a href="down.html">d</a>'),
        "/busy.html": busy_then_ok,
        "/down.html": Reply(b"down", "text/plain", "HTTP/1.1 503 Service Unavailable"),
    }
    with Site(routes) as site:  # type: ignore[arg-type]
        report = crawl(
            site.url, sitemaps=False, politeness=Politeness(delay=0, retries=2, max_backoff=0.3)
        )
        times = [t for p, t in zip(site.log, site.times, strict=True) if p == "/busy.html"]
        assert len(times) == 2 and times[1] - times[0] >= 0.25  # Retry-After 1 s, capped at 0.3
        assert site.count("/down.html") == 3  # first try and two retries, then stored
    assert report.stats.by_status["503"] == 1 and report.stats.by_status["200"] >= 2
    assert "429" not in report.stats.by_status


def test_client_errors_are_one_line() -> None:
    async def go() -> None:
        client = HttpClient("test", AddressGuard(["127.0.0.1"]))
        with pytest.raises(FetchError, match="connection refused"):
            await client.get("http://127.0.0.1:1/")
        with pytest.raises(FetchError, match="malformed URL"):
            await client.get("ftp://example.org/")
        await client.close()

    asyncio.run(go())
