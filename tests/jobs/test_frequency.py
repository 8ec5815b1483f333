"""Frequencies: calendar-correct months (month ends, leap years), the next slot after now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vellum.errors import InvalidInput
from vellum.jobs.frequency import FREQUENCIES, add_months, check_frequency, next_slot, slot


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (at(2025, 1, 31), 1, at(2025, 2, 28)),
        (at(2024, 1, 31), 1, at(2024, 2, 29)),  # leap year
        (at(2024, 1, 31), 2, at(2024, 3, 31)),
        (at(2024, 1, 31), 3, at(2024, 4, 30)),
        (at(2024, 2, 29), 12, at(2025, 2, 28)),
        (at(2024, 2, 29), 48, at(2028, 2, 29)),
        (at(2025, 8, 31), 6, at(2026, 2, 28)),
        (at(2025, 11, 30), 2, at(2026, 1, 30)),
        (at(2025, 12, 15, 9, 30), 1, at(2026, 1, 15, 9, 30)),
    ],
)
def test_add_months_clamps_to_month_end(start: datetime, months: int, expected: datetime) -> None:
    assert add_months(start, months) == expected


def test_monthly_slots_come_back_to_the_31st() -> None:
    anchor = at(2025, 1, 31, 6)
    days = [slot(anchor, "monthly", k).day for k in range(12)]
    assert days == [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


@pytest.mark.parametrize(
    ("frequency", "after", "expected"),
    [
        ("12-hourly", at(2025, 1, 1, 13), at(2025, 1, 2, 0)),
        ("daily", at(2025, 1, 1, 0), at(2025, 1, 2, 0)),  # strictly after
        ("daily", at(2025, 3, 9, 23, 59), at(2025, 3, 10, 0)),
        ("weekly", at(2025, 1, 20), at(2025, 1, 22, 0)),
        ("monthly", at(2025, 2, 1), at(2025, 3, 1)),
        ("bi-monthly", at(2025, 2, 1), at(2025, 3, 1)),
        ("quarterly", at(2025, 4, 1), at(2025, 7, 1)),
        ("semi-annual", at(2025, 1, 1), at(2025, 7, 1)),
        ("annual", at(2029, 6, 1), at(2030, 1, 1)),
    ],
)
def test_next_slot_after(frequency: str, after: datetime, expected: datetime) -> None:
    assert next_slot(at(2025, 1, 1), frequency, after) == expected


def test_next_slot_from_a_leap_day_anchor() -> None:
    anchor = at(2024, 2, 29, 12)
    assert next_slot(anchor, "annual", at(2024, 3, 1)) == at(2025, 2, 28, 12)
    assert next_slot(anchor, "annual", at(2027, 3, 1)) == at(2028, 2, 29, 12)
    assert next_slot(anchor, "monthly", at(2024, 3, 29, 12)) == at(2024, 4, 29, 12)


def test_next_slot_before_the_anchor_is_the_anchor() -> None:
    assert next_slot(at(2025, 5, 1), "weekly", at(2025, 4, 1)) == at(2025, 5, 1)


def test_one_time_has_no_next_slot() -> None:
    assert next_slot(at(2025, 1, 1), "one-time", at(2026, 1, 1)) is None


def test_next_slot_after_many_years_is_exact() -> None:
    anchor = at(2020, 1, 31)
    after = at(2031, 5, 17)
    got = next_slot(anchor, "monthly", after)
    assert got == at(2031, 5, 31)
    got = next_slot(anchor, "12-hourly", after + timedelta(seconds=1))
    assert got == at(2031, 5, 17, 12)


def test_frequency_names() -> None:
    assert FREQUENCIES == (
        "one-time", "12-hourly", "daily", "weekly", "monthly", "bi-monthly",
        "quarterly", "semi-annual", "annual",
    )  # fmt: skip
    assert check_frequency(" Bi-Monthly ") == "bi-monthly"
    assert check_frequency("semi annual") == "semi-annual"
    with pytest.raises(InvalidInput, match="unknown frequency 'hourly'"):
        check_frequency("hourly")
