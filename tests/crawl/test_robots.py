"""robots.txt: allow/disallow, 5xx, Crawl-delay, sitemaps, --ignore-robots."""

from __future__ import annotations

import gzip
import itertools

import pytest

from tests.crawl.conftest import FAST, CrawlFn, stored_urls
from tests.crawl.server import Reply, Site, html
from vellum.capture.config import Politeness
from vellum.settings import Settings

PAGES = {
    "/": html('<a href="open.html">o</a><a href="private/secret.html">s</a>'),
    "/open.html": html("<p>open</p>"),
    "/private/secret.html": html("<p>secret</p>"),
}


def robots(text: str, status: str = "HTTP/1.1 200 OK") -> Reply:
    return Reply(text.encode(), "text/plain", status)


def test_disallow_is_obeyed_and_archived(crawl: CrawlFn, settings: Settings) -> None:
    routes = {**PAGES, "/robots.txt": robots("User-agent: *\nDisallow: /private/\n")}
    with Site(routes) as site:
        report = crawl(site.url, sitemaps=False)
        assert site.count("/private/secret.html") == 0
        assert site.count("/robots.txt") == 1
        assert site.count("/open.html") == 1
    assert report.stats.robots_blocked == 1
    assert report.robots_blocked == [site.url + "private/secret.html"]
    assert site.url + "robots.txt" in stored_urls(settings)
    warcinfo = next(b for t, _, _, b in _raw(settings) if t == "warcinfo")
    assert b"robots: obey (5xx or unreachable robots.txt: disallow)" in warcinfo


def test_group_for_vellum_wins_over_star(crawl: CrawlFn) -> None:
    text = "User-agent: *\nDisallow: /\n\nUser-agent: Vellum\nDisallow: /private/\n"
    with Site({**PAGES, "/robots.txt": robots(text)}) as site:
        crawl(site.url, sitemaps=False)
        assert site.count("/open.html") == 1
        assert site.count("/private/secret.html") == 0


@pytest.mark.parametrize("status", ["HTTP/1.1 500 Internal Server Error", "HTTP/1.1 503 Busy"])
def test_robots_5xx_disallows_by_default(crawl: CrawlFn, status: str) -> None:
    with Site({**PAGES, "/robots.txt": robots("oops", status)}) as site:
        report = crawl(site.url, sitemaps=False, politeness=Politeness(delay=0, retries=0))
        assert site.count("/") == 0
    assert report.stats.stored == 1  # the robots.txt response itself is archived
    assert report.errors == [f"{site.url}: robots.txt answered {status.split()[1]}"]


def test_robots_5xx_allow_is_configurable(crawl: CrawlFn, settings: Settings) -> None:
    routes = {**PAGES, "/robots.txt": robots("oops", "HTTP/1.1 500 Internal Server Error")}
    with Site(routes) as site:
        crawl(site.url, sitemaps=False, robots_unavailable="allow")
        assert site.count("/private/secret.html") == 1
    warcinfo = next(b for t, _, _, b in _raw(settings) if t == "warcinfo")
    assert b"robots: obey (5xx or unreachable robots.txt: allow)" in warcinfo


def test_robots_404_allows_everything_and_ignore_robots(crawl: CrawlFn, settings: Settings) -> None:
    with Site(dict(PAGES)) as site:  # no robots.txt: 404
        crawl(site.url, sitemaps=False)
        assert site.count("/private/secret.html") == 1
    routes = {**PAGES, "/robots.txt": robots("User-agent: *\nDisallow: /\n")}
    with Site(routes) as site:
        report = crawl(site.url, sitemaps=False, ignore_robots=True)
        assert site.count("/robots.txt") == 0
        assert site.count("/private/secret.html") == 1
    assert report.stats.robots_blocked == 0
    warcinfo = [b for t, _, _, b in _raw(settings) if t == "warcinfo"][-1]
    assert b"robots: ignore (--ignore-robots)" in warcinfo


