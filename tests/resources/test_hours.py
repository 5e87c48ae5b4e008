"""Opening hours: validation and the pure "inside opening hours" rule, no app needed."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.zones import to_utc
from resources.hours import is_within_opening_hours, validate_opening_hours

TZ = "Europe/Bucharest"
WEEKDAYS_8_20 = {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def local(text: str) -> datetime:
    return to_utc(datetime.fromisoformat(text), TZ)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-12-07T08:00", "2026-12-07T20:00", True),  # exactly the opening interval (Monday)
        ("2026-12-07T07:59", "2026-12-07T09:00", False),  # starts a minute early
        ("2026-12-07T19:00", "2026-12-07T20:01", False),  # ends a minute late
        ("2026-12-07T19:59", "2026-12-07T20:00", True),  # the last minute
        ("2026-12-07T20:00", "2026-12-07T21:00", False),  # touching the close is outside
        ("2026-12-12T10:00", "2026-12-12T11:00", False),  # Saturday is closed
        ("2026-12-07T19:00", "2026-12-08T09:00", False),  # overnight across a closed night
    ],
)
def test_single_interval(start, end, expected):
    assert is_within_opening_hours(WEEKDAYS_8_20, TZ, local(start), local(end)) is expected


def test_none_means_always_open():
    assert is_within_opening_hours(None, TZ, local("2026-12-12T03:00"), local("2026-12-20T03:00"))


def test_lunch_break_splits_the_day():
    hours = {"mon": [["08:00", "12:00"], ["13:00", "18:00"]]}
    assert is_within_opening_hours(hours, TZ, local("2026-12-07T09:00"), local("2026-12-07T12:00"))
    assert is_within_opening_hours(hours, TZ, local("2026-12-07T13:00"), local("2026-12-07T18:00"))
    assert not is_within_opening_hours(hours, TZ, local("2026-12-07T11:00"), local("2026-12-07T14:00"))


def test_midnight_continuation_through_24_00():
    hours = {"fri": [["18:00", "24:00"]], "sat": [["00:00", "02:00"]]}
    assert is_within_opening_hours(hours, TZ, local("2026-12-11T22:00"), local("2026-12-12T02:00"))
    assert not is_within_opening_hours(hours, TZ, local("2026-12-11T22:00"), local("2026-12-12T02:30"))


def test_wall_clock_hours_hold_across_the_dst_change():
    # On 29 March 2026 Bucharest moves from +02:00 to +03:00; 08:00 local is 05:00 UTC after it.
    hours = {"sun": [["08:00", "20:00"]], "sat": [["08:00", "20:00"]]}
    assert is_within_opening_hours(hours, TZ, local("2026-03-29T08:00"), local("2026-03-29T20:00"))
    assert local("2026-03-29T08:00") == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)
    assert local("2026-03-28T08:00") == datetime(2026, 3, 28, 6, 0, tzinfo=UTC)
    # One UTC hour earlier is 07:00 local on the Sunday: closed.
    assert not is_within_opening_hours(hours, TZ, datetime(2026, 3, 29, 4, 0, tzinfo=UTC), local("2026-03-29T09:00"))


@pytest.mark.parametrize(
    ("hours", "field"),
    [
        ({"monday": [["08:00", "20:00"]]}, "opening_hours.monday"),
        ({"mon": [["20:00", "08:00"]]}, "opening_hours.mon.0"),
        ({"mon": [["08:00", "08:00"]]}, "opening_hours.mon.0"),
        ({"mon": [["8:00", "20:00"]]}, "opening_hours.mon.0"),
        ({"mon": [["08:00", "24:30"]]}, "opening_hours.mon.0"),
        ({"mon": [["08:00"]]}, "opening_hours.mon.0"),
        ({"mon": [["08:00", "12:00"], ["11:00", "14:00"]]}, "opening_hours.mon.1"),
        ({"mon": "08:00-20:00"}, "opening_hours.mon"),
        ({"mon": [["08:00", "09:00"]] * 7}, "opening_hours.mon"),
        (["mon"], "opening_hours"),
    ],
)
def test_invalid_hours_name_the_field(hours, field):
    assert field in validate_opening_hours(hours)


def test_touching_intervals_are_valid():
    assert validate_opening_hours({"mon": [["08:00", "12:00"], ["12:00", "24:00"]]}) == {}


minutes = st.integers(min_value=0, max_value=24 * 60)


@given(
    a=minutes,
    b=minutes,
    offset=st.integers(0, 24 * 60 * 14),
    length=st.integers(1, 24 * 60 * 3),
)
def test_agrees_with_a_minute_by_minute_oracle(a, b, offset, length):
    """Property: a span is inside iff every minute of it falls in that day's interval."""
    lo, hi = sorted((a, b))
    if lo == hi:
        return
    fmt = lambda m: f"{m // 60:02d}:{m % 60:02d}"  # noqa: E731
    hours = {day: [[fmt(lo), fmt(hi)]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    start = datetime(2026, 1, 5, tzinfo=UTC) + timedelta(minutes=offset)
    every_minute = (start + timedelta(minutes=i) for i in range(length))
    expected = all(lo <= t.hour * 60 + t.minute < hi for t in every_minute)
    assert is_within_opening_hours(hours, "UTC", start, start + timedelta(minutes=length)) is expected
