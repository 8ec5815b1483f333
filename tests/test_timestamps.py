from datetime import UTC, datetime

import pytest

from vellum.urls.timestamps import (
    banner_date,
    from_timestamp,
    http_date,
    pad_high,
    pad_low,
    to_timestamp,
    warc_date,
)

WHEN = datetime(2015, 12, 29, 23, 14, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("partial", "low", "high"),
    [
        ("2015", "20150101000000", "20151231235959"),
        ("201502", "20150201000000", "20150228235959"),
        ("201602", "20160201000000", "20160229235959"),
        ("2015122923", "20151229230000", "20151229235959"),
        ("20151229231410", "20151229231410", "20151229231410"),
        ("1", "1000" + "0101000000", "1999" + "1231235959"),
    ],
)
def test_padding(partial: str, low: str, high: str) -> None:
    assert pad_low(partial) == low
    assert pad_high(partial) == high


def test_forms_of_one_instant() -> None:
    assert to_timestamp(WHEN) == "20151229231410"
    assert from_timestamp("20151229231410") == WHEN
    assert warc_date(WHEN) == "2015-12-29T23:14:10Z"
    assert http_date(WHEN) == "Tue, 29 Dec 2015 23:14:10 GMT"
    assert banner_date(WHEN) == "23:14:10 Dec 29, 2015"
    assert banner_date(datetime(2016, 3, 5, 1, 2, 3, tzinfo=UTC)) == "01:02:03 Mar 5, 2016"


@pytest.mark.parametrize("bad", ["", "2015a", "123456789012345", "２０１５"])
def test_rejects_non_timestamps(bad: str) -> None:
    with pytest.raises(ValueError):
        pad_low(bad)
