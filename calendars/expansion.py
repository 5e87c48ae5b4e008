"""Reading an imported iCal feed into busy spans, in a process of its own that can be stopped.

dateutil looks for the next occurrence of a rule period by period without handing control back, up to
the year 9999 when none comes (a daily rule every 7 days on Mondays starting on a Tuesday, a BYSETPOS no
month has, a week 53 in a January): about half a second per such rule here, a feed can hold thousands,
and nothing in the same process can interrupt it. So `read_isolated` reads the feed in a child process
forked from a small single-threaded server (multiprocessing's "forkserver", which has this module
loaded), under an address-space limit, and kills it when the import's time budget runs out: the import
then fails with that reason and keeps its last good busy time. Inside the child, rules are still stepped
lazily and refused early (MAX_EVENTS in the window, MAX_STEPS in all), which gives the usual bombs a
precise message long before the kill.

This module imports nothing of the app but the zones, so the server and each child start small.
"""

from __future__ import annotations

import multiprocessing
import resource
import time as clock_time
from datetime import date, datetime, time, timedelta
from multiprocessing.connection import Connection

import icalendar
import recurring_ical_events
from dateutil.rrule import rrulestr

from app.zones import NonexistentLocalTime, to_utc, zone

MAX_EVENTS = 10_000
IMPORTED_REASON = "Imported busy time"


class ImportFailed(Exception):
    pass


def _reraise_memory_error(exc: BaseException) -> None:
    """The parsers turn a MemoryError into their own error (icalendar: "Expected StringType…"); a reader
    that ran out of memory must say so, not call the feed invalid."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, MemoryError):
            raise MemoryError from exc
        seen = seen.__cause__ or seen.__context__


def _check_deadline(deadline: float) -> None:
    if clock_time.monotonic() > deadline:
        raise ImportFailed("the feed took too long to read")


# Occurrences a rule may be stepped through (from its DTSTART, so earlier ones count too) before the
# feed is refused: about a second of work, whatever the frequency.
MAX_STEPS = 100_000


def _naive(value: date | datetime) -> datetime:
    if not isinstance(value, datetime):
        return datetime.combine(value, time())
    return value.replace(tzinfo=None)


def _check_expansion(calendar: icalendar.Calendar, start: datetime, end: datetime, deadline: float | None) -> None:
    """Step through every recurrence rule lazily before anything is expanded into a list, stopping
    as soon as the window would hold more than MAX_EVENTS occurrences, a rule needs more than
    MAX_STEPS steps, or the time budget runs out. Wall-clock times (±1 day) bound every zone."""
    low, high = _naive(start) - timedelta(days=1), _naive(end) + timedelta(days=1)
    in_window = steps = 0
    for component in calendar.walk("VEVENT"):
        begin = component.get("DTSTART")
        if begin is None:
            continue
        dtstart = _naive(begin.dt)
        rules = component.get("RRULE")
        rules = rules if isinstance(rules, list) else [rules] if rules is not None else []
        possible = [rule for rule in rules if not _never_occurs(rule)]
        if len(possible) != len(rules):  # dateutil would search up to the year 9999 without yielding once
            del component["RRULE"]
            for rule in possible:
                component.add("RRULE", rule)
        for rule in possible:
            text = rule.to_ical().decode()
            try:
                occurrences = rrulestr(text, dtstart=dtstart, ignoretz=True)
            except (ValueError, TypeError) as exc:
                raise ImportFailed(f"not a valid recurrence rule: {text[:100]}") from exc
            for occurrence in occurrences:  # lazy: one occurrence at a time
                steps += 1
                if occurrence > high:
                    break
                if occurrence >= low:
                    in_window += 1
                    if in_window > MAX_EVENTS:
                        raise ImportFailed(f"the feed would expand past {MAX_EVENTS:,} occurrences in the coming year")
                if steps > MAX_STEPS:
                    raise ImportFailed(f"the feed would expand past {MAX_STEPS:,} occurrences")
                if deadline is not None and steps % 1000 == 0:
                    _check_deadline(deadline)
        in_window += 1  # the event itself (or its RDATEs, counted roughly)
        if in_window > MAX_EVENTS:
            raise ImportFailed(f"the feed would expand past {MAX_EVENTS:,} occurrences in the coming year")


_MONTH_DAYS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


def _never_occurs(rule: icalendar.vRecur) -> bool:
    """A BYMONTH/BYMONTHDAY pair no month has (30 February, 31 April): such a rule yields nothing."""
    try:
        months = [int(m) for m in rule.get("BYMONTH", [])] or list(_MONTH_DAYS)
        days = [int(d) for d in rule.get("BYMONTHDAY", [])]
    except (TypeError, ValueError):
        return False
    if not days:
        return False
    return not any(0 < abs(d) <= _MONTH_DAYS.get(m, 0) for m in months for d in days)


def _instant(value: date | datetime, tz_name: str) -> datetime:
    if not isinstance(value, datetime):  # an all-day event: the resource's local midnight
        value = datetime.combine(value, time())
    try:
        return to_utc(value, tz_name)
    except NonexistentLocalTime:
        # RFC 5545 3.3.5: a time in a spring-forward gap is read with the UTC offset before the
        # gap, so 03:30 on the day Bucharest skips 03:00-04:00 is 01:30Z (04:30 local).
        return to_utc(value.replace(tzinfo=zone(tz_name), fold=0), tz_name)


def busy_spans(
    data: bytes, tz_name: str, start: datetime, end: datetime, *, deadline: float | None = None
) -> list[tuple[datetime, datetime, str]]:
    """The feed's busy time between `start` and `end` (UTC), read in this process: callers that read
    what a stranger's server sent use `read_isolated`."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except Exception as exc:  # the parsers raise many types for malformed input
        _reraise_memory_error(exc)
        raise ImportFailed(f"not a valid iCalendar feed: {str(exc)[:200]}") from exc
    _check_expansion(calendar, start, end, deadline)
    try:
        events = recurring_ical_events.of(calendar).between(start, end)
    except Exception as exc:
        _reraise_memory_error(exc)
        raise ImportFailed(f"not a valid iCalendar feed: {str(exc)[:200]}") from exc
    if deadline is not None:
        _check_deadline(deadline)
    spans = []
    for event in events:
        if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        begin = event.decoded("DTSTART", None)
        if begin is None:
            continue
        finish = event.decoded("DTEND", None) if "DTEND" in event else None
        if finish is None:
            duration = event.decoded("DURATION", None) if "DURATION" in event else None
            finish = begin + (duration or (timedelta(days=1) if not isinstance(begin, datetime) else timedelta()))
        try:
            span_start, span_end = _instant(begin, tz_name), _instant(finish, tz_name)
        except ValueError:
            continue
        if span_end <= span_start:
            continue
        spans.append((span_start, span_end, IMPORTED_REASON))
        if len(spans) > MAX_EVENTS:
            raise ImportFailed(f"more than {MAX_EVENTS} busy periods in the coming year")
    return spans


