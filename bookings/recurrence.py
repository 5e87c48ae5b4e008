"""RFC 5545 recurrence, expanded in the resource's local time with python-dateutil.

A weekly 10:00 session stays at 10:00 local across daylight-saving changes because the
rule is expanded on wall-clock times in the zone, and each occurrence is converted to
UTC on its own.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta
from itertools import islice

from dateutil.rrule import rrulestr
from flask_babel import lazy_gettext as _l

from app.zones import NonexistentLocalTime, to_utc, zone

MAX_OCCURRENCES = 520
_WEEKDAY_CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
ALLOWED_PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY"}
ALLOWED_FREQ = {"DAILY", "WEEKLY", "MONTHLY"}
_PART = re.compile(r"^[A-Z]+=[A-Za-z0-9,+\-]+$")
_UNTIL = re.compile(r"^(\d{8})(?:T(\d{6})(Z?))?$")


class RecurrenceError(ValueError):
    """A rule that cannot be used; its message (args[0]) is lazy, translated when shown."""

    @property
    def message(self):
        return self.args[0]


def _parts(rule: str) -> dict[str, str]:
    rule = rule.strip().removeprefix("RRULE:")
    if not rule or len(rule) > 500:
        raise RecurrenceError(_l("give an RRULE such as FREQ=WEEKLY;COUNT=12"))
    parts: dict[str, str] = {}
    for item in rule.split(";"):
        if not _PART.match(item):
            raise RecurrenceError(_l("cannot read %(part)s", part=repr(item[:40])))
        key, value = item.split("=", 1)
        if key not in ALLOWED_PARTS:
            raise RecurrenceError(
                _l("%(key)s is not supported; use %(parts)s", key=key, parts=", ".join(sorted(ALLOWED_PARTS)))
            )
        if key in parts:
            raise RecurrenceError(_l("%(key)s is given twice", key=key))
        parts[key] = value
    if parts.get("FREQ") not in ALLOWED_FREQ:
        raise RecurrenceError(_l("FREQ must be DAILY, WEEKLY or MONTHLY"))
    if "COUNT" in parts and "UNTIL" in parts:
        raise RecurrenceError(_l("give COUNT or UNTIL, not both"))
    for key in ("COUNT", "INTERVAL"):
        if key in parts and (not parts[key].isdigit() or not 1 <= int(parts[key]) <= 10_000):
            raise RecurrenceError(_l("%(key)s must be a positive number", key=key))
    return parts


def _until_local(value: str, tz_name: str) -> datetime:
    """UNTIL as a naive local time (a UTC value is converted; a date means the end of that day)."""
    match = _UNTIL.match(value)
    if not match:
        raise RecurrenceError(_l("UNTIL must look like 20270131 or 20270131T235959Z"))
    day, time, zulu = match.groups()
    try:
        if time is None:
            return datetime.strptime(day, "%Y%m%d") + timedelta(days=1) - timedelta(seconds=1)
        moment = datetime.strptime(day + time, "%Y%m%d%H%M%S")
    except ValueError as exc:
        raise RecurrenceError(_l("UNTIL is not a real date: %(value)s", value=value)) from exc
    if zulu:
        return moment.replace(tzinfo=UTC).astimezone(zone(tz_name)).replace(tzinfo=None)
    return moment


# No occurrence is bookable after this (app.zones.LATEST); a rule is judged up to it.
HORIZON = datetime(2100, 1, 1)
_BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")


def _day_matches(day: date, bydays: list[tuple[int | None, int]], monthdays: set[int]) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    if monthdays and day.day not in monthdays and day.day - last - 1 not in monthdays:
        return False
    if not bydays:
        return True
    for ordinal, weekday in bydays:
        if day.weekday() != weekday:
            continue
        if ordinal is None or ordinal == (day.day - 1) // 7 + 1 or ordinal == -((last - day.day) // 7 + 1):
            return True
    return False


def _occurs(parts: dict[str, str], start: datetime, until: datetime | None) -> bool:
    """Whether the rule has an occurrence before `until` (or the horizon), decided period by period.

    dateutil searches until the year 9999 for a rule that never occurs (a daily rule every 7 days on
    Mondays starting on a Tuesday), which costs seconds; this walk stops at the horizon, in
    milliseconds. Monthly BYDAY ordinals count within the month, as RFC 5545 says for FREQ=MONTHLY.
    """
    end = min(until or HORIZON, HORIZON)
    interval = int(parts.get("INTERVAL", "1"))
    bydays: list[tuple[int | None, int]] = []
    for code in filter(None, parts.get("BYDAY", "").split(",")):
        match = _BYDAY.match(code)
        if not match:
            raise RecurrenceError(_l("cannot read %(part)s", part=repr(code[:40])))
        bydays.append((int(match[1]) if match[1] else None, _WEEKDAY_CODES.index(match[2])))
    try:
        monthdays = {int(v) for v in filter(None, parts.get("BYMONTHDAY", "").split(","))}
    except ValueError as exc:
        raise RecurrenceError(_l("cannot read %(part)s", part=repr(parts["BYMONTHDAY"][:40]))) from exc
    if parts["FREQ"] == "WEEKLY":
        # Weeks start on Monday (WKST); every interval-th week from dtstart's, on its BYDAY days.
        weekdays = {weekday for _, weekday in bydays} or {start.weekday()}
        monday = start.date() - timedelta(days=start.weekday())
        day = start.date()
        while day <= end.date():  # a match comes within the first interval weeks, unless UNTIL ends it
            if ((day - monday).days // 7) % interval == 0 and day.weekday() in weekdays:
                return datetime.combine(day, start.time()) <= end
            day += timedelta(days=1)
        return False
    if parts["FREQ"] == "DAILY":
        day = start.date()
        while day <= end.date():
            if _day_matches(day, bydays, monthdays):
                return datetime.combine(day, start.time()) <= end
            day += timedelta(days=interval)
        return False
    if not bydays and not monthdays:
        monthdays = {start.day}
    year, month = start.year, start.month
    while date(year, month, 1) <= end.date():
        last = calendar.monthrange(year, month)[1]
        first = start.day if (year, month) == (start.year, start.month) else 1
        for d in range(first, last + 1):
            if _day_matches(date(year, month, d), bydays, monthdays):
                return datetime.combine(date(year, month, d), start.time()) <= end
        year, month = divmod(year * 12 + month - 1 + interval, 12)
        month += 1
    return False


def expand(rule: str, local_start: datetime, local_end: datetime, tz_name: str) -> list[tuple[datetime, datetime]]:
    """UTC (start, end) of each occurrence; `local_start`/`local_end` are naive wall-clock times."""
    parts = _parts(rule)
    until = _until_local(parts.pop("UNTIL"), tz_name) if "UNTIL" in parts else None
    if until is None and "COUNT" not in parts:
        # Endless: more than the limit, or so sparse that finding them walks to the year 9999.
        raise RecurrenceError(_l("at most %(num)s occurrences; add COUNT or an earlier UNTIL", num=MAX_OCCURRENCES))
    if not _occurs(parts, local_start, until):
        raise RecurrenceError(_l("the rule produces no occurrence"))
    text = ";".join(f"{k}={v}" for k, v in parts.items())
    try:
        rrule = rrulestr(text, dtstart=local_start)
        if until is not None:
            rrule = rrule.replace(until=until)
        starts = list(islice(iter(rrule), MAX_OCCURRENCES + 1))
    except (ValueError, TypeError, OverflowError) as exc:
        raise RecurrenceError(_l("cannot expand the rule: %(error)s", error=exc)) from exc
    if len(starts) > MAX_OCCURRENCES:
        raise RecurrenceError(_l("at most %(num)s occurrences; add COUNT or an earlier UNTIL", num=MAX_OCCURRENCES))
    if not starts:
        raise RecurrenceError(_l("the rule produces no occurrence"))
    length = local_end - local_start
    result = []
    for start in starts:
        try:
            result.append((to_utc(start, tz_name), to_utc(start + length, tz_name)))
        except NonexistentLocalTime as exc:
            raise RecurrenceError(_l("%(error)s; choose another time of day", error=exc)) from exc
        except ValueError as exc:
            raise RecurrenceError(_l("an occurrence falls outside the bookable years: %(error)s", error=exc)) from exc
    return result


_WEEKDAYS = _WEEKDAY_CODES


def shift_rule(rule: str, days: int) -> str:
    """The same rule for a series moved by `days`: weekdays and UNTIL move with it.

    Monthly rules that name days of the month or ordinal weekdays ("the second Tuesday") have no
    faithful shifted form, so they are refused rather than silently changed.
    """
    parts = _parts(rule)
    if "BYMONTHDAY" in parts:
        raise RecurrenceError(_l("a rule with BYMONTHDAY cannot be moved by days; move its sessions one by one"))
    if "BYDAY" in parts:
        codes = parts["BYDAY"].split(",")
        if any(code not in _WEEKDAYS for code in codes):
            raise RecurrenceError(
                _l("a rule with ordinal weekdays cannot be moved by days; move its sessions one by one")
            )
        parts["BYDAY"] = ",".join(_WEEKDAYS[(_WEEKDAYS.index(code) + days) % 7] for code in codes)
    if "UNTIL" in parts:
        match = _UNTIL.match(parts["UNTIL"])
        if not match:
            raise RecurrenceError(_l("UNTIL must look like 20270131 or 20270131T235959Z"))
        day, time, zulu = match.groups()
        moved = (datetime.strptime(day, "%Y%m%d") + timedelta(days=days)).strftime("%Y%m%d")
        parts["UNTIL"] = moved + (f"T{time}{zulu}" if time else "")
    return ";".join(f"{k}={v}" for k, v in parts.items())
