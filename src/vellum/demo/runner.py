"""`vellum demo`: crawl the bundled partner directory, then replay it."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console

from vellum.capture.crawler import LOCAL_POLITENESS, Crawler
from vellum.catalog import Catalog, Collection
from vellum.cli.progress import CrawlProgress
from vellum.clock import Clock, system_clock
from vellum.demo.site_server import DemoSite
from vellum.errors import NotFound
from vellum.index.store import open_index
from vellum.settings import Settings
from vellum.urls.wayback import replay_path
from vellum.warc.writer import IdFactory, uuid_record_id

ORGANIZATION = "United Nations Educational, Scientific and Cultural Organization (UNESCO)"
ACRONYM = "UNESCO"
SLUG = "unesco"
TITLE = "UNESCO"
DESCRIPTION = (
    "UNESCO's directory of partner organizations: non-governmental organizations and "
    "foundations in official partnership with UNESCO, archived at its request."
)
AIMF_PATH = "partners/aimf.html"
PREFERRED_SITE_PORT = 8765  # a stable port keeps archived URLs stable across runs
DEPTH = 3


@dataclass(frozen=True)
class DemoCapture:
    collection: Collection
    site_url: str
    aimf_url: str  # the live URL that was archived
    aimf_path: str  # its replay path, such as /unesco/20151229231410/http://…


def prepare_collection(catalog: Catalog) -> Collection:
    """The UNESCO organization and collection, created on the first run."""
    try:
        catalog.find_organization(ACRONYM)
    except NotFound:
        catalog.create_organization(ORGANIZATION, ACRONYM)
    try:
        return catalog.get_collection(SLUG)
    except NotFound:
        return catalog.create_collection(SLUG, ACRONYM, TITLE, DESCRIPTION)


def capture_demo(
    settings: Settings,
    catalog: Catalog,
    console: Console,
    clock: Clock = system_clock,
    record_id: IdFactory = uuid_record_id,
) -> DemoCapture:
    """Start the demo site, crawl it into the UNESCO collection, stop the site."""
    collection = prepare_collection(catalog)
    site = DemoSite(port=PREFERRED_SITE_PORT)
    try:
        site.start()
    except OSError:
        site = DemoSite(port=0)
        site.start()
    site_url = site.url
    try:
        console.print(f"Demo site running at {site_url}")
        with CrawlProgress(console) as progress:
            crawler = Crawler(
                settings, catalog, clock=clock, record_id=record_id, observer=progress.update
            )
            report = crawler.crawl(SLUG, [site_url], DEPTH, politeness=LOCAL_POLITENESS)
    finally:
        site.stop()
    from vellum.search.feed import update_search_index

    update_search_index(settings, catalog, SLUG)  # the demo collection is searchable
    console.print(
        f"Captured {report.fetched} URLs into {', '.join(report.warc_files)}; demo site stopped.",
        soft_wrap=True,
    )
    aimf_url = site_url + AIMF_PATH
    index = open_index(settings.index_dir(SLUG), settings.warc_dir(SLUG))
    latest = [c for c in index.captures(aimf_url) if c.url == aimf_url][-1]
    index.close()
    return DemoCapture(
        collection=collection,
        site_url=site_url,
        aimf_url=aimf_url,
        aimf_path=replay_path(SLUG, latest.timestamp, aimf_url),
    )


def run_demo(
    settings: Settings,
    catalog: Catalog,
    console: Console,
    host: str = "127.0.0.1",
    port: int = 8080,
) -> None:
    """The whole demo: capture, then serve replay until Ctrl-C."""
    from vellum.replay.app import create_app
    from vellum.replay.server import bind_pair, serve, with_origins

    # Fail early, before crawling, if a port is taken.
    ui_sock, replay_sock = bind_pair(host, port, None)
    try:
        settings = with_origins(settings, host, ui_sock, replay_sock)
        capture = capture_demo(settings, catalog, console)
    except BaseException:
        ui_sock.close()
        replay_sock.close()
        raise
    console.print(
        f"Vellum running on {settings.ui_origin}/ (archived pages from "
        f"{settings.replay_origin})  (Ctrl-C stops)",
        markup=False,
        highlight=False,
    )
    console.print("The archived AIMF page:")
    console.print(
        f"  {settings.ui_origin}{capture.aimf_path}", markup=False, highlight=False, soft_wrap=True
    )
    serve(create_app(settings, catalog), ui_sock, replay_sock)
