"""Joint events: many bookings across resources and universities, booked all or nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from accounts.models import Role, User
from app.errors import Conflict, NotFound
from app.extensions import db
from bookings.conflicts import linked_ids, lock_resources
from bookings.models import HOLDING, Booking, Event
from bookings.services import BookingConflict, cancel_booking, create_booking, get_resource


@dataclass
class Item:
    resource_id: int
    start: datetime | date
    end: datetime | date
    units: int = 1
    recurrence: str | None = None


@dataclass
class ItemConflict:
    index: int
    resource_id: int
    error: BookingConflict


class EventConflict(Conflict):
    """At least one item cannot be booked; nothing was booked."""

    title = "Event conflict"

    def __init__(self, failures: list[ItemConflict]):
        self.failures = failures
        super().__init__(f"{len(failures)} item(s) cannot be booked; nothing was booked.")

    def problem_fields(self) -> dict[str, Any]:
        return {
            "items": [
                {"index": f.index, "resource_id": f.resource_id, **f.error.problem_fields()} for f in self.failures
            ]
        }


@dataclass
class Preview:
    items: list[dict[str, Any]] = field(default_factory=list)


def create_event(
    organiser: User,
    *,
    title: str,
    items: list[Item],
    now: datetime,
    description: str = "",
    visibility: str = "alliance",
    dry_run: bool = False,
) -> Event | Preview:
    """Lock every resource involved (one sorted set, so concurrent events cannot deadlock), book each
    item under the usual rules, and keep all of it only if every item could be booked."""
    resources = [get_resource(organiser, item.resource_id) for item in items]
    involved = {r.id for r in resources}
    for resource in resources:
        involved.update(linked_ids(resource.id))
    lock_resources(involved)
    event = Event(title=title, description=description, visibility=visibility, organiser=organiser)
    db.session.add(event)
    db.session.flush()
    failures: list[ItemConflict] = []
    booked: list[Booking] = []
    for index, item in enumerate(items):
        try:
            booking, _ = create_booking(
                organiser,
                resource_id=item.resource_id,
                start=item.start,
                end=item.end,
                title=title,
                units=item.units,
                recurrence=item.recurrence,
                now=now,
                event_id=event.id,
            )
            booked.append(booking)
        except BookingConflict as error:
            failures.append(ItemConflict(index, item.resource_id, error))
    if failures:
        db.session.rollback()
        raise EventConflict(failures)
    if dry_run:
        preview = Preview(
            [
                {"index": i, "resource_id": b.resource_id, "status": b.status, "price": float(b.price_amount)}
                for i, b in enumerate(booked)
            ]
        )
        db.session.rollback()
        return preview
    return event


def get_event(viewer: User | None, event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None or (event.visibility != "public" and viewer is None):
        raise NotFound(f"No event {event_id}.")
    return event


def cancel_event(actor: User, event_id: int, *, now: datetime) -> Event:
    """Cancel every item at once; the organiser or an admin may."""
    event = get_event(actor, event_id)
    if event.organiser_id != actor.id and actor.role != Role.ADMIN:
        raise NotFound(f"No event {event_id}.")
    if event.status == "cancelled":
        raise Conflict("This event is already cancelled.")
    lock_resources({b.resource_id for b in event.bookings})
    for booking in event.bookings:
        if booking.status in HOLDING:
            cancel_booking(actor, booking.id, now=now)
    event.status = "cancelled"
    db.session.flush()
    return event
