"""Per-collection figures for the portal: captures, URLs, pages, first and last capture.

The index store keeps no counts, so they are computed by one pass over the collection's
index and kept until the index changes. "Changes" is read off the index directory
(every file's name, size and modification time): a crawl or import in another process
changes it too. While a crawl is writing, the directory changes all the time, so a
collection is not counted again before `slack` times as long as its last count took
(at most `max_stale` seconds): a small collection is always up to date, a huge one
spends at most one count in `slack + 1` of its time, and its figures lag that much.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from vellum.access.exclusions import View
from vellum.index.cdxj import Capture
from vellum.index.stamp import Stamp, index_stamp
from vellum.index.store import IndexStore

__all__ = ["CollectionStats", "PageEntry", "StatsCache", "count_captures"]

MAX_PAGES = 100  # pages kept for the collection page's list


@dataclass(frozen=True)
class PageEntry:
    """An HTML page of the collection: its URL, how often and when last captured."""

    url: str
    latest: str  # 14-digit timestamp
    count: int


@dataclass(frozen=True)
class CollectionStats:
    """What the portal says about a collection's captures."""

    captures: int = 0  # index entries (responses, revisits, resources...)
    urls: int = 0  # distinct URLs (SURT keys)
    pages: int = 0  # distinct URLs with a successful HTML capture
    first: str = ""  # 14-digit timestamp of the earliest capture, "" if none
    last: str = ""
    some_pages: tuple[PageEntry, ...] = field(default=())  # the first MAX_PAGES, by SURT
    counting: bool = False  # not counted yet: a first count is under way


def count_captures(captures: Iterable[Capture], max_pages: int = MAX_PAGES) -> CollectionStats:
    """The figures of captures sorted by SURT key (as an index yields them)."""
    total = urls = pages = 0
    first = last = ""
    some: list[PageEntry] = []
    key = ""
    page_url = page_latest = ""
    page_count = 0
    for c in captures:
        total += 1
        if not first or c.timestamp < first:
            first = c.timestamp
        if c.timestamp > last:
            last = c.timestamp
        if c.urlkey != key:
            if page_count:
                pages += 1
                if len(some) < max_pages:
                    some.append(PageEntry(page_url, page_latest, page_count))
            key, urls = c.urlkey, urls + 1
            page_url, page_latest, page_count = "", "", 0
        if c.mime.startswith(("text/html", "application/xhtml")) and c.status.startswith("2"):
            page_count += 1
            if c.timestamp >= page_latest:
                page_url, page_latest = c.url, c.timestamp
    if page_count:
        pages += 1
        if len(some) < max_pages:
            some.append(PageEntry(page_url, page_latest, page_count))
    return CollectionStats(total, urls, pages, first, last, tuple(some))


@dataclass(frozen=True)
class _Known:
    stamp: Stamp
    fresh_until: float  # monotonic time; until then a changed index is not counted again
    took: float  # seconds the count took
    figures: CollectionStats


class StatsCache:
    """Figures per collection, counted again only when its index directory changed.

    A small collection (an index under `sync_bytes`, a count under `sync_seconds`) is
    counted in the request. A larger one is counted in a background thread: the page
    shows the last figures meanwhile, or says it is still counting the first time.
    """

    def __init__(
        self,
        index: Callable[[str], IndexStore],
        index_dir: Callable[[str], Path],
        slack: float = 20.0,
        max_stale: float = 60.0,
        sync_bytes: int = 32 * 1024 * 1024,
        sync_seconds: float = 0.25,
    ) -> None:
        self._index = index
        self._index_dir = index_dir
        self._slack = slack
        self._max_stale = max_stale
        self._sync_bytes = sync_bytes
        self._sync_seconds = sync_seconds
        self._known: dict[tuple[str, View | None], _Known] = {}
        self._counting: set[tuple[str, View | None]] = set()
        self._guard = threading.Lock()

    def stats(self, slug: str, view: View | None = None) -> CollectionStats:
        """The figures of one collection as `view` lets it be seen (exclusions, embargo).

        Give views that change seldom (an embargo's cutoff rounded to the day): each is
        counted and kept on its own.
        """
        stamp = index_stamp(self._index_dir(slug))
        key = (slug, view)
        known = self._known.get(key)
        if known is not None and (known.stamp == stamp or self._resting(known)):
            return known.figures
        size = sum(entry[1] for entry in stamp)
        slow = known.took > self._sync_seconds if known else size > self._sync_bytes
        if not slow:
            return self._count(key, stamp)
        with self._guard:
            start = key not in self._counting
            self._counting.add(key)
        if start:
            threading.Thread(
                target=self._count, args=(key, stamp), name=f"stats-{slug}", daemon=True
            ).start()
        return known.figures if known else CollectionStats(counting=True)

    def _resting(self, known: _Known) -> bool:
        """Figures of a slow count are kept a while even if the index changed meanwhile
        (a crawl changes it all the time); a quick count is simply made again."""
        return known.took > self._sync_seconds and time.monotonic() < known.fresh_until

    def _count(self, key: tuple[str, View | None], stamp: Stamp) -> CollectionStats:
        slug, view = key
        try:
            started = time.monotonic()
            figures = CollectionStats()
            if stamp:
                captures = self._index(slug).all()
                figures = count_captures(view.filter(captures) if view else captures)
            now = time.monotonic()
            took = now - started
            known = _Known(stamp, now + min(self._max_stale, self._slack * took), took, figures)
            with self._guard:
                if len(self._known) > 10_000:  # views of days gone by
                    self._known.clear()
                self._known[key] = known
            return figures
        finally:
            with self._guard:
                self._counting.discard(key)