# --- in a process of its own -------------------------------------------------------------------

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload([__name__])


def _read_in_child(
    sender: Connection, data: bytes, tz_name: str, start: datetime, end: datetime, seconds: float, memory: int
) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        answer: tuple[str, object] = (
            "spans",
            busy_spans(data, tz_name, start, end, deadline=clock_time.monotonic() + seconds),
        )
    except ImportFailed as exc:
        answer = ("failed", str(exc))
    except MemoryError:
        answer = ("failed", f"reading the feed needs more than {memory // 2**20} MB")
    sender.send(answer)
    sender.close()


def read_isolated(
    data: bytes, tz_name: str, start: datetime, end: datetime, *, seconds: float, memory_mb: int
) -> list[tuple[datetime, datetime, str]]:
    """`busy_spans` in a child process given at most `seconds` and `memory_mb` of address space."""
    if seconds <= 0:
        raise ImportFailed("the feed took too long to fetch; no time was left to read it")
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    child = _CONTEXT.Process(
        target=_read_in_child,
        args=(sender, data, tz_name, start, end, seconds, memory_mb * 2**20),
        name="atu-feed-reader",
        daemon=True,
    )
    try:
        child.start()
        sender.close()  # the child holds the only writing end now: its death ends the wait below
        answer = receiver.recv() if receiver.poll(seconds + 0.25) else None
    except EOFError:
        answer = None
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join()
        child.close()
    if answer is None:
        raise ImportFailed(f"the feed took longer than {seconds:.0f} s to read, or its reader ran out of memory")
    kind, value = answer
    if kind == "failed":
        raise ImportFailed(value)
    return value  # type: ignore[return-value]
