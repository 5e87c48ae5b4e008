"""VTIMEZONE components in the RRULE form every client reads the same way.

icalendar's generated form lists each transition as its own RDATE, which ical.js
misreads after the first year; a zone with regular rules (the EU's "last Sunday of
March/October") is written instead as one DAYLIGHT and one STANDARD part with a yearly
RRULE, derived from the zone's transitions in a reference year.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur

from app.zones import zone

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@lru_cache(maxsize=64)
def _transitions(tz_name: str, year: int) -> tuple[tuple[datetime, timedelta, timedelta, str], ...]:
    """(local wall time just before, offset before, offset after, name after) for each change in `year`.

    Walks the year hour by hour (8,760 conversions), so it is computed once per zone and year: every
    booking's mail and every feed carries a VTIMEZONE."""
    tz = zone(tz_name)
    found = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    previous = moment.astimezone(tz).utcoffset()
    step = timedelta(hours=1)
    while moment < end:
        following = moment + step
        offset = following.astimezone(tz).utcoffset()
        if offset != previous:
            # The change happens at `following` (hour resolution is exact for real zones).
            local_before = (following.astimezone(tz) - offset + previous).replace(tzinfo=None)  # type: ignore[operator]
            found.append((local_before, previous, offset, following.astimezone(tz).tzname() or ""))
            previous = offset
        moment = following
    return tuple(found)  # type: ignore[arg-type]


def _byday(day: datetime) -> str:
    days_in_month = calendar.monthrange(day.year, day.month)[1]
    code = WEEKDAY_CODES[day.weekday()]
    if day.day + 7 > days_in_month:
        return f"-1{code}"
    return f"{(day.day - 1) // 7 + 1}{code}"


def vtimezone(tz_name: str, reference_year: int = 2026) -> Timezone:
    component = Timezone()
    component.add("TZID", tz_name)
    changes = _transitions(tz_name, reference_year)
    if not changes:
        tz = zone(tz_name)
        offset = datetime(reference_year, 1, 1, tzinfo=UTC).astimezone(tz).utcoffset()
        standard = TimezoneStandard()
        standard.add("DTSTART", datetime(1970, 1, 1))
        standard.add("TZOFFSETFROM", offset)
        standard.add("TZOFFSETTO", offset)
        standard.add("TZNAME", datetime(reference_year, 1, 1, tzinfo=UTC).astimezone(tz).tzname())
        component.add_component(standard)
        return component
    for local_before, before, after, name in changes:
        part = TimezoneDaylight() if after > before else TimezoneStandard()
        # DTSTART is the first onset in 1970 under the same rule, as clients expect.
        byday = _byday(local_before)
        nth, code = int(byday[:-2]), byday[-2:]
        start = _nth_weekday(1970, local_before.month, nth, WEEKDAY_CODES.index(code)).replace(
            hour=local_before.hour, minute=local_before.minute
        )
        part.add("DTSTART", start)
        part.add("TZOFFSETFROM", before)
        part.add("TZOFFSETTO", after)
        part.add("TZNAME", name)
        part.add("RRULE", vRecur({"FREQ": "YEARLY", "BYMONTH": local_before.month, "BYDAY": byday}))
        component.add_component(part)
    return component


def _nth_weekday(year: int, month: int, nth: int, weekday: int) -> datetime:
    days = [d for d in range(1, calendar.monthrange(year, month)[1] + 1) if calendar.weekday(year, month, d) == weekday]
    return datetime(year, month, days[nth - 1] if nth > 0 else days[nth])
