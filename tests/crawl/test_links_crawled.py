"""Every link source of issue 3 item 5 is followed, and redirects of every kind."""

from __future__ import annotations

import pytest

from tests.crawl.conftest import CrawlFn, records, stored_urls, warcio_check
from tests.crawl.server import Reply, Site, html
from vellum.settings import Settings

SOURCES = {
    "/a.html": '<a href="a-target.html">a</a>',
    "/area.html": '<map><area href="area-target.html"></map>',
    "/link.html": '<link rel="stylesheet" href="style.css"><link rel="icon" href="icon.ico">'
    '<link rel="preload" href="font.woff2" as="font">',
    "/img.html": '<img src="img.png" srcset="img-2x.png 2x, img-3x.png 3x">',
    "/picture.html": '<picture><source srcset="pic.webp" type="image/webp">'
    '<source src="pic-src.jpg"><img src="pic.jpg"></picture>',
    "/script.html": '<script src="app.js"></script>',
    "/iframe-host.html": '<iframe src="iframe.html"></iframe>',
    "/frameset.html": '<html><head></head><frameset><frame src="frame.html"></frameset></html>',
    "/media.html": '<video src="movie.mp4" poster="poster.jpg"></video><audio src="sound.mp3">'
    "</audio>",
    "/object.html": '<object data="object.swf"></object><embed src="embed.swf">',
    "/form.html": '<form action="search"><input name=q></form>'
    '<form method="post" action="post-only"></form>',
    "/refresh.html": '<meta http-equiv="refresh" content="0; url=refreshed.html">',
    "/base.html": '<base href="/based/"><a href="rel.html">r</a>',
    "/style-attr.html": '<div style="background: url(bg-attr.png)">x</div>',
    "/style-block.html": "<style>@import 'imported.css'; body { background: url(bg-block.png) }"
    "</style>",
}
EXPECTED = {
    "/a-target.html", "/area-target.html", "/style.css", "/icon.ico", "/font.woff2", "/img.png",
    "/img-2x.png", "/img-3x.png", "/pic.webp", "/pic-src.jpg", "/pic.jpg", "/app.js",
    "/iframe.html", "/frame.html", "/movie.mp4", "/poster.jpg", "/sound.mp3", "/object.swf",
    "/embed.swf", "/search?q=", "/refreshed.html", "/based/rel.html", "/bg-attr.png",
    "/bg-block.png", "/imported.css", "/css-url.png", "/css-imported.css",
}  # fmt: skip


def test_every_link_source_is_followed(crawl: CrawlFn, settings: Settings) -> None:
    index = "".join(f'<a href="{path}">{path}</a>' for path in SOURCES)
    routes: dict[str, Reply] = {"/": html(index)}
    routes.update({p: html(body) for p, body in SOURCES.items()})
    routes["/style.css"] = Reply(
        b"@import url('css-imported.css'); p { background: url(\"css-url.png\") }", "text/css"
    )
    with Site(routes) as site:
        crawl(site.url, sitemaps=False)
        logged = set(site.log)
    missing = {p for p in EXPECTED if p not in logged and p.split("?")[0] not in logged}
    assert not missing
    assert "/post-only" not in logged  # POST forms are not fetched
    metadata = [b for t, h, _, b in records(settings) if t == "metadata"]
    outlinks = b"".join(metadata)
    assert b"outlink: " in outlinks and b"hopsFromSeed: LE" in outlinks


def test_redirect_chains_loops_and_cross_host(crawl: CrawlFn, settings: Settings) -> None:
    with Site(host="127.0.0.2") as other:
        other.routes["/landing.html"] = html("<p>other host</p>")
        other.routes["/img.png"] = Reply(b"PNG", "image/png")
        routes = {
            "/": html(
                '<a href="r1">chain</a><a href="loop-a">loop</a><a href="away">away</a>'
                '<img src="img-away">'
            ),
            "/r1": Reply(status_line="HTTP/1.1 301 Moved", headers=(("Location", "/r2"),)),
            "/r2": Reply(status_line="HTTP/1.1 302 Found", headers=(("Location", "r3"),)),
            "/r3": html("<p>end of chain</p>"),
            "/loop-a": Reply(status_line="HTTP/1.1 302 Found", headers=(("Location", "/loop-b"),)),
            "/loop-b": Reply(status_line="HTTP/1.1 302 Found", headers=(("Location", "/loop-a"),)),
            "/away": Reply(
                status_line="HTTP/1.1 302 Found",
                headers=(("Location", other.url + "landing.html"),),
            ),
            "/img-away": Reply(
                status_line="HTTP/1.1 302 Found", headers=(("Location", other.url + "img.png"),)
            ),
        }
        with Site(routes) as site:
            report = crawl(site.url, sitemaps=False)
            assert site.count("/r3") == 1
            assert site.count("/loop-a") == 1 and site.count("/loop-b") == 1  # loop ends
        assert other.count("/img.png") == 1  # an embed redirected to another host: fetched
        assert other.count("/landing.html") == 0  # a page redirected off the host: not
    assert report.stats.by_status["301"] == 1
    urls = stored_urls(settings)
    assert len(urls) == len(set(urls))


