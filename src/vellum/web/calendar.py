"""The calendar of a URL's captures: years, then months as week grids, then each capture."""

from __future__ import annotations

import calendar as cal
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["CaptureLink", "Day", "Month", "Year", "build_calendar"]

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class CaptureLink:
    """One capture: when (HH:MM:SS, UTC), its status and type, and where it replays."""

    timestamp: str
    time: str
    href: str
    status: str
    mime: str
    iso: str = ""  # 2015-12-29T23:14:10Z
    label: str = ""  # 23:14:10 Dec 29, 2015


@dataclass(frozen=True)
class Day:
    """A day of a month grid: 0 for the padding before the 1st and after the last day."""

    day: int
    captures: tuple[CaptureLink, ...]


@dataclass(frozen=True)
class Month:
    number: int
    name: str
    weeks: tuple[tuple[Day, ...], ...]  # Monday first, 7 days each
    count: int
    anchor: str  # "y2015-m12"

    @property
    def captures(self) -> list[tuple[int, CaptureLink]]:
        """(day, capture) for every capture of the month, in time order."""
        return [(d.day, c) for week in self.weeks for d in week for c in d.captures]


@dataclass(frozen=True)
class Year:
    year: int
    count: int
    months: tuple[Month, ...]  # only months with captures


def build_calendar(
    captures: Iterable[tuple[str, str, str]], href: Callable[[str], str]
) -> list[Year]:
    """Years (newest first) of (timestamp, status, mime) captures; `href(ts)` links each."""
    by_day: dict[tuple[int, int, int], list[CaptureLink]] = {}
    for timestamp, status, mime in sorted(captures):
        ts = (timestamp + "0" * 14)[:14]
        if not ts.isdigit():
            continue
        year, month, day = int(ts[:4]), int(ts[4:6]), int(ts[6:8])
        if not 1 <= month <= 12 or not 1 <= day <= cal.monthrange(year or 1, month)[1]:
            continue
        when = f"{ts[8:10]}:{ts[10:12]}:{ts[12:14]}"
        iso = f"{ts[:4]}-{ts[4:6]}-{ts[6:8]}T{when}Z"
        label = f"{when} {MONTHS[month - 1][:3]} {day}, {ts[:4]}"
        by_day.setdefault((year, month, day), []).append(
            CaptureLink(timestamp, when, href(timestamp), status, mime, iso, label)
        )
    by_month: dict[tuple[int, int], dict[int, list[CaptureLink]]] = {}
    for (y, m, d), links in by_day.items():
        by_month.setdefault((y, m), {})[d] = links
    years: list[Year] = []
    for year in sorted({y for y, _, _ in by_day}, reverse=True):
        months = []
        for month in range(1, 13):
            days = by_month.get((year, month), {})
            if not days:
                continue
            grid = cal.Calendar(firstweekday=0).monthdayscalendar(year or 1, month)
            weeks = tuple(tuple(Day(d, tuple(days.get(d, ()))) for d in week) for week in grid)
            count = sum(len(v) for v in days.values())
            months.append(Month(month, MONTHS[month - 1], weeks, count, f"y{year}-m{month:02d}"))
        years.append(Year(year, sum(m.count for m in months), tuple(months)))
    return years
