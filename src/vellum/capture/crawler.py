"""A first crawler: one request at a time, pages on the seeds' hosts, every page resource."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

from vellum import __version__
from vellum.capture.fetch import FetchError, FetchOptions, check_url, fetch
from vellum.capture.links import extract_css_links, extract_html_links
from vellum.capture.robots import PRODUCT_TOKEN, RobotsPolicy
from vellum.catalog import Catalog, Collection, Crawl
from vellum.clock import Clock, system_clock
from vellum.errors import InvalidInput, VellumError
from vellum.index.cdxj import make_capture
from vellum.index.importer import register_warc_file
from vellum.index.store import IndexStore, open_index
from vellum.settings import Settings
from vellum.urls.surt import surt
from vellum.warc.encoding import charset_of, decode_content
from vellum.warc.exchange import HttpExchange
from vellum.warc.writer import IdFactory, WarcFileWriter, uuid_record_id

PAGE, RESOURCE = "page", "resource"


@dataclass(frozen=True)
class CrawlEvent:
    """What the crawler tells its observer after each URL."""

    url: str
    status: int | None  # None when the fetch failed
    size: int
    queued: int  # URLs still waiting
    message: str = ""


@dataclass
class CrawlReport:
    crawl: Crawl
    fetched: int = 0
    failed: int = 0
    bytes: int = 0
    robots_blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warc_files: list[str] = field(default_factory=list)


Observer = Callable[[CrawlEvent], None]


class CrawlInterrupted(VellumError):
    """Ctrl-C during a crawl; what was stored is complete and indexed."""

    exit_code = 130


class SimpleCrawler:
    """Breadth-first crawl of one collection's seeds, one request at a time."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        clock: Clock = system_clock,
        record_id: IdFactory = uuid_record_id,
        observer: Observer = lambda _e: None,
    ) -> None:
        self._settings = settings
        self._catalog = catalog
        self._clock = clock
        self._record_id = record_id
        self._observer = observer
        self._options = FetchOptions(user_agent=settings.user_agent)

    def crawl(self, slug: str, seeds: list[str], depth: int) -> CrawlReport:
        """Crawl `seeds` into collection `slug`; pages up to `depth` links from a seed."""
        if depth < 0:
            raise InvalidInput("--depth must be 0 or more")
        if not seeds:
            raise InvalidInput("give at least one seed URL")
        seeds = [_normalize(check_url(s)) for s in seeds]
        collection = self._catalog.get_collection(slug)
        warc_dir = self._settings.warc_dir(slug)
        index_dir = self._settings.index_dir(slug)
        for directory in (warc_dir, index_dir):
            _ensure_writable(directory)
        index = open_index(index_dir, warc_dir)
        index.recover()
        crawl = self._catalog.start_crawl(collection, seeds, depth)
        writer = WarcFileWriter(
            warc_dir,
            prefix=f"VELLUM-{slug}",
            warcinfo=self._warcinfo(collection, crawl),
            clock=self._clock,
            record_id=self._record_id,
        )
        report = CrawlReport(crawl)
        run = _CrawlRun(self, writer, index, report, seeds, depth)
        status = "failed"
        try:
            run.run()
            status = "finished" if report.fetched else "failed"
        except KeyboardInterrupt:
            status = "interrupted"
        finally:
            writer.close()
            index.close()
            report.warc_files = [p.name for p in writer.files]
            for path in writer.files:
                register_warc_file(self._catalog, slug, path)
            report.crawl = self._catalog.finish_crawl(
                crawl.id, status, report.fetched, report.failed, report.bytes
            )
        if status == "interrupted":
            raise CrawlInterrupted(
                f"crawl interrupted: {report.fetched} URLs stored in "
                f"{len(report.warc_files)} WARC file(s), all indexed"
            )
        if not report.fetched:
            reason = report.errors[0] if report.errors else "every seed was blocked by robots.txt"
            raise VellumError(f"nothing captured: {reason}")
        return report

    def _warcinfo(self, collection: Collection, crawl: Crawl) -> dict[str, str]:
        return {
            "software": f"Vellum/{__version__}",
            "isPartOf": collection.slug,
            "description": f"Crawl {crawl.id} of collection {collection.title!r} "
            f"for {collection.organization.name}",
            "http-header-user-agent": self._options.user_agent,
            "robots": "obey (5xx or unreachable robots.txt: disallow)",
            "operator": collection.organization.name,
        }