def test_crawl_delay_spaces_requests(crawl: CrawlFn) -> None:
    routes = {
        "/": html("".join(f'<a href="p{i}.html">{i}</a>' for i in range(4))),
        **{f"/p{i}.html": html("<p>x</p>") for i in range(4)},
        "/robots.txt": robots("User-agent: *\nCrawl-delay: 0.3\n"),
    }
    with Site(routes) as site:
        crawl(site.url, sitemaps=False, politeness=FAST)
        pages = [t for path, t in zip(site.log, site.times, strict=True) if path != "/robots.txt"]
    gaps = [b - a for a, b in itertools.pairwise(pages)]
    assert len(pages) == 5
    assert min(gaps) >= 0.25, gaps  # per_host=4 and delay 0, yet one request per 0.3 s


def test_sitemaps_from_robots_and_default_location(crawl: CrawlFn) -> None:
    sitemap = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>{base}hidden.html</loc></url><url><loc>http://elsewhere.invalid/x</loc></url>"
        "</urlset>"
    )
    index = (
        '<?xml version="1.0"?><sitemapindex><sitemap><loc>{base}more.xml.gz</loc></sitemap>'
        "</sitemapindex>"
    )
    more = "<urlset><url><loc>{base}from-gz.html</loc></url></urlset>"
    with Site() as site:
        base = site.url
        site.routes.update(
            {
                "/": html("<p>no links</p>"),
                "/robots.txt": robots(f"User-agent: *\nSitemap: {base}listed.xml\n"),
                "/listed.xml": Reply(index.format(base=base).encode(), "application/xml"),
                "/more.xml.gz": Reply(
                    gzip.compress(more.format(base=base).encode()), "application/x-gzip"
                ),
                "/sitemap.xml": Reply(sitemap.format(base=base).encode(), "application/xml"),
                "/hidden.html": html("<p>only in the sitemap</p>"),
                "/from-gz.html": html("<p>only in the gzipped sitemap</p>"),
            }
        )
        report = crawl(site.url)
        assert site.count("/hidden.html") == 1
        assert site.count("/from-gz.html") == 1
    assert report.stats.scope_reasons["out of scope"] == 1  # elsewhere.invalid


def _raw(settings: Settings) -> list[tuple[str, dict[str, str], object, bytes]]:
    from warcio.archiveiterator import ArchiveIterator

    out = []
    for path in sorted(settings.warc_dir("coll").glob("*.warc.gz")):
        with path.open("rb") as f:
            for r in ArchiveIterator(f):
                out.append(
                    (r.rec_type, dict(r.rec_headers.headers), None, r.content_stream().read())
                )
    return out


def test_robots_rules_expire_after_a_day() -> None:
    """RFC 9309 §2.4: a robots.txt is not used for more than 24 hours; then it is
    fetched again and its new rules apply."""
    import asyncio

    from vellum.capture.http import HttpClient
    from vellum.capture.robots import MAX_AGE, RobotsCache
    from vellum.capture.safety import AddressGuard

    now = [1000.0]
    routes = {**PAGES, "/robots.txt": robots("User-agent: *\nDisallow: /private/\n")}
    with Site(routes) as site:

        async def ask() -> list[bool]:
            client = HttpClient("Vellum-test", AddressGuard(allow_private=True))
            cache = RobotsCache(client.get, clock=lambda: now[0])
            answers = []
            try:
                for step in (0.0, MAX_AGE - 1, 2.0, 10.0):
                    now[0] += step
                    if step == 2.0:  # the site changed its robots.txt meanwhile
                        site.routes["/robots.txt"] = robots("User-agent: *\nDisallow: /\n")
                    rules = await cache.rules_for(site.url + "open.html")
                    answers.append(rules.allowed(site.url + "open.html", cache.token))
            finally:
                await client.close()
            return answers

        answers = asyncio.run(ask())
        assert site.count("/robots.txt") == 2  # once, then again after 24 h
    assert answers == [True, True, False, False]
