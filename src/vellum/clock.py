"""Injectable clocks, so that captures written in tests are reproducible."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def frozen_clock(at: datetime) -> Clock:
    """A clock that always answers `at` (which must be timezone-aware)."""
    if at.tzinfo is None:
        raise ValueError("frozen_clock needs a timezone-aware datetime")

    def now() -> datetime:
        return at

    return now
