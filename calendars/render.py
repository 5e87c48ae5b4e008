"""Turning plain event data into RFC 5545 bytes. Pure: same input, same bytes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from icalendar import Calendar, Event, vDuration, vText

from calendars.vtimezone import vtimezone
from calendars.zones import to_local

PRODID = "-//ATU Facilities//Timisoara University Alliance//EN"


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


def render(events: Sequence[FeedEvent], *, name: str, method: str | None = None, refresh: bool = True) -> bytes:
    calendar = Calendar()
    calendar.add("VERSION", "2.0")
    calendar.add("PRODID", PRODID)
    calendar.add("CALSCALE", "GREGORIAN")
    if method:
        calendar.add("METHOD", method)
    calendar.add("NAME", name)
    calendar.add("X-WR-CALNAME", name)
    if refresh:
        # Polling clients: once an hour (RFC 7986 and the older Microsoft/Apple property).
        calendar.add("REFRESH-INTERVAL", vDuration.from_ical("PT1H"), parameters={"VALUE": "DURATION"})
        calendar.add("X-PUBLISHED-TTL", vText("PT1H"))
    for tz in sorted({e.tz for e in events}):
        calendar.add_component(vtimezone(tz))
    for event in sorted(events, key=lambda e: (e.start, e.uid)):
        calendar.add_component(_event(event))
    return calendar.to_ical()


def _event(data: FeedEvent) -> Event:
    event = Event()
    event.add("UID", data.uid)
    event.add("DTSTAMP", data.modified)
    event.add("LAST-MODIFIED", data.modified)
    event.add("SEQUENCE", data.sequence)
    event.add("STATUS", data.status)
    event.add("DTSTART", to_local(data.start, data.tz), parameters={"TZID": data.tz})
    event.add("DTEND", to_local(data.end, data.tz), parameters={"TZID": data.tz})
    event.add("SUMMARY", vText(data.summary))
    event.add("TRANSP", "OPAQUE")
    if data.location:
        event.add("LOCATION", data.location)
    if data.description:
        event.add("DESCRIPTION", data.description)
    if data.url:
        event.add("URL", data.url)
    if data.organizer:
        event.add("ORGANIZER", f"mailto:{data.organizer}")
    if data.attendee:
        event.add("ATTENDEE", f"mailto:{data.attendee}", parameters={"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "ACCEPTED"})
    return event
