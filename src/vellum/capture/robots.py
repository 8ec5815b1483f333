"""robots.txt per scheme, host and port (RFC 9309), parsed by Protego.

2xx: the file's rules; 3xx: followed (up to 5); 4xx: no restrictions; 5xx or a
network failure: everything disallowed, unless the crawl is configured to treat them
as "allow" (Heritrix's archival habit; the choice is recorded in warcinfo).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from protego import Protego

from vellum.capture.fetch import FetchError
from vellum.warc.encoding import decode_content
from vellum.warc.exchange import HttpExchange

MAX_ROBOTS_BYTES = 500 * 1024
MAX_REDIRECTS = 5
MAX_AGE = 24 * 3600.0  # seconds a fetched robots.txt is used (RFC 9309 §2.4: at most 24 h)
PRODUCT_TOKEN = "vellum"  # the user-agent name robots.txt groups are matched against

AsyncFetcher = Callable[[str], Awaitable[HttpExchange]]


@dataclass(frozen=True)
class RobotsRules:
    """The outcome of fetching one robots.txt."""

    parser: Protego | None  # None: no rules apply
    allow_all: bool
    error: str | None = None  # why everything is disallowed, if it is
    sitemaps: tuple[str, ...] = field(default=())

    def allowed(self, url: str, user_agent: str) -> bool:
        if self.parser is None:
            return self.allow_all
        return bool(self.parser.can_fetch(url, user_agent))

    def crawl_delay(self, user_agent: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(user_agent)
        return float(delay) if delay is not None else None


def parse_robots(exchange: HttpExchange) -> RobotsRules:
    """Rules from a 2xx robots.txt response."""
    body = decode_content(exchange.body, exchange.header("Content-Encoding"))
    text = body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
    parser = Protego.parse(text)
    sitemaps = tuple(urljoin(exchange.url, s) for s in parser.sitemaps)
    return RobotsRules(parser, allow_all=True, sitemaps=sitemaps)


_SIMPLE_ORIGIN = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#\s\\]*)(?=[/?#]|\Z)")


def origin_of(url: str) -> str:
    """`scheme://host:port` as the robots.txt cache keys it."""
    simple = _SIMPLE_ORIGIN.match(url)  # the common form, without urlsplit's cost
    if simple is not None:
        netloc = simple.group(2)
        return f"{simple.group(1).lower()}://{netloc.rsplit('@', 1)[-1].lower()}"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1].lower()}"


class RobotsCache:
    """Fetches robots.txt once per origin (concurrent askers wait for the one fetch).

    Every robots.txt response is handed to `on_fetch` so it can be archived. Rules are
    used for `max_age` seconds (by `clock`, monotonic), then fetched again.
    """

    def __init__(
        self,
        fetcher: AsyncFetcher,
        product_token: str = PRODUCT_TOKEN,
        on_fetch: Callable[[HttpExchange], None] = lambda _ex: None,
        unavailable_allows: bool = False,
        max_age: float = MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetcher
        self.token = product_token
        self._on_fetch = on_fetch
        self.unavailable_allows = unavailable_allows
        self.max_age = max_age
        self._clock = clock
        self._rules: dict[str, RobotsRules] = {}
        self._fetched: dict[str, float] = {}  # origin -> when its rules were had
        self._pending: dict[str, asyncio.Future[RobotsRules]] = {}

    def known(self, url: str) -> RobotsRules | None:
        """The rules for the URL's origin if already fetched (and not expired)."""
        return self._fresh(origin_of(url))

    def preload(self, origin: str, rules: RobotsRules) -> None:
        """Rules found another way (a resumed crawl reads them from its WARC); they
        expire `max_age` seconds from now."""
        self._rules[origin] = rules
        self._fetched[origin] = self._clock()

    def _fresh(self, origin: str) -> RobotsRules | None:
        rules = self._rules.get(origin)
        if rules is not None and self._clock() - self._fetched[origin] >= self.max_age:
            del self._rules[origin]
            return None
        return rules

    async def rules_for(self, url: str) -> RobotsRules:
        origin = origin_of(url)
        rules = self._fresh(origin)
        if rules is not None:
            return rules
        pending = self._pending.get(origin)
        if pending is not None:
            return await pending
        future: asyncio.Future[RobotsRules] = asyncio.get_running_loop().create_future()
        self._pending[origin] = future
        try:
            rules = await self._load(origin + "/robots.txt")
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here; askers get it raised
            raise
        finally:
            self._pending.pop(origin, None)
        self._rules[origin] = rules
        self._fetched[origin] = self._clock()
        future.set_result(rules)
        return rules

    def _unavailable(self, why: str) -> RobotsRules:
        if self.unavailable_allows:
            return RobotsRules(None, allow_all=True)
        return RobotsRules(None, allow_all=False, error=why)

    async def _load(self, robots_url: str) -> RobotsRules:
        url = robots_url
        for _ in range(MAX_REDIRECTS + 1):
            try:
                exchange = await self._fetch(url)
            except FetchError as exc:
                return self._unavailable(f"robots.txt unreachable: {exc}")
            self._on_fetch(exchange)
            status = exchange.status
            location = exchange.header("Location")
            if 300 <= status < 400 and location:
                url = urljoin(url, location)
                continue
            if 200 <= status < 300:
                return parse_robots(exchange)
            if 400 <= status < 500:
                return RobotsRules(None, allow_all=True)
            return self._unavailable(f"robots.txt answered {status}")
        return RobotsRules(None, allow_all=True)  # too many redirects: as unavailable (4xx)


def rules_from_record(path: str, offset: int, url: str) -> RobotsRules | None:
    """The rules a robots.txt response stored in a WARC gives (None unless 2xx or 4xx)."""
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as f:
        f.seek(offset)
        record = next(iter(ArchiveIterator(f)), None)
        if record is None or record.http_headers is None:
            return None
        status = int(record.http_headers.get_statuscode() or 0)
        if 400 <= status < 500:
            return RobotsRules(None, allow_all=True)
        if not 200 <= status < 300:
            return None
        body = record.content_stream().read(MAX_ROBOTS_BYTES)
    parser = Protego.parse(body.decode("utf-8", errors="replace"))
    sitemaps = tuple(urljoin(url, s) for s in parser.sitemaps)
    return RobotsRules(parser, allow_all=True, sitemaps=sitemaps)
