"""Opening hours: validation and the pure "is this span inside opening hours" rule.

Hours are a mapping of weekday keys to lists of ["HH:MM", "HH:MM"] wall-clock
intervals in the resource's zone. `None` means always open; a missing weekday
means closed all day. An interval may end at "24:00", and one ending at 24:00
joins the next day's interval starting at 00:00.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l

from app.zones import zone

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_INTERVALS_PER_DAY = 6
_HHMM = re.compile(r"^(?:([01]\d|2[0-3]):([0-5]\d)|24:00)$")


def parse_hhmm(value: str) -> int:
    """Minutes since midnight; raises ValueError."""
    if not isinstance(value, str) or not _HHMM.match(value):
        raise ValueError(_l("%(value)s is not a time of day as HH:MM", value=repr(value)))
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def validate_opening_hours(hours: object) -> dict[str, str]:
    """Field errors keyed by dotted path; empty when valid."""
    if hours is None:
        return {}
    if not isinstance(hours, dict):
        return {"opening_hours": _l("must be an object keyed by weekday (mon … sun) or null")}
    errors: dict[str, str] = {}
    for day, intervals in hours.items():
        path = f"opening_hours.{day}"
        if day not in WEEKDAYS:
            errors[path] = _l("unknown weekday; use mon, tue, wed, thu, fri, sat, sun")
            continue
        if not isinstance(intervals, list) or len(intervals) > MAX_INTERVALS_PER_DAY:
            errors[path] = _l("must be a list of at most %(num)s [start, end] pairs", num=MAX_INTERVALS_PER_DAY)
            continue
        spans = []
        for index, pair in enumerate(intervals):
            item = f"{path}.{index}"
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                errors[item] = _l('must be a pair like ["08:00", "20:00"]')
                continue
            try:
                start, end = parse_hhmm(pair[0]), parse_hhmm(pair[1])
            except ValueError as exc:
                errors[item] = exc.args[0]  # lazy: translated when shown
                continue
            if start >= end:
                errors[item] = _l("must start before it ends")
                continue
            spans.append((start, end, item))
        spans.sort()
        for (_, prev_end, _), (start, _, item) in itertools.pairwise(spans):
            if start < prev_end:
                errors[item] = _l("overlaps the previous interval")
    return errors


def day_intervals(hours: dict, day: date) -> list[tuple[int, int]]:
    return sorted((parse_hhmm(a), parse_hhmm(b)) for a, b in hours.get(WEEKDAYS[day.weekday()], []))


def is_within_opening_hours(hours: dict | None, tz_name: str, start: datetime, end: datetime) -> bool:
    """True when every instant of [start, end) falls in an opening interval, in wall-clock terms."""
    if hours is None:
        return True
    tz = zone(tz_name)
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    # Walk interval by interval in wall-clock time; a stretch may only continue
    # into the next day through an interval ending at 24:00 and one starting at 00:00.
    cursor = local_start.replace(tzinfo=None)
    finish = local_end.replace(tzinfo=None)
    while cursor < finish:
        minute = cursor.hour * 60 + cursor.minute + cursor.second / 60 + cursor.microsecond / 60e6
        covering = next((b for a, b in day_intervals(hours, cursor.date()) if a <= minute < b), None)
        if covering is None:
            return False
        interval_end = datetime.combine(cursor.date(), time()) + timedelta(minutes=covering)
        if finish <= interval_end:
            return True
        if covering != 24 * 60:
            return False
        cursor = interval_end
    return True


def wall_clock_utc(day: date, minutes: int, tz_name: str) -> datetime:
    """The instant of a wall-clock minute of a local day (24:00 = next midnight).

    For display only: a skipped time maps forward, a repeated one takes its first occurrence.
    """

    local = datetime.combine(day, time()) + timedelta(minutes=minutes)
    return local.replace(tzinfo=zone(tz_name), fold=0).astimezone(UTC)


def closed_spans(hours: dict | None, tz_name: str, first_day: date, days: int) -> list[tuple[datetime, datetime]]:
    """The closed stretches (UTC instants, merged) of the local days first_day … first_day + days − 1."""
    if hours is None:
        return []
    spans: list[tuple[datetime, datetime]] = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        cursor = 0
        gaps = []
        for start, end in day_intervals(hours, day):
            if start > cursor:
                gaps.append((cursor, start))
            cursor = max(cursor, end)
        if cursor < 24 * 60:
            gaps.append((cursor, 24 * 60))
        for start, end in gaps:
            begin, finish = wall_clock_utc(day, start, tz_name), wall_clock_utc(day, end, tz_name)
            if spans and spans[-1][1] >= begin:
                spans[-1] = (spans[-1][0], finish)
            elif begin < finish:
                spans.append((begin, finish))
    return spans
