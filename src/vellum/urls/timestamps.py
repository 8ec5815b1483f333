"""14-digit Wayback timestamps and the other date forms archives use."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_DIGITS = re.compile(r"^[0-9]{1,14}$")
# Upper bound of each digit position when padding a partial timestamp up.
_HIGH = "99991231235959"
_LOW = "00000101000000"


def to_timestamp(dt: datetime) -> str:
    """The 14-digit UTC timestamp (YYYYMMDDhhmmss) of an aware datetime."""
    return dt.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def from_timestamp(ts: str) -> datetime:
    """Parse a 1–14 digit timestamp, padding it down to the start of its period."""
    return datetime.strptime(pad_low(ts), "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def is_timestamp(text: str) -> bool:
    """True for 1 to 14 ASCII digits."""
    return bool(_DIGITS.match(text))


def pad_low(ts: str) -> str:
    """Pad a partial timestamp down to the first second of its period (`2015` → 20150101000000)."""
    _check(ts)
    padded = ts + _LOW[len(ts) :]
    return _clamp(padded)


def pad_high(ts: str) -> str:
    """Pad a partial timestamp up to the last second of its period (`2015` → 20151231235959)."""
    _check(ts)
    padded = ts + _HIGH[len(ts) :]
    return _clamp(padded)


def warc_date(dt: datetime) -> str:
    """W3C-DTF UTC form used in WARC-Date, to the second: 2015-12-29T23:14:10Z."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def http_date(dt: datetime) -> str:
    """RFC 1123 date in GMT, as HTTP and Memento use it."""
    return dt.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


def banner_date(dt: datetime) -> str:
    """The banner's form of a capture time: `23:14:10 Dec 29, 2015` (UTC)."""
    utc = dt.astimezone(UTC)
    return f"{utc:%H:%M:%S} {utc:%b} {utc.day}, {utc.year}"


def _check(ts: str) -> None:
    if not is_timestamp(ts):
        raise ValueError(f"not a timestamp of 1 to 14 digits: {ts!r}")


def _clamp(padded: str) -> str:
    """Clamp each field into its valid range (month 1–12, day within the month, …)."""
    year, month = int(padded[0:4]), int(padded[4:6])
    day, hour = int(padded[6:8]), int(padded[8:10])
    minute, second = int(padded[10:12]), int(padded[12:14])
    year = max(year, 1)
    month = min(max(month, 1), 12)
    day = min(max(day, 1), _days_in_month(year, month))
    hour, minute, second = min(hour, 23), min(minute, 59), min(second, 59)
    return f"{year:04d}{month:02d}{day:02d}{hour:02d}{minute:02d}{second:02d}"


def _days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    first_next = datetime(year, month + 1, 1)
    return (first_next - datetime(year, month, 1)).days
