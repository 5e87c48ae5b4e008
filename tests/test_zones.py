from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.zones import NonexistentLocalTime, is_valid_timezone, isoformat_local, to_utc

TZ = "Europe/Bucharest"


def test_naive_is_local_time_of_the_zone():
    assert to_utc(datetime(2026, 7, 1, 10, 0), TZ) == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)  # EEST +03
    assert to_utc(datetime(2026, 12, 1, 10, 0), TZ) == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # EET +02


def test_aware_keeps_its_instant():
    value = datetime(2026, 7, 1, 10, 0, tzinfo=timezone(timedelta(hours=5)))
    assert to_utc(value, TZ) == datetime(2026, 7, 1, 5, 0, tzinfo=UTC)


def test_skipped_hour_is_refused():
    with pytest.raises(NonexistentLocalTime):
        to_utc(datetime(2026, 3, 29, 3, 30), TZ)


def test_repeated_hour_takes_the_first():
    # 25 October 2026: 03:00-04:00 happens twice; the first is still +03:00.
    assert to_utc(datetime(2026, 10, 25, 3, 30), TZ) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize("value", [datetime(1999, 12, 31, 23, 0), datetime(2100, 1, 2), datetime(9999, 12, 31, 23)])
def test_far_dates_are_refused(value):
    with pytest.raises(ValueError):
        to_utc(value, TZ)


def test_output_carries_the_local_offset():
    assert isoformat_local(datetime(2026, 7, 1, 7, 0, tzinfo=UTC), TZ) == "2026-07-01T10:00:00+03:00"


def test_timezone_names():
    assert is_valid_timezone("Europe/Bucharest")
    assert not is_valid_timezone("Europe/Timisoara")
    assert not is_valid_timezone("../../etc/passwd")
