"""What goes into the search index and what comes out of it, and the `SearchIndex` seam."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from vellum.search.query import ParsedQuery
from vellum.urls.wayback import replay_path

__all__ = [
    "FACETS",
    "SORTS",
    "Hidden",
    "Hit",
    "SearchDoc",
    "SearchIndex",
    "SearchRequest",
    "SearchResults",
    "doc_key",
]

FACETS = ("collection", "host", "year", "mime", "lang")
SORTS = ("relevance", "newest", "oldest")


def doc_key(collection: str, surt_key: str, digest: str) -> str:
    """One document per payload of a URL in a collection: captures with the same digest share it."""
    raw = f"{collection}\x00{surt_key}\x00{digest}".encode("utf-8", "surrogatepass")
    return hashlib.sha1(raw).hexdigest()


@dataclass
class SearchDoc:
    """One indexed payload of a URL, with every capture time that stored it."""

    collection: str
    url: str
    surt: str
    host: str
    digest: str
    timestamps: list[str]  # 14-digit, sorted, no duplicates
    mime: str = ""
    status: int = 0
    lang: str = ""
    title: str = ""
    main: str = ""  # the main text
    description: str = ""
    outlinks: int = 0
    boilerplate: str = ""  # the visible text outside the main content (see `Extracted`)

    @property
    def text(self) -> str:
        """All the visible text, main text first (the order of the page is not kept)."""
        return f"{self.main} {self.boilerplate}" if self.boilerplate else self.main

    @cached_property
    def key(self) -> str:
        return doc_key(self.collection, self.surt, self.digest)

    def merge_timestamps(self, more: Iterable[str]) -> None:
        """Add capture times (kept sorted and unique)."""
        self.timestamps = sorted(set(self.timestamps).union(more))


@dataclass(frozen=True)
class Hidden:
    """What one collection's exclusions and embargo hide from the one who searches.

    `prefixes` and `exact` are SURT keys (a URL is hidden if its key starts with a
    prefix or is an exact one); `cutoff` is a timestamp from which captures are under
    embargo ("": none): a document all of whose captures are that recent is hidden.
    """

    collection: str
    prefixes: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()
    cutoff: str = ""


@dataclass(frozen=True)
class SearchRequest:
    """A parsed query and how to present it; `collections` limits what may be seen.

    `hidden` takes what exclusions and embargoes hide out of the hits, their total and
    the facet counts alike.
    """

    query: ParsedQuery
    collections: Sequence[str] | None  # None: every collection (the operator)
    sort: str = "relevance"
    page: int = 1
    per_page: int = 10
    facets: bool = True
    hidden: Sequence[Hidden] = ()


@dataclass(frozen=True)
class Hit:
    """One search result: a payload of a URL and its captures."""

    collection: str
    url: str
    title: str
    snippet: str  # HTML: archived text escaped, matched words in <b>
    timestamps: tuple[str, ...]
    mime: str
    status: int
    lang: str
    host: str
    score: float

    @property
    def latest(self) -> str:
        return self.timestamps[-1]

    @property
    def replay_href(self) -> str:
        """The replay of the latest capture of this payload."""
        return replay_path(self.collection, self.latest, self.url)

    @property
    def versions_href(self) -> str:
        """Every capture of this URL."""
        return replay_path(self.collection, "*", self.url)

    def to_json(self) -> dict[str, object]:
        return {
            "collection": self.collection,
            "url": self.url,
            "title": self.title,
            "snippet": self.snippet,
            "timestamps": list(self.timestamps),
            "mime": self.mime,
            "status": self.status,
            "lang": self.lang,
            "host": self.host,
            "score": round(self.score, 4),
            "replay": self.replay_href,
            "versions": self.versions_href,
        }


@dataclass(frozen=True)
class SearchResults:
    """A page of hits, the total number of matches, and facet counts over all matches."""

    total: int
    page: int
    per_page: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


class SearchIndex(Protocol):
    """The full-text index seam: payloads in, ranked hits with facets out."""

    def get(self, key: str) -> SearchDoc | None:
        """The committed document with this key, if any (pending ones once committed)."""
        ...

    def upsert(self, doc: SearchDoc) -> None:
        """Add a document, merging capture times into one with the same key."""
        ...

    def add_capture(self, key: str, timestamp: str) -> bool:
        """Add a capture time to an existing document (a revisit); False if none."""
        ...

    def delete_collection(self, slug: str) -> None:
        """Remove every document of a collection (applied at the next commit)."""
        ...

    def commit(self) -> None:
        """Make every change durable and visible, all at once."""
        ...

    def search(self, request: SearchRequest) -> SearchResults:
        """Run a query."""
        ...

    def count(self) -> int:
        """How many documents are committed."""
        ...

    def close(self) -> None: ...
