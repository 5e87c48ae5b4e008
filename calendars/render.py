"""Turning plain event data into RFC 5545 bytes. Pure: same input, same bytes."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from icalendar import Calendar, Event, vDuration, vText

from app.zones import to_local
from calendars.vtimezone import vtimezone

PRODID = "-//ATU Facilities//Timisoara University Alliance//EN"

# Line and paragraph breaks of every kind (CRLF counted once), and the other control characters,
# which RFC 5545 TEXT cannot carry (only HTAB is allowed; it is turned into a space too).
_BREAKS = re.compile("\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")


def text(value: str, *, multiline: bool = False) -> vText:
    """A TEXT value as RFC 5545 wants it, escaped by icalendar's vText (backslash, comma, semicolon,
    line feed): breaks become one line feed in multi-line text and a space elsewhere; other
    control characters, which no parser reads the same way (a lone CR ends a line for some), go."""
    value = _BREAKS.sub("\n" if multiline else " ", value)
    return vText(_CONTROLS.sub(_control, value))


def _control(match: re.Match[str]) -> str:
    char = match.group()
    return char if char == "\n" else " " if char == "\t" else ""


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    start: datetime  # aware UTC
    end: datetime
    tz: str
    summary: str
    status: str  # CONFIRMED | TENTATIVE | CANCELLED
    sequence: int
    modified: datetime  # aware UTC: DTSTAMP and LAST-MODIFIED, never "now"
    location: str = ""
    url: str = ""
    description: str = ""
    organizer: str = ""
    attendee: str = ""


_event_cache: OrderedDict[FeedEvent, bytes] = OrderedDict()
_event_lock = threading.Lock()
EVENT_CACHE_SIZE = 100_000


def _event_bytes(event: FeedEvent) -> bytes:
    """One VEVENT's bytes, remembered: icalendar's serialiser is the slow part of a big feed, and
    an event's bytes depend only on its (frozen, hashable) data."""
    with _event_lock:
        cached = _event_cache.get(event)
        if cached is not None:
            _event_cache.move_to_end(event)
            return cached
    data = _event(event).to_ical()
    with _event_lock:
        _event_cache[event] = data
        while len(_event_cache) > EVENT_CACHE_SIZE:
            _event_cache.popitem(last=False)
    return data


def render(events: Sequence[FeedEvent], *, name: str, method: str | None = None, refresh: bool = True) -> bytes:
    """The calendar as icalendar writes it; events are spliced in before END:VCALENDAR from the
    per-event cache, which gives the same bytes as adding them as subcomponents."""
    calendar = _header(events, name=name, method=method, refresh=refresh)
    head = calendar.to_ical()
    end = b"END:VCALENDAR\r\n"
    assert head.endswith(end)
    ordered = sorted(events, key=lambda e: (e.start, e.uid))
    return head[: -len(end)] + b"".join(_event_bytes(e) for e in ordered) + end


def render_plain(events: Sequence[FeedEvent], *, name: str, method: str | None = None, refresh: bool = True) -> bytes:
    """The same calendar built entirely by icalendar (the reference the splicing is tested against)."""
    calendar = _header(events, name=name, method=method, refresh=refresh)
    for event in sorted(events, key=lambda e: (e.start, e.uid)):
        calendar.add_component(_event(event))
    return calendar.to_ical()


def _header(events: Sequence[FeedEvent], *, name: str, method: str | None, refresh: bool) -> Calendar:
    calendar = Calendar()
    calendar.add("VERSION", "2.0")
    calendar.add("PRODID", PRODID)
    calendar.add("CALSCALE", "GREGORIAN")
    if method:
        calendar.add("METHOD", method)
    calendar.add("NAME", text(name))
    calendar.add("X-WR-CALNAME", text(name))
    if refresh:
        # Polling clients: once an hour (RFC 7986 and the older Microsoft/Apple property).
        calendar.add("REFRESH-INTERVAL", vDuration.from_ical("PT1H"), parameters={"VALUE": "DURATION"})
        calendar.add("X-PUBLISHED-TTL", vText("PT1H"))
    for tz in sorted({e.tz for e in events}):
        calendar.add_component(vtimezone(tz))
    return calendar


def _event(data: FeedEvent) -> Event:
    event = Event()
    event.add("UID", data.uid)
    event.add("DTSTAMP", data.modified)
    event.add("LAST-MODIFIED", data.modified)
    event.add("SEQUENCE", data.sequence)
    event.add("STATUS", data.status)
    event.add("DTSTART", to_local(data.start, data.tz), parameters={"TZID": data.tz})
    event.add("DTEND", to_local(data.end, data.tz), parameters={"TZID": data.tz})
    event.add("SUMMARY", text(data.summary))
    event.add("TRANSP", "OPAQUE")
    if data.location:
        event.add("LOCATION", text(data.location))
    if data.description:
        event.add("DESCRIPTION", text(data.description, multiline=True))
    if data.url:
        event.add("URL", data.url)
    if data.organizer:
        event.add("ORGANIZER", f"mailto:{data.organizer}")
    if data.attendee:
        event.add("ATTENDEE", f"mailto:{data.attendee}", parameters={"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "ACCEPTED"})
    return event
