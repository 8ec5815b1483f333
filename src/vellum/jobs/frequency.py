"""How often a seed is crawled, and the calendar arithmetic of its schedule.

A recurring seed's runs fall on slots `anchor + k * period` (k = 0, 1, 2, ...). Periods of
a month or more move by calendar months, clamped to the month's last day (Jan 31 + 1
month = Feb 28, or 29 in a leap year), and always counted from the anchor, so a seed
anchored on the 31st comes back to the 31st in the months that have one.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta

from vellum.errors import InvalidInput

ONE_TIME = "one-time"
# name -> (fixed period, or None) and (months, or 0)
_PERIODS: dict[str, tuple[timedelta | None, int]] = {
    ONE_TIME: (None, 0),
    "12-hourly": (timedelta(hours=12), 0),
    "daily": (timedelta(days=1), 0),
    "weekly": (timedelta(weeks=1), 0),
    "monthly": (None, 1),
    "bi-monthly": (None, 2),
    "quarterly": (None, 3),
    "semi-annual": (None, 6),
    "annual": (None, 12),
}
FREQUENCIES = tuple(_PERIODS)


def check_frequency(name: str) -> str:
    """A known frequency name (case and spaces forgiven), or InvalidInput listing them."""
    key = name.strip().lower().replace(" ", "-").replace("_", "-")
    key = {"once": ONE_TIME, "onetime": ONE_TIME, "bimonthly": "bi-monthly"}.get(key, key)
    if key not in _PERIODS:
        raise InvalidInput(f"unknown frequency {name!r}: use one of {', '.join(FREQUENCIES)}")
    return key


def add_months(when: datetime, months: int) -> datetime:
    """`when` moved by calendar months, the day clamped to the end of the target month."""
    index = when.year * 12 + (when.month - 1) + months
    year, month = divmod(index, 12)
    day = min(when.day, calendar.monthrange(year, month + 1)[1])
    return when.replace(year=year, month=month + 1, day=day)


def slot(anchor: datetime, frequency: str, k: int) -> datetime:
    """The k-th run of a recurring schedule starting at `anchor`."""
    fixed, months = _PERIODS[check_frequency(frequency)]
    if fixed is not None:
        return anchor + k * fixed
    if months:
        return add_months(anchor, k * months)
    raise InvalidInput("a one-time seed has no schedule")


def next_slot(anchor: datetime, frequency: str, after: datetime) -> datetime | None:
    """The first slot of the schedule strictly after `after` (None for one-time seeds)."""
    fixed, months = _PERIODS[check_frequency(frequency)]
    if fixed is None and not months:
        return None
    if after < anchor:
        return anchor
    if fixed is not None:
        k = int((after - anchor) / fixed) + 1
    else:
        # A first guess by months elapsed, then exact steps (clamping can shift by a day).
        elapsed = (after.year - anchor.year) * 12 + after.month - anchor.month
        k = max(0, elapsed // months - 1)
    while slot(anchor, frequency, k) <= after:
        k += 1
    while k > 0 and slot(anchor, frequency, k - 1) > after:
        k -= 1
    return slot(anchor, frequency, k)


def recurring(frequency: str) -> bool:
    """Does this frequency come back (anything but one-time)?"""
    return check_frequency(frequency) != ONE_TIME


def utc(value: datetime) -> datetime:
    """A time read from the catalog, aware: SQLite drops the zone, and every time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
