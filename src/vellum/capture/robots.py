"""robots.txt per scheme, host and port (RFC 9309), parsed by Protego."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from protego import Protego

from vellum.capture.fetch import FetchError
from vellum.warc.encoding import decode_content
from vellum.warc.exchange import HttpExchange

MAX_ROBOTS_BYTES = 500 * 1024
MAX_REDIRECTS = 5
PRODUCT_TOKEN = "vellum"  # the user-agent name robots.txt groups are matched against

Fetcher = Callable[[str], HttpExchange]


@dataclass(frozen=True)
class RobotsRules:
    """The outcome of fetching one robots.txt."""

    parser: Protego | None  # None: no rules apply
    allow_all: bool
    error: str | None = None  # why everything is disallowed, if it is

    def allowed(self, url: str, user_agent: str) -> bool:
        if self.parser is None:
            return self.allow_all
        return bool(self.parser.can_fetch(url, user_agent))


class RobotsPolicy:
    """Fetches robots.txt once per origin and answers whether a URL may be fetched.

    2xx: the file's rules; 4xx: no restrictions; 5xx or a network failure: everything
    disallowed (RFC 9309 §2.3.1). Every robots.txt response is handed to `on_fetch` so
    it can be archived like any other exchange.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        product_token: str,
        on_fetch: Callable[[HttpExchange], None] = lambda _ex: None,
    ) -> None:
        self._fetch = fetcher
        self._token = product_token
        self._on_fetch = on_fetch
        self._rules: dict[str, RobotsRules] = {}

    def rules_for(self, url: str) -> RobotsRules:
        origin = _origin(url)
        if origin not in self._rules:
            self._rules[origin] = self._load(origin + "/robots.txt")
        return self._rules[origin]

    def allowed(self, url: str) -> bool:
        return self.rules_for(url).allowed(url, self._token)

    def _load(self, robots_url: str) -> RobotsRules:
        url = robots_url
        for _ in range(MAX_REDIRECTS + 1):
            try:
                exchange = self._fetch(url)
            except FetchError as exc:
                return RobotsRules(None, allow_all=False, error=str(exc))
            self._on_fetch(exchange)
            status = exchange.status
            if 300 <= status < 400 and exchange.header("Location"):
                url = urljoin(url, exchange.header("Location") or "")
                continue
            if 200 <= status < 300:
                body = decode_content(exchange.body, exchange.header("Content-Encoding"))
                text = body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
                return RobotsRules(Protego.parse(text), allow_all=True)
            if 400 <= status < 500:
                return RobotsRules(None, allow_all=True)
            return RobotsRules(None, allow_all=False, error=f"robots.txt answered {status}")
        return RobotsRules(None, allow_all=True)  # too many redirects: treat as unavailable (4xx)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1].lower()}"
