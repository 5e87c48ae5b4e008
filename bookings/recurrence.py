"""RFC 5545 recurrence, expanded in the resource's local time with python-dateutil.

A weekly 10:00 session stays at 10:00 local across daylight-saving changes because the
rule is expanded on wall-clock times in the zone, and each occurrence is converted to
UTC on its own.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import islice

from dateutil.rrule import rrulestr

from app.zones import NonexistentLocalTime, to_utc, zone

MAX_OCCURRENCES = 520
ALLOWED_PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY"}
ALLOWED_FREQ = {"DAILY", "WEEKLY", "MONTHLY"}
_PART = re.compile(r"^[A-Z]+=[A-Za-z0-9,+\-]+$")
_UNTIL = re.compile(r"^(\d{8})(?:T(\d{6})(Z?))?$")


class RecurrenceError(ValueError):
    pass


def _parts(rule: str) -> dict[str, str]:
    rule = rule.strip().removeprefix("RRULE:")
    if not rule or len(rule) > 500:
        raise RecurrenceError("give an RRULE such as FREQ=WEEKLY;COUNT=12")
    parts: dict[str, str] = {}
    for item in rule.split(";"):
        if not _PART.match(item):
            raise RecurrenceError(f"cannot read {item[:40]!r}")
        key, value = item.split("=", 1)
        if key not in ALLOWED_PARTS:
            raise RecurrenceError(f"{key} is not supported; use {', '.join(sorted(ALLOWED_PARTS))}")
        if key in parts:
            raise RecurrenceError(f"{key} is given twice")
        parts[key] = value
    if parts.get("FREQ") not in ALLOWED_FREQ:
        raise RecurrenceError("FREQ must be DAILY, WEEKLY or MONTHLY")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RecurrenceError("give COUNT or UNTIL, not both")
    for key in ("COUNT", "INTERVAL"):
        if key in parts and (not parts[key].isdigit() or not 1 <= int(parts[key]) <= 10_000):
            raise RecurrenceError(f"{key} must be a positive number")
    return parts


def _until_local(value: str, tz_name: str) -> datetime:
    """UNTIL as a naive local time (a UTC value is converted; a date means the end of that day)."""
    match = _UNTIL.match(value)
    if not match:
        raise RecurrenceError("UNTIL must look like 20270131 or 20270131T235959Z")
    day, time, zulu = match.groups()
    try:
        if time is None:
            return datetime.strptime(day, "%Y%m%d") + timedelta(days=1) - timedelta(seconds=1)
        moment = datetime.strptime(day + time, "%Y%m%d%H%M%S")
    except ValueError as exc:
        raise RecurrenceError(f"UNTIL is not a real date: {value}") from exc
    if zulu:
        return moment.replace(tzinfo=UTC).astimezone(zone(tz_name)).replace(tzinfo=None)
    return moment


def expand(rule: str, local_start: datetime, local_end: datetime, tz_name: str) -> list[tuple[datetime, datetime]]:
    """UTC (start, end) of each occurrence; `local_start`/`local_end` are naive wall-clock times."""
    parts = _parts(rule)
    until = _until_local(parts.pop("UNTIL"), tz_name) if "UNTIL" in parts else None
    text = ";".join(f"{k}={v}" for k, v in parts.items())
    try:
        rrule = rrulestr(text, dtstart=local_start)
        if until is not None:
            rrule = rrule.replace(until=until)
        starts = list(islice(iter(rrule), MAX_OCCURRENCES + 1))
    except (ValueError, TypeError, OverflowError) as exc:
        raise RecurrenceError(f"cannot expand the rule: {exc}") from exc
    if len(starts) > MAX_OCCURRENCES:
        raise RecurrenceError(f"at most {MAX_OCCURRENCES} occurrences; add COUNT or an earlier UNTIL")
    if not starts:
        raise RecurrenceError("the rule produces no occurrence")
    length = local_end - local_start
    result = []
    for start in starts:
        try:
            result.append((to_utc(start, tz_name), to_utc(start + length, tz_name)))
        except NonexistentLocalTime as exc:
            raise RecurrenceError(f"{exc}; choose another time of day") from exc
        except ValueError as exc:
            raise RecurrenceError(f"an occurrence falls outside the bookable years: {exc}") from exc
    return result


_WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def shift_rule(rule: str, days: int) -> str:
    """The same rule for a series moved by `days`: weekdays and UNTIL move with it.

    Monthly rules that name days of the month or ordinal weekdays ("the second Tuesday") have no
    faithful shifted form, so they are refused rather than silently changed.
    """
    parts = _parts(rule)
    if "BYMONTHDAY" in parts:
        raise RecurrenceError("a rule with BYMONTHDAY cannot be moved by days; move its sessions one by one")
    if "BYDAY" in parts:
        codes = parts["BYDAY"].split(",")
        if any(code not in _WEEKDAYS for code in codes):
            raise RecurrenceError("a rule with ordinal weekdays cannot be moved by days; move its sessions one by one")
        parts["BYDAY"] = ",".join(_WEEKDAYS[(_WEEKDAYS.index(code) + days) % 7] for code in codes)
    if "UNTIL" in parts:
        match = _UNTIL.match(parts["UNTIL"])
        if not match:
            raise RecurrenceError("UNTIL must look like 20270131 or 20270131T235959Z")
        day, time, zulu = match.groups()
        moved = (datetime.strptime(day, "%Y%m%d") + timedelta(days=days)).strftime("%Y%m%d")
        parts["UNTIL"] = moved + (f"T{time}{zulu}" if time else "")
    return ";".join(f"{k}={v}" for k, v in parts.items())
