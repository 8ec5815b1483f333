"""Memento (RFC 7089): Accept-Datetime, the Link header of a memento, TimeMaps.

The roles map onto Wayback URLs as pywb maps them, all absolute:

- URI-R (original): the archived URL itself;
- URI-G (TimeGate): `<base>/<slug>/<url>`, answered with a 302 to the URI-M closest to
  the `Accept-Datetime` asked for (the latest without one), `Vary: accept-datetime`;
- URI-M (memento): `<base>/<slug>/<14-digit timestamp>/<url>`;
- URI-T (TimeMap): `<base>/<slug>/timemap/link/<url>` (link format, RFC 6690) and
  `<base>/<slug>/timemap/json/<url>` (pywb's: one JSON object per capture).

A TimeMap holds at most `TIMEMAP_PAGE` mementos. A larger one is paged: the next page of
the map of `<url>` starting at timestamp `T` is `<base>/<slug>/timemap/<format>/T/<url>`;
pages point at each other with `rel="timemap"` links carrying `from` and `until`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from vellum.errors import InvalidInput
from vellum.index.cdxj import Capture
from vellum.urls.timestamps import from_timestamp, http_date

__all__ = [
    "LINK_FORMAT",
    "TIMEMAP_PAGE",
    "MementoUris",
    "Neighbours",
    "TimeMapPage",
    "link_timemap",
    "memento_link",
    "paging_link",
    "parse_accept_datetime",
    "timegate_link",
    "timestamp_of",
]

TIMEMAP_PAGE = 10_000
LINK_FORMAT = "application/link-format"

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_RFC1123 = re.compile(
    r"^(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?([0-9]{1,2}) ("
    + "|".join(_MONTHS)
    + r") ([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT$"
)


def parse_accept_datetime(value: str) -> datetime:
    """The instant of an RFC 1123 `Accept-Datetime` (`Tue, 02 Jan 2024 03:04:05 GMT`).

    Raises InvalidInput (a 400, RFC 7089 §4.5.3) for anything else, naming the form.
    """
    match = _RFC1123.match(value.strip())
    if match:
        _, day, month, year, hour, minute, second = match.groups()
        try:
            return datetime(
                int(year),
                _MONTHS.index(month) + 1,
                int(day),
                int(hour),
                int(minute),
                int(second),
                tzinfo=UTC,
            )
        except ValueError:
            pass
    raise InvalidInput(
        f"Accept-Datetime must be an RFC 1123 date such as 'Tue, 02 Jan 2024 03:04:05 GMT', "
        f"not {value[:80]!r}"
    )


@dataclass(frozen=True)
class MementoUris:
    """The absolute URIs of one original resource in one collection."""

    base: str  # `http://host:port/<slug>/`
    url: str  # the URI-R

    def memento(self, timestamp: str) -> str:
        return f"{self.base}{timestamp}/{self.url}"

    @property
    def timegate(self) -> str:
        return f"{self.base}{self.url}"

    def timemap(self, fmt: str = "link", start: str = "") -> str:
        page = f"{start}/" if start else ""
        return f"{self.base}timemap/{fmt}/{page}{self.url}"


@dataclass(frozen=True)
class Neighbours:
    """The mementos around one: the first, previous, next and last of its URI-R."""

    first: Capture | None
    prev: Capture | None
    next: Capture | None
    last: Capture | None


def _date(timestamp: str) -> str:
    return http_date(from_timestamp(timestamp))


def timegate_link(uris: MementoUris) -> str:
    """The Link header of a TimeGate answer: the original and the TimeMap."""
    return f'<{uris.url}>; rel="original", <{uris.timemap()}>; rel="timemap"; type="{LINK_FORMAT}"'


def memento_link(uris: MementoUris, near: Neighbours) -> str:
    """The Link header of a memento: original, timegate, timemap and its neighbours.

    A memento that is several of first/prev/next/last at once gets one link with the
    relations combined (`rel="first prev memento"`), as RFC 7089 §2.2.1 allows.
    """
    parts = [
        f'<{uris.url}>; rel="original"',
        f'<{uris.timegate}>; rel="timegate"',
        f'<{uris.timemap()}>; rel="timemap"; type="{LINK_FORMAT}"',
    ]
    rels: dict[str, list[str]] = {}
    for rel, capture in (
        ("first", near.first),
        ("prev", near.prev),
        ("next", near.next),
        ("last", near.last),
    ):
        if capture is not None:
            rels.setdefault(capture.timestamp, []).append(rel)
    for timestamp, names in rels.items():
        parts.append(
            f'<{uris.memento(timestamp)}>; rel="{" ".join(names)} memento"; '
            f'datetime="{_date(timestamp)}"'
        )
    return ", ".join(parts)


@dataclass(frozen=True)
class TimeMapPage:
    """One page of a TimeMap: its mementos, and where the pages before and after start."""

    captures: Sequence[Capture]
    first_ts: str  # the first memento of the whole map
    last_ts: str  # the last memento of the whole map
    prev_start: str | None  # timestamp the previous page starts at
    next_start: str | None  # timestamp the next page starts at
    start: str  # the timestamp this page was asked from ("" for the first page)


def link_timemap(uris: MementoUris, page: TimeMapPage) -> Iterator[str]:
    """The TimeMap page in link format, one link per line (each line ends in `,\\n`)."""
    head = [f'<{uris.url}>; rel="original"']
    captures = page.captures
    frm, until = _date(captures[0].timestamp), _date(captures[-1].timestamp)
    head.append(
        f'<{uris.timemap("link", page.start)}>; rel="self"; type="{LINK_FORMAT}"; '
        f'from="{frm}"; until="{until}"'
    )
    head.append(f'<{uris.timegate}>; rel="timegate"')
    if page.prev_start is not None:
        head.append(
            f'<{uris.timemap("link", page.prev_start)}>; rel="prev timemap"; '
            f'type="{LINK_FORMAT}"; from="{_date(page.prev_start)}"'
        )
    if page.next_start is not None:
        head.append(
            f'<{uris.timemap("link", page.next_start)}>; rel="next timemap"; '
            f'type="{LINK_FORMAT}"; from="{_date(page.next_start)}"'
        )
    lines = iter(head)
    body = _memento_lines(uris, captures, page.first_ts, page.last_ts)
    previous: str | None = None
    for line in _chain(lines, body):
        if previous is not None:
            yield previous + ",\n"
        previous = line
    if previous is not None:
        yield previous + "\n"


def _memento_lines(
    uris: MementoUris, captures: Sequence[Capture], first_ts: str, last_ts: str
) -> Iterator[str]:
    for c in captures:
        rel = "memento"
        if c.timestamp == first_ts and c.timestamp == last_ts:
            rel = "first last memento"
        elif c.timestamp == first_ts:
            rel = "first memento"
        elif c.timestamp == last_ts:
            rel = "last memento"
        yield f'<{uris.memento(c.timestamp)}>; rel="{rel}"; datetime="{_date(c.timestamp)}"'


def _chain(*parts: Iterable[str]) -> Iterator[str]:
    for part in parts:
        yield from part


def paging_link(uris: MementoUris, fmt: str, page: TimeMapPage) -> str | None:
    """An HTTP Link header pointing at the pages around `page` (for formats without links)."""
    links = []
    if page.prev_start is not None:
        links.append(f'<{uris.timemap(fmt, page.prev_start)}>; rel="prev"')
    if page.next_start is not None:
        links.append(f'<{uris.timemap(fmt, page.next_start)}>; rel="next"')
    return ", ".join(links) or None


def timestamp_of(when: datetime) -> str:
    """The 14-digit timestamp of an aware datetime."""
    w = when.astimezone(UTC)
    return f"{w.year:04d}{w.month:02d}{w.day:02d}{w.hour:02d}{w.minute:02d}{w.second:02d}"
