"""Recurrence expanded in local time: 10:00 stays 10:00 across DST changes."""

from datetime import UTC, date, datetime, time
from itertools import islice
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from bookings import recurrence
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


# --- rules that never occur are refused at once --------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;INTERVAL=7;BYDAY=MO;COUNT=3",  # every 7 days from a Tuesday: never a Monday
        "FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=31;COUNT=2",  # every November: never a 31st
        "FREQ=DAILY;INTERVAL=14;BYMONTHDAY=31;BYDAY=MO;UNTIL=20300101",
    ],
)
def test_a_rule_that_never_occurs_is_refused_before_any_expansion(monkeypatch, rule):
    # dateutil would search until the year 9999 (seconds of server time): it must not be asked.
    def never(*args, **kwargs):
        raise AssertionError("dateutil was asked to expand a rule with no occurrence")

    monkeypatch.setattr(recurrence, "rrulestr", never)
    with pytest.raises(RecurrenceError) as refused:
        recurrence.expand(rule, datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 11), "Europe/Bucharest")
    assert str(refused.value.message) == "the rule produces no occurrence"


def test_an_endless_rule_is_refused_at_once(monkeypatch):
    monkeypatch.setattr(recurrence, "rrulestr", None)  # not reached
    with pytest.raises(RecurrenceError) as refused:
        recurrence.expand(
            "FREQ=MONTHLY;INTERVAL=12;BYDAY=5FR", datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 11), "UTC"
        )
    assert "COUNT" in str(refused.value.message)


@settings(max_examples=60, deadline=None)
@given(
    freq=st.sampled_from(["DAILY", "WEEKLY", "MONTHLY"]),
    interval=st.integers(1, 15),
    weekdays=st.lists(st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU"]), max_size=2, unique=True),
    ordinal=st.sampled_from(["", "", "1", "2", "-1", "5"]),
    monthdays=st.lists(st.sampled_from([1, 15, 28, 29, 30, 31, -1]), max_size=2, unique=True),
    start=st.dates(date(2026, 1, 1), date(2030, 12, 31)),
    years=st.integers(0, 3),
)
def test_the_occurrence_check_agrees_with_dateutil(freq, interval, weekdays, ordinal, monthdays, start, years):
    byday = ",".join(f"{ordinal if freq == 'MONTHLY' else ''}{w}" for w in weekdays)
    parts = {"FREQ": freq, "INTERVAL": str(interval)}
    if byday:
        parts["BYDAY"] = byday
    if monthdays and freq != "WEEKLY":
        parts["BYMONTHDAY"] = ",".join(map(str, monthdays))
    dtstart = datetime.combine(start, time(10))
    until = datetime.combine(start.replace(year=start.year + years, day=min(start.day, 28)), time(23, 59))
    text = ";".join(f"{k}={v}" for k, v in parts.items())
    truth = bool(list(islice(rrulestr(text, dtstart=dtstart).replace(until=until), 1)))
    assert recurrence._occurs(parts, dtstart, until) == truth, text