class _CrawlRun:
    """The state of one crawl: queue, seen set, robots cache."""

    def __init__(
        self,
        crawler: SimpleCrawler,
        writer: WarcFileWriter,
        index: IndexStore,
        report: CrawlReport,
        seeds: list[str],
        depth: int,
    ) -> None:
        self._crawler = crawler
        self._writer = writer
        self._index = index
        self._report = report
        self._depth = depth
        self._hosts = {urlsplit(s).netloc.lower() for s in seeds}
        self._queue: deque[tuple[str, int, str]] = deque()
        self._seen: set[str] = set()  # SURT keys queued or fetched
        self._offered: set[str] = set()  # links as found, so each is normalized only once
        self._robots = RobotsPolicy(self._fetch, PRODUCT_TOKEN, on_fetch=self._store)
        for seed in seeds:
            self._enqueue(seed, 0, PAGE)

    def run(self) -> None:
        while self._queue:
            url, hops, kind = self._queue.popleft()
            self._visit(url, hops, kind)

    def _fetch(self, url: str) -> HttpExchange:
        return fetch(url, self._crawler._options, self._crawler._clock)

    def _store(self, exchange: HttpExchange) -> None:
        stored = self._writer.write_exchange(exchange)
        capture = make_capture(
            stored.url,
            stored.timestamp,
            stored.mime,
            stored.status,
            stored.payload_digest,
            stored.length,
            stored.offset,
            stored.filename,
        )
        self._index.append(stored.filename, [capture])
        self._report.fetched += 1
        self._report.bytes += len(exchange.body)

    def _enqueue(self, url: str, hops: int, kind: str) -> None:
        key = surt(url)
        if key in self._seen:
            return
        self._seen.add(key)
        self._queue.append((url, hops, kind))

    def _visit(self, url: str, hops: int, kind: str) -> None:
        rules = self._robots.rules_for(url)
        if not self._robots.allowed(url):
            if rules.error:
                self._fail(url, rules.error)
            else:
                self._report.robots_blocked.append(url)
                self._emit(CrawlEvent(url, None, 0, len(self._queue), "blocked by robots.txt"))
            return
        try:
            exchange = self._fetch(url)
        except FetchError as exc:
            self._fail(url, str(exc))
            return
        self._store(exchange)
        self._emit(CrawlEvent(url, exchange.status, len(exchange.body), len(self._queue)))
        self._follow(exchange, hops, kind)

    def _follow(self, exchange: HttpExchange, hops: int, kind: str) -> None:
        location = exchange.header("Location")
        if 300 <= exchange.status < 400 and location:
            target = _normalize(urljoin(exchange.url, location))
            if kind == RESOURCE or self._in_scope(target):
                self._enqueue(target, hops, kind)
            return
        if exchange.status >= 400:
            return
        mime = exchange.mime.lower()
        if mime not in ("text/html", "application/xhtml+xml", "text/css"):
            return
        body = decode_content(exchange.body, exchange.header("Content-Encoding"))
        charset = charset_of(exchange.header("Content-Type"))
        if mime == "text/css":
            for link in extract_css_links(body.decode(charset or "utf-8", "replace"), exchange.url):
                self._offer(link, hops, RESOURCE)
            return
        if kind == RESOURCE:
            return  # an HTML page used as a resource (an iframe's content is a page, below)
        links = extract_html_links(body, exchange.url, charset)
        for link in links.resources:
            self._offer(link, hops, RESOURCE)
        if hops < self._depth:
            for link in links.pages:
                self._offer(link, hops + 1, PAGE)

    def _offer(self, link: str, hops: int, kind: str) -> None:
        """Queue a link found in a document, unless it was offered before as the same kind.

        Breadth-first order means the first offer has the fewest hops, so later offers
        of the same link can be dropped before any parsing or SURT work.
        """
        token = kind + " " + link
        if token in self._offered:
            return
        self._offered.add(token)
        target = _normalize(link)
        if kind == RESOURCE or self._in_scope(target):
            self._enqueue(target, hops, kind)

    def _in_scope(self, url: str) -> bool:
        return urlsplit(url).netloc.lower() in self._hosts

    def _fail(self, url: str, message: str) -> None:
        self._report.failed += 1
        self._report.errors.append(f"{url}: {message}")
        self._emit(CrawlEvent(url, None, 0, len(self._queue), message))

    def _emit(self, event: CrawlEvent) -> None:
        self._crawler._observer(event)


def _normalize(url: str) -> str:
    """Drop the fragment; give an empty path its `/`."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def _ensure_writable(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise VellumError(f"cannot write to {path}: {exc.strerror}") from None
