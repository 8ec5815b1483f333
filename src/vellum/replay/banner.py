"""What the replay banner says: the capture, its neighbours and a calendar of versions.

The banner is rendered on the UI origin by the `_banner.html` template (autoescaped:
archived strings are HTML-escaped in text and attributes); archived URLs that become
part of an href are percent-encoded first by `archive_href`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from vellum.index.cdxj import Capture
from vellum.replay.lookup import iri_to_uri
from vellum.urls.timestamps import banner_date, from_timestamp

__all__ = ["BannerView", "CalendarYear", "MonthCell", "archive_href", "banner_view"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def archive_href(slug: str, timestamp: str, url: str, modifier: str = "") -> str:
    """A UI or replay path for a capture, safe in a URL (`"`, `<`, `>`, spaces escaped).

    The URL is encoded as the replay handler spells it (`iri_to_uri`: "//", "+" and
    existing escapes kept), so the frame's address needs no redirect.
    """
    return f"/{quote(slug, safe='')}/{timestamp}{modifier}/{iri_to_uri(url)}"


@dataclass(frozen=True)
class MonthCell:
    name: str
    count: int
    href: str  # the month's first capture ("" when none)


@dataclass(frozen=True)
class CalendarYear:
    year: int
    count: int
    months: tuple[MonthCell, ...]


@dataclass(frozen=True)
class BannerView:
    """Everything the banner shows, as plain values (escaped by the template)."""

    organization: str
    collection_title: str
    collection_href: str
    url: str
    timestamp: str
    captured: datetime
    versions_href: str
    prev_href: str = ""
    prev_when: str = ""
    next_href: str = ""
    next_when: str = ""
    total: int = 0
    calendar: tuple[CalendarYear, ...] = field(default_factory=tuple)

    @property
    def when(self) -> str:
        return banner_date(self.captured)


def banner_view(
    organization: str,
    collection_title: str,
    slug: str,
    capture: Capture,
    versions: list[Capture],
) -> BannerView:
    """The banner of `capture`, one of `versions` (every capture of its URL)."""
    stamps = sorted({c.timestamp for c in versions} | {capture.timestamp})
    index = stamps.index(capture.timestamp)
    prev_ts = stamps[index - 1] if index > 0 else ""
    next_ts = stamps[index + 1] if index + 1 < len(stamps) else ""
    by_stamp = {c.timestamp: c.url for c in versions}
    by_stamp[capture.timestamp] = capture.url

    def href(ts: str) -> str:
        return archive_href(slug, ts, by_stamp[ts]) if ts else ""

    def when(ts: str) -> str:
        return banner_date(from_timestamp(ts)) if ts else ""

    return BannerView(
        organization=organization,
        collection_title=collection_title,
        collection_href=f"/{quote(slug, safe='')}/",
        url=capture.url,
        timestamp=capture.timestamp,
        captured=from_timestamp(capture.timestamp),
        versions_href=f"/{quote(slug, safe='')}/*/{iri_to_uri(capture.url)}",
        prev_href=href(prev_ts),
        prev_when=when(prev_ts),
        next_href=href(next_ts),
        next_when=when(next_ts),
        total=len(versions) or 1,
        calendar=calendar(slug, versions or [capture]),
    )


def calendar(slug: str, versions: list[Capture]) -> tuple[CalendarYear, ...]:
    """Captures counted by year and month, newest year first; each month links its first."""
    counts: dict[int, list[int]] = {}
    firsts: dict[tuple[int, int], Capture] = {}
    for c in versions:
        year, month = int(c.timestamp[:4]), int(c.timestamp[4:6])
        counts.setdefault(year, [0] * 12)[month - 1] += 1
        first = firsts.get((year, month))
        if first is None or c.timestamp < first.timestamp:
            firsts[(year, month)] = c
    years = []
    for year in sorted(counts, reverse=True):
        months = tuple(
            MonthCell(
                name=_MONTHS[m],
                count=counts[year][m],
                href=(
                    archive_href(slug, firsts[(year, m + 1)].timestamp, firsts[(year, m + 1)].url)
                    if counts[year][m]
                    else ""
                ),
            )
            for m in range(12)
        )
        years.append(CalendarYear(year=year, count=sum(counts[year]), months=months))
    return tuple(years)
