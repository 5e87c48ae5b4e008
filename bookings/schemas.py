"""JSON in and out for bookings."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, WithJsonSchema

from app.validation import StrictInput, text
from availability.rules import Clash
from bookings.models import Booking, Occurrence
from calendars.zones import isoformat_local, to_local
from resources.models import Resource

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date_or_datetime(value: Any) -> date | datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("must be an ISO 8601 date-time (or a date, for dorms) as a string")
    try:
        if _DATE.match(value):
            return date.fromisoformat(value)
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 date-time: {value!r}") from exc


When = Annotated[
    date | datetime,
    PlainValidator(_date_or_datetime),
    WithJsonSchema(
        {
            "type": "string",
            "description": "ISO 8601 date-time; without offset = the resource's local time; a date (YYYY-MM-DD) for dorm check-in/check-out days",
        }
    ),
]


class BookingCreate(StrictInput):
    resource_id: Id
    start: When
    end: When
    title: text(200, 1)  # type: ignore[valid-type]
    units: Annotated[int, Field(ge=1, le=10_000)] = 1
    recurrence: text(500) | None = None  # type: ignore[valid-type]
    skip_conflicts: bool = False
    project_code: text(100) = ""  # type: ignore[valid-type]


class BookingUpdate(StrictInput):
    start: When | None = None
    end: When | None = None
    occurrence_id: Id | None = None
    title: text(200, 1) | None = None  # type: ignore[valid-type]
    project_code: text(100) | None = None  # type: ignore[valid-type]


class Decision(StrictInput):
    reason: text(1000) = ""  # type: ignore[valid-type]


class AuthorizationCreate(StrictInput):
    email: text(254, 3)  # type: ignore[valid-type]
    expires: When | None = None


def occurrence_json(occurrence: Occurrence, tz: str) -> dict[str, Any]:
    return {
        "id": occurrence.id,
        "start": isoformat_local(occurrence.start_at, tz),
        "end": isoformat_local(occurrence.end_at, tz),
        "status": "active" if occurrence.active else "cancelled",
    }


def booking_json(booking: Booking) -> dict[str, Any]:
    resource = booking.resource
    tz = resource.timezone
    active = [o for o in booking.occurrences if o.active] or booking.occurrences
    first, last = active[0], active[-1]
    body: dict[str, Any] = {
        "id": booking.id,
        "resource_id": resource.id,
        "resource_name": resource.name,
        "institution": resource.institution.code,
        "title": booking.title,
        "status": booking.status,
        "start": isoformat_local(first.start_at, tz),
        "end": isoformat_local(last.end_at if not booking.recurrence else first.end_at, tz),
        "units": booking.units,
        "recurrence": booking.recurrence,
        "price": {"amount": float(booking.price_amount), "currency": booking.currency},
        "requester_class": booking.requester_class,
        "project_code": booking.project_code,
        "requester": {
            "id": booking.requester.id,
            "email": booking.requester.email,
            "institution": booking.requester.institution.code,
        },
        "decision_reason": booking.decision_reason or None,
        "hold_until": booking.hold_until.isoformat() if booking.hold_until else None,
        "created_at": booking.created_at.isoformat(),
        "updated_at": booking.updated_at.isoformat(),
    }
    if booking.all_day:
        body["check_in"] = to_local(first.start_at, tz).date().isoformat()
        body["check_out"] = to_local(last.end_at, tz).date().isoformat()
    if booking.recurrence or len(booking.occurrences) > 1:
        body["occurrences"] = [occurrence_json(o, tz) for o in booking.occurrences]
    else:
        body["occurrence_id"] = first.id
    return body


def clash_json(clash: Clash, tz: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "start": isoformat_local(clash.start, tz),
        "end": isoformat_local(clash.end, tz),
        "reason": clash.reason,
        "detail": clash.detail,
    }
    if clash.clashes_with:
        body["with"] = clash.clashes_with
    return body


def suggestions_json(suggestions: dict[str, Any], tz: str) -> dict[str, Any]:
    return {
        "slots": [
            {"start": isoformat_local(s, tz), "end": isoformat_local(e, tz)} for s, e in suggestions.get("slots", [])
        ],
        "resources": [_resource_brief(r) for r in suggestions.get("resources", [])],
    }


def _resource_brief(resource: Resource) -> dict[str, Any]:
    return {
        "id": resource.id,
        "name": resource.name,
        "name_en": resource.name_en,
        "kind": resource.kind,
        "institution": resource.institution.code,
        "capacity": resource.capacity,
        "units": resource.units,
    }


class WaitlistJoin(StrictInput):
    resource_id: Id
    start: When
    end: When
    title: text(200, 1)  # type: ignore[valid-type]
    units: Annotated[int, Field(ge=1, le=10_000)] = 1


def waitlist_json(entry) -> dict[str, Any]:
    tz = entry.resource.timezone
    return {
        "id": entry.id,
        "resource_id": entry.resource_id,
        "start": isoformat_local(entry.start_at, tz),
        "end": isoformat_local(entry.end_at, tz),
        "title": entry.title,
        "units": entry.units,
        "status": entry.status,
        "hold_booking_id": entry.hold_booking_id,
    }


class EventItemIn(StrictInput):
    resource_id: Id
    start: When
    end: When
    units: Annotated[int, Field(ge=1, le=10_000)] = 1
    recurrence: text(500) | None = None  # type: ignore[valid-type]
    title: text(200) | None = None  # type: ignore[valid-type]


Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]


class EventCreate(StrictInput):
    title: text(200, 1)  # type: ignore[valid-type]
    description: text(5000) = ""  # type: ignore[valid-type]
    visibility: Literal["public", "alliance"] = "alliance"
    organisers: Annotated[list[Email], Field(max_length=20)] = []
    dry_run: bool = False
    items: Annotated[list[EventItemIn], Field(min_length=1, max_length=100)]


class EventPatch(StrictInput):
    title: text(200, 1) | None = None  # type: ignore[valid-type]
    description: text(5000) | None = None  # type: ignore[valid-type]
    visibility: Literal["public", "alliance"] | None = None
    organisers: Annotated[list[Email], Field(max_length=20)] | None = None
    add: Annotated[list[EventItemIn], Field(max_length=100)] = []
    remove: Annotated[list[Id], Field(max_length=100)] = []
    shift_days: Annotated[int, Field(ge=-366, le=366)] = 0
    dry_run: bool = False


def _public_item(booking: Booking) -> dict[str, Any]:
    """What anyone who may see the event sees of an item: where and when, not who pays."""
    resource = booking.resource
    tz = resource.timezone
    active = [o for o in booking.occurrences if o.active] or booking.occurrences
    site = resource.site
    return {
        "id": booking.id,
        "resource_id": resource.id,
        "resource_name": resource.name,
        "kind": resource.kind,
        "institution": resource.institution.code,
        "location": ", ".join(p for p in (site.name if site else "", site.address if site else "") if p) or None,
        "title": booking.title,
        "status": booking.status,
        "start": isoformat_local(active[0].start_at, tz),
        "end": isoformat_local(active[-1].end_at, tz),
        "occurrences": [occurrence_json(o, tz) for o in booking.occurrences],
    }


def event_json(event, viewer=None) -> dict[str, Any]:
    """Organisers (and admins) see each item as a booking; everyone else sees the programme."""
    from bookings.events import event_dates, is_organiser

    organiser = is_organiser(viewer, event)
    dates = event_dates(event)
    body: dict[str, Any] = {
        "id": event.id,
        "title": event.title,
        "description": event.description,
        "visibility": event.visibility,
        "status": event.status,
        "organisers": [u.email for u in event.organisers()] if viewer is not None else [],
        "first_day": dates[0].isoformat() if dates else None,
        "last_day": dates[1].isoformat() if dates else None,
        "items": [booking_json(b) if organiser else _public_item(b) for b in event.bookings],
    }
    if event.visibility == "public":
        body["public_feed"] = f"/calendars/events/{event.id}.ics"
    return body