def _source_site() -> dict[str, Reply]:
    padding = "<p>" + "x" * 2100 + "</p>"  # above MIN_WORKER_BYTES
    index = "".join(f'<a href="{p}">{p}</a>' for p in SOURCES)
    routes: dict[str, Reply] = {"/": html(index + padding)}
    routes.update({p: html(body + padding) for p, body in SOURCES.items()})
    return routes


def test_links_found_in_the_worker_process_are_the_same() -> None:
    """Once a crawl is large, HTML is parsed in a worker process: same links as here."""
    import asyncio

    from vellum.capture.extraction import Preparer
    from vellum.capture.http import HttpClient
    from vellum.capture.outlinks import outlinks
    from vellum.capture.safety import AddressGuard

    with Site(_source_site()) as site:

        async def compare() -> tuple[int, int]:
            client = HttpClient("Vellum-test", AddressGuard(allow_private=True))
            extractor = Preparer(inline_documents=0)
            same = 0
            try:
                for path in ["/", *SOURCES]:
                    exchange = await client.get(site.url + path.lstrip("/"))
                    found = await extractor.outlinks("L", exchange)
                    assert found == outlinks("L", exchange), path
                    same += bool(found)
            finally:
                extractor.close()
                await client.close()
            return same, extractor.sent

        same, sent = asyncio.run(compare())
    assert sent == len(SOURCES) + 1  # every page went to the worker
    assert same == len(SOURCES) + 1  # and every one has links


def test_crawl_with_the_worker_process_follows_every_link(
    crawl: CrawlFn, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vellum.capture import extraction

    monkeypatch.setattr(extraction, "INLINE_DOCUMENTS", 0)
    routes = _source_site()
    routes["/style.css"] = Reply(
        b"@import url('css-imported.css'); p { background: url(\"css-url.png\") }", "text/css"
    )
    with Site(routes) as site:
        crawl(site.url, sitemaps=False)
        logged = set(site.log)
    missing = {p for p in EXPECTED if p not in logged and p.split("?")[0] not in logged}
    assert not missing
    assert warcio_check(sorted((settings.warc_dir("coll")).glob("*.warc.gz"))).returncode == 0


def test_pages_beyond_the_worker_backlog_are_prepared_here_the_same_way() -> None:
    """While MAX_PENDING documents wait for the worker, the next ones are handled in this
    process (both cores stay busy); links and compressed records are the same."""
    import asyncio

    from vellum.capture.extraction import MAX_PENDING, Preparer
    from vellum.capture.grouping import Plan, make_group
    from vellum.capture.http import HttpClient
    from vellum.capture.safety import AddressGuard

    with Site(_source_site()) as site:

        async def prepare() -> tuple[int, int, list[bool]]:
            client = HttpClient("Vellum-test", AddressGuard(allow_private=True))
            extractor = Preparer(inline_documents=0)
            try:
                exchanges = [await client.get(site.url + p.lstrip("/")) for p in SOURCES]
                plans = [
                    Plan("L", site.url, f"<r{i}>", f"<q{i}>", f"<m{i}>", None, "", 1)
                    for i in range(len(exchanges))
                ]
                made = await asyncio.gather(
                    *(extractor.group(p, e) for p, e in zip(plans, exchanges, strict=True))
                )
            finally:
                extractor.close()
                await client.close()
            same = []
            for plan, exchange, (links, group) in zip(plans, exchanges, made, strict=True):
                want_links, want = make_group(plan, exchange)
                same.append(links == want_links and group.members == want.members)
            return len(exchanges), extractor.sent, same

        total, sent, same = asyncio.run(prepare())
    assert total > MAX_PENDING
    assert sent == MAX_PENDING  # the worker's backlog was full for all the others
    assert all(same)
