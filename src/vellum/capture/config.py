"""A crawl's configuration: seeds and scope, limits, politeness. Stored to resume a crawl."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from vellum.capture.http import Timeouts
from vellum.capture.scope import DEFAULT_MAX_HOPS, ScopeRules, Seed
from vellum.capture.traps import TrapLimits
from vellum.errors import InvalidInput
from vellum.warc.writer import ROTATE_BYTES


@dataclass(frozen=True)
class Limits:
    """Per crawl and per host; None: no limit."""

    documents: int | None = None
    bytes: int | None = None
    seconds: float | None = None
    host_documents: int | None = None
    host_bytes: int | None = None


DEFAULT_DELAY = 0.25
LOOPBACK_NAMES = ("localhost", "127.", "[::1]")


@dataclass(frozen=True)
class Politeness:
    """How hard a crawl may press servers."""

    concurrency: int = 16  # requests in flight, all hosts together
    per_host: int = 2  # requests in flight to one host
    # Seconds between requests to one host (or robots Crawl-delay, if larger). None: the
    # default, DEFAULT_DELAY, except for hosts on this machine (loopback), where it is 0.
    delay: float | None = None
    max_crawl_delay: float = 30.0  # a larger robots Crawl-delay is capped (and logged)
    retries: int = 2  # further attempts after 429/503 or a network error
    max_backoff: float = 300.0  # Retry-After beyond this is capped

    def delay_for(self, host: str) -> float:
        """The delay for `host` (`name:port` as in URLs)."""
        if self.delay is not None:
            return self.delay
        name = host.rsplit("@", 1)[-1]
        return 0.0 if name.startswith(LOOPBACK_NAMES) else DEFAULT_DELAY

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.per_host < 1:
            raise InvalidInput("concurrency limits must be at least 1")
        if self.delay is not None and self.delay < 0:
            raise InvalidInput("--delay must be 0 or more")


@dataclass(frozen=True)
class CrawlConfig:
    """Everything a crawl was started with."""

    seeds: tuple[Seed, ...]
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    include_re: tuple[str, ...] = ()
    exclude_re: tuple[str, ...] = ()
    max_hops: int = DEFAULT_MAX_HOPS
    limits: Limits = field(default_factory=Limits)
    politeness: Politeness = field(default_factory=Politeness)
    timeouts: Timeouts = field(default_factory=Timeouts)
    traps: TrapLimits = field(default_factory=TrapLimits)
    max_body: int = 200 * 1024 * 1024
    ignore_robots: bool = False
    robots_unavailable: str = "disallow"  # or "allow": what a 5xx/unreachable robots.txt means
    allow_private: bool = False
    sitemaps: bool = True
    dedup: bool = True
    rotate_bytes: int = ROTATE_BYTES
    # zlib level of the WARC members: 1 costs 40% of level 6's CPU for ~12% more bytes
    # on HTML, and compression is a large part of the crawler's work per page.
    gzip_level: int = 1

    def __post_init__(self) -> None:
        if not self.seeds:
            raise InvalidInput("give at least one seed URL")
        if self.robots_unavailable not in ("disallow", "allow"):
            raise InvalidInput("robots_unavailable must be 'disallow' or 'allow'")
        self.scope()  # validates the rules

    def scope(self) -> ScopeRules:
        return ScopeRules(
            self.seeds,
            self.include,
            self.exclude,
            self.include_re,
            self.exclude_re,
            self.max_hops,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CrawlConfig:
        nested = {
            "limits": Limits,
            "politeness": Politeness,
            "timeouts": Timeouts,
            "traps": TrapLimits,
        }
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for name, value in data.items():
            if name not in known:
                continue
            if name == "seeds":
                kwargs[name] = tuple(Seed(**s) for s in value)
            elif name in nested:
                kwargs[name] = nested[name](**value)
            elif isinstance(value, list):
                kwargs[name] = tuple(value)
            else:
                kwargs[name] = value
        return cls(**kwargs)
