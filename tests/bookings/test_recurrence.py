"""Recurrence expanded in local time: 10:00 stays 10:00 across DST changes."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bookings.recurrence import MAX_OCCURRENCES, RecurrenceError, expand

TZ = "Europe/Bucharest"


def test_weekly_session_keeps_its_local_hour_across_spring_forward():
    # Thursdays 10:00-12:00 from 12 March 2026; the clocks go forward on Sunday 29 March.
    spans = expand("FREQ=WEEKLY;COUNT=4", datetime(2026, 3, 12, 10), datetime(2026, 3, 12, 12), TZ)
    assert [s.astimezone(UTC).hour for s, _ in spans] == [8, 8, 8, 7]  # 2 April is after the change
    assert all(s.astimezone(ZoneInfo(TZ)).hour == 10 for s, _ in spans)


def test_weekly_session_across_fall_back():
    spans = expand("FREQ=WEEKLY;COUNT=2", datetime(2026, 10, 22, 10), datetime(2026, 10, 22, 11), TZ)
    assert [s for s, _ in spans] == [datetime(2026, 10, 22, 7, tzinfo=UTC), datetime(2026, 10, 29, 8, tzinfo=UTC)]


def test_byday_and_interval():
    spans = expand(
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=4", datetime(2026, 11, 2, 9), datetime(2026, 11, 2, 10), TZ
    )
    days = [s.astimezone(UTC).date().isoformat() for s, _ in spans]
    assert days == ["2026-11-02", "2026-11-04", "2026-11-16", "2026-11-18"]


def test_monthly_bymonthday_and_until_as_local_date():
    spans = expand(
        "FREQ=MONTHLY;BYMONTHDAY=15;UNTIL=20270315", datetime(2026, 11, 15, 9), datetime(2026, 11, 15, 10), TZ
    )
    assert len(spans) == 5  # Nov, Dec, Jan, Feb, Mar: UNTIL's day is included


def test_until_in_utc():
    spans = expand("FREQ=DAILY;UNTIL=20261103T080000Z", datetime(2026, 11, 1, 10), datetime(2026, 11, 1, 11), TZ)
    assert len(spans) == 3  # 08:00Z on the 3rd is exactly 10:00 local


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=HOURLY;COUNT=3", "FREQ"),
        ("FREQ=WEEKLY;COUNT=521", str(MAX_OCCURRENCES)),
        ("FREQ=DAILY", str(MAX_OCCURRENCES)),
        ("FREQ=WEEKLY;COUNT=0", "COUNT"),
        ("FREQ=WEEKLY;COUNT=99999999999", "COUNT"),
        ("FREQ=WEEKLY;COUNT=2;UNTIL=20270101", "not both"),
        ("FREQ=WEEKLY;BYSETPOS=1;COUNT=2", "not supported"),
        ("FREQ=WEEKLY;BYDAY=XX;COUNT=2", "cannot"),
        ("FREQ=WEEKLY;UNTIL=20261345", "real date"),
        ("FREQ=WEEKLY;UNTIL=2020", "UNTIL"),
        ("FREQ=WEEKLY;UNTIL=20200101", "no occurrence"),
        ("garbage", "cannot read"),
        ("", "RRULE"),
        ("FREQ=WEEKLY;COUNT=2;COUNT=3", "twice"),
    ],
)
def test_bad_rules(rule, message):
    with pytest.raises(RecurrenceError, match=message):
        expand(rule, datetime(2026, 11, 2, 9), datetime(2026, 11, 2, 10), TZ)


def test_occurrence_in_the_skipped_hour_is_refused():
    with pytest.raises(RecurrenceError, match="does not exist"):
        expand("FREQ=WEEKLY;COUNT=3", datetime(2026, 3, 15, 3, 30), datetime(2026, 3, 15, 4, 30), TZ)
