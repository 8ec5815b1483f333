"""Crawl limits: documents, bytes and wall time per crawl; bytes per host."""

from __future__ import annotations

import time

from tests.crawl.conftest import CrawlFn
from tests.crawl.server import Site, html
from vellum.capture.config import Limits


def endless() -> dict[str, object]:
    class Endless(dict[str, object]):
        def get(self, key: str, default: object = None) -> object:
            n = int(key.strip("/p.html") or 0) if key.startswith("/p") else 0
            body = f'<a href="/p{n + 1}.html">next</a><a href="/p{n + 2}.html">2</a>'
            return html(body + "<p>" + "z" * 2000 + "</p>") if key != "/robots.txt" else None

    return Endless()


def test_document_byte_and_time_limits(crawl: CrawlFn) -> None:
    with Site(endless()) as site:  # type: ignore[arg-type]
        report = crawl(site.url, sitemaps=False, max_hops=1000, limits=Limits(documents=12))
        assert 12 <= report.stats.stored <= 12 + 8  # the tasks already running finish
        assert report.stats.stop_reason == "document limit (12) reached"
        report = crawl(site.url, sitemaps=False, max_hops=1000, limits=Limits(bytes=30_000))
        assert 30_000 <= report.stats.bytes <= 30_000 + 9 * 2100
        assert "byte limit" in report.stats.stop_reason
        started = time.monotonic()
        report = crawl(site.url, sitemaps=False, max_hops=100_000, limits=Limits(seconds=1.0))
        assert time.monotonic() - started < 6
        assert "time limit" in report.stats.stop_reason
        report = crawl(site.url, sitemaps=False, max_hops=1000, limits=Limits(host_bytes=10_000))
        assert report.stats.limited >= 1 and report.stats.bytes <= 10_000 + 9 * 2100
    assert len(site.log) < 5000  # every crawl ended
