"""What Memento needs from the index: a memento's neighbours and pages of a TimeMap.

Every lookup is a seek into the sorted index on the URL's key (bounded work even for a
URL with hundreds of thousands of captures), never a read of all its captures.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from vellum.index.cdxj import Capture
from vellum.index.query import CdxQuery
from vellum.index.store import IndexStore
from vellum.replay.memento import TIMEMAP_PAGE, Neighbours, TimeMapPage
from vellum.urls.timestamps import pad_low

__all__ = ["neighbours", "timemap_page"]


def _first(captures: Iterator[Capture]) -> Capture | None:
    return next(captures, None)


def neighbours(store: IndexStore, capture: Capture) -> Neighbours:
    """The first, previous, next and last captures of the capture's URL key."""
    url, ts = capture.url, capture.timestamp
    first = _first(store.query(CdxQuery(url, limit=1)))
    last = _first(store.query(CdxQuery(url, reverse=True, limit=1)))
    prev = _first(c for c in store.query(CdxQuery(url, to_ts=ts, reverse=True)) if c.timestamp < ts)
    after = _first(c for c in store.query(CdxQuery(url, from_ts=ts)) if c.timestamp > ts)
    return Neighbours(first=first, prev=prev, next=after, last=last)


def timemap_page(
    store: IndexStore, url: str, start: str = "", size: int = TIMEMAP_PAGE
) -> TimeMapPage | None:
    """The page of the TimeMap of `url` that starts at timestamp `start` (1–14 digits).

    None when the URL has no capture at or after `start`. A page never splits the
    captures of one second between two pages (unless one second holds more than a page).
    """
    if size < 1:
        raise ValueError("a TimeMap page holds at least one memento")
    first = _first(store.query(CdxQuery(url, limit=1)))
    last = _first(store.query(CdxQuery(url, reverse=True, limit=1)))
    if first is None or last is None:
        return None
    begin = pad_low(start) if start else None
    stream = store.query(CdxQuery(url, from_ts=begin))
    captures = list(itertools.islice(stream, size))
    if not captures:
        return None
    following = _first(stream)
    next_start = following.timestamp if following is not None else None
    if following is not None and captures[-1].timestamp == following.timestamp:
        kept = [c for c in captures if c.timestamp != following.timestamp]
        if kept:
            captures = kept
        else:  # one second holds more than a page: the page is that whole second
            captures.append(following)
            next_start = None
            for c in stream:
                if c.timestamp != following.timestamp:
                    next_start = c.timestamp
                    break
                captures.append(c)
    prev_start = None
    if begin is not None and begin > first.timestamp:
        earlier = (
            c for c in store.query(CdxQuery(url, to_ts=begin, reverse=True)) if c.timestamp < begin
        )
        before = list(itertools.islice(earlier, size))
        prev_start = before[-1].timestamp if before else None
    return TimeMapPage(
        captures=captures,
        first_ts=first.timestamp,
        last_ts=last.timestamp,
        prev_start=prev_start,
        next_start=next_start,
        start=start,
    )
