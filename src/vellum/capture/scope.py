"""What a crawl may fetch: seed scopes as Archive-It offers them, rules, hops, limits.

Hop paths follow Heritrix: one letter per hop from the seed — `L` a link, `E` an
embedded resource, `R` a redirect, `P` a prerequisite (robots.txt), `S` a sitemap
entry. A URL's hop count is the number of `L` and `S` hops; `--max-hops` caps it.
Embeds are fetched from any host, but only up to two in a row (a page's stylesheet
and the images that stylesheet uses), as Heritrix's transclusion rule does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

from vellum.errors import InvalidInput
from vellum.urls.surt import surt

SCOPE_TYPES = ("page", "path", "host", "domain")
DEFAULT_MAX_HOPS = 20
MAX_EMBED_CHAIN = 2
MAX_REDIRECT_CHAIN = 10


def hop_count(path: str) -> int:
    """Link hops in a hop path (`LLE` → 2)."""
    return path.count("L") + path.count("S")


def trailing(path: str, letters: str) -> int:
    """How many of the last hops are among `letters`."""
    n = 0
    for letter in reversed(path):
        if letter not in letters:
            break
        n += 1
    return n


@dataclass(frozen=True)
class Seed:
    """A seed URL and how far around it the crawl may go."""

    url: str
    scope: str = "host"

    def __post_init__(self) -> None:
        if self.scope not in SCOPE_TYPES:
            raise InvalidInput(f"unknown scope {self.scope!r}; use one of {', '.join(SCOPE_TYPES)}")

    @cached_property
    def key(self) -> str:
        return surt(self.url)

    @cached_property
    def _host_key(self) -> str:
        return _host_part(self.key)

    def contains(self, key: str, host_key: str) -> bool:
        """Whether the URL with SURT `key` (host part `host_key`) is in this seed's scope."""
        seed_key = self.key
        seed_host = self._host_key
        if self.scope == "page":
            return key == seed_key
        if self.scope == "host":
            return host_key == seed_host
        if self.scope == "domain":
            bare = _strip_port(seed_host)
            mine = _strip_port(host_key)
            return mine == bare or mine.startswith(bare[:-1] + ",")
        # path: under the seed's directory
        path = seed_key[len(seed_host) :]
        directory = path[: path.rfind("/") + 1] if "/" in path else "/"
        return key.startswith(seed_host + directory) or key == seed_key


def _host_part(key: str) -> str:
    return key[: key.index(")") + 1] if ")" in key else key


def _strip_port(host_key: str) -> str:
    """`com,example:8080)` → `com,example)`."""
    if ":" in host_key:
        return host_key[: host_key.index(":")] + ")"
    return host_key


def surt_prefix(rule: str) -> str:
    """A rule given as a URL (`http://example.com/a/`) or as a SURT prefix (`com,example)/a`)."""
    if "://" in rule:
        key = surt(rule.strip())
        if rule.strip().endswith("/") and not key.endswith("/"):
            key += "/"  # surt drops a trailing slash; a directory prefix needs it
        return key
    return rule.strip().lower()


@dataclass(frozen=True)
class ScopeRules:
    """Seeds plus include/exclude rules (SURT prefixes or regexes on the URL) and max hops."""

    seeds: tuple[Seed, ...]
    include: tuple[str, ...] = ()  # SURT prefixes
    exclude: tuple[str, ...] = ()
    include_re: tuple[str, ...] = ()
    exclude_re: tuple[str, ...] = ()
    max_hops: int = DEFAULT_MAX_HOPS
    _inc: tuple[re.Pattern[str], ...] = field(default=(), compare=False, repr=False)
    _exc: tuple[re.Pattern[str], ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "include", tuple(surt_prefix(r) for r in self.include))
        object.__setattr__(self, "exclude", tuple(surt_prefix(r) for r in self.exclude))
        try:
            object.__setattr__(self, "_inc", tuple(re.compile(r) for r in self.include_re))
            object.__setattr__(self, "_exc", tuple(re.compile(r) for r in self.exclude_re))
        except re.error as exc:
            raise InvalidInput(f"bad regular expression {exc.pattern!r}: {exc}") from None
        if self.max_hops < 0:
            raise InvalidInput("--max-hops must be 0 or more")

    def excluded(self, url: str, key: str) -> bool:
        """Whether an exclude rule matches (excludes apply to embeds too)."""
        return any(key.startswith(p) for p in self.exclude) or any(r.search(url) for r in self._exc)

    def decide(self, url: str, key: str, path: str) -> str | None:
        """None if the URL at hop path `path` may be fetched, else why not."""
        if self.excluded(url, key):
            return "excluded by rule"
        last = path[-1:] if path else ""
        if last == "P":
            return None
        if last == "M":  # a sitemap: fetched wherever robots.txt says it is, not too nested
            return None if trailing(path, "M") <= 3 else "sitemap nesting too deep"
        embeds = trailing(path.rstrip("R"), "E")
        if embeds:
            return "embed chain too long" if embeds > MAX_EMBED_CHAIN else None
        if trailing(path, "R") > MAX_REDIRECT_CHAIN:
            return "too many redirects"
        if hop_count(path) > self.max_hops:
            return "too many hops"
        if self.in_scope(url, key):
            return None
        return "out of scope"

    def in_scope(self, url: str, key: str) -> bool:
        """Whether a seed scope or an include rule covers the URL."""
        host_key = _host_part(key)
        if any(s.contains(key, host_key) for s in self.seeds):
            return True
        return any(key.startswith(p) for p in self.include) or any(r.search(url) for r in self._inc)


def host_of(url: str) -> str:
    """`host:port` as the URL names it, lowercased (the politeness and limit unit)."""
    parts = url.split("/", 3)
    if len(parts) < 3 or not parts[0].endswith(":") or parts[1]:
        return urlsplit(url).netloc.rsplit("@", 1)[-1].lower()
    return parts[2].rsplit("@", 1)[-1].lower()
