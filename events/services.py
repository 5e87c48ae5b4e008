"""Joint events: many bookings across resources and universities, booked and changed all or nothing.

Every change (create, add or remove items, move by days, cancel) first locks every resource it
touches, and their linked resources, as one set in id order (`lock_resources`), so two events
competing for the same rooms queue instead of deadlocking; then it applies each item under the
rules of a single booking and keeps the result only if every item succeeded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import func, select, true
from sqlalchemy.orm import selectinload

from accounts.models import Role, User
from app.database import utcnow
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.extensions import db
from app.zones import NonexistentLocalTime, isoformat_local, to_local, to_utc
from availability.busy import lock_resources, note_longest
from availability.intervals import Span
from availability.services import find_clashes
from bookings import signals
from bookings.models import HOLDING, Booking, Occurrence
from bookings.recurrence import RecurrenceError, shift_rule
from bookings.services import (
    BookingConflict,
    audit,
    cancel_loaded,
    create_booking,
    flush_or_conflict,
    get_resource,
)
from events import signals as event_signals
from events.models import Event, EventInvitation, EventOrganiser
from resources.models import Kind, Resource
from resources.services import visibility_clause

MAX_SHIFT_DAYS = 366


@dataclass
class Item:
    resource_id: int
    start: datetime | date
    end: datetime | date
    units: int = 1
    recurrence: str | None = None
    title: str | None = None  # the session's own name ("Opening keynote"); the event's title if empty


@dataclass
class ItemConflict:
    """An item that cannot be booked: `index` in the request's items, or `booking_id` of an item being moved."""

    index: int | None
    resource_id: int
    error: BookingConflict
    booking_id: int | None = None


class EventConflict(Conflict):
    """At least one item cannot be booked; nothing was booked or changed."""

    title = "Event conflict"

    def __init__(self, failures: list[ItemConflict]):
        self.failures = failures
        super().__init__(
            lazy_ngettext(
                "%(num)d item cannot be booked; nothing was booked or changed.",
                "%(num)d items cannot be booked; nothing was booked or changed.",
                len(failures),
            )
        )

    def problem_fields(self) -> dict[str, Any]:
        items = []
        for f in self.failures:
            where = {"index": f.index} if f.booking_id is None else {"booking_id": f.booking_id}
            items.append({**where, "resource_id": f.resource_id, **f.error.problem_fields()})
        return {"items": items}


@dataclass
class Preview:
    """What a dry run would have booked: one entry per item, nothing stored."""

    items: list[dict[str, Any]] = field(default_factory=list)


# --- who may see and change ------------------------------------------------------------------


def is_organiser(user: User | None, event: Event) -> bool:
    if user is None:
        return False
    return user.role == Role.ADMIN or any(o.id == user.id for o in event.organisers())


def get_event(viewer: User | None, event_id: int) -> Event:
    """Public events are visible to anyone, alliance events to every signed-in member."""
    event = db.session.get(Event, event_id)
    if event is None or (event.visibility != "public" and viewer is None):
        raise NotFound(_l("No event %(id)s.", id=event_id))
    return event


def organised_event(actor: User, event_id: int) -> Event:
    """An active event the actor may change: 404 if they cannot see it, 403 if they do not organise it."""
    event = get_event(actor, event_id)
    if not is_organiser(actor, event):
        raise PermissionDenied(_l("Only the event's organisers may change it."))
    if event.status == "cancelled":
        raise Conflict(_l("This event is cancelled."))
    return event


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
MAX_ORGANISERS = 20


def _wanted_emails(emails: Sequence[str], organiser: User) -> set[str]:
    """The addresses named as co-organisers, lower-cased; only their form is checked, never whether an
    account has them, so the answer is the same for every address."""
    wanted = {e.strip().lower() for e in emails if e.strip()}
    bad = sorted(e for e in wanted if len(e) > 254 or not EMAIL.match(e))
    if bad:
        raise InvalidInput({"organisers": _l("not an email address: %(emails)s", emails=", ".join(bad))})
    if len(wanted) > MAX_ORGANISERS:
        raise InvalidInput({"organisers": _l("at most %(num)s co-organisers", num=MAX_ORGANISERS)})
    return wanted - {organiser.email.lower()}


def _set_invitations(event: Event, wanted: set[str], actor: User) -> list[EventInvitation]:
    """Make the co-organisers the `wanted` addresses: new addresses get a pending invitation (no rights
    until accepted); co-organisers and invitations no longer named are withdrawn. Returns the new ones."""
    event.co_organisers = [u for u in event.co_organisers if u.email.lower() in wanted]
    existing = db.session.scalars(select(EventInvitation).where(EventInvitation.event_id == event.id)).all()
    for invitation in existing:
        if invitation.email not in wanted:
            db.session.delete(invitation)
    known = {i.email for i in existing} | {u.email.lower() for u in event.co_organisers}
    new = [EventInvitation(event=event, email=email, invited_by=actor) for email in sorted(wanted - known)]
    db.session.add_all(new)
    db.session.flush()
    return new


def invitations(event: Event) -> list[EventInvitation]:
    """Every invitation of the event (pending, accepted, declined), for its organisers."""
    return list(
        db.session.scalars(
            select(EventInvitation).where(EventInvitation.event_id == event.id).order_by(EventInvitation.id)
        )
    )


def my_invitations(user: User) -> list[EventInvitation]:
    """Pending invitations to co-organise active events, addressed to the user's address."""
    return list(
        db.session.scalars(
            select(EventInvitation)
            .join(Event, Event.id == EventInvitation.event_id)
            .where(
                EventInvitation.email == user.email.lower(),
                EventInvitation.status == "pending",
                Event.status == "active",
            )
            .order_by(EventInvitation.id)
        )
    )


def _my_invitation(user: User, event_id: int) -> EventInvitation:
    event = get_event(user, event_id)
    invitation = db.session.scalar(
        select(EventInvitation).where(
            EventInvitation.event_id == event.id,
            EventInvitation.email == user.email.lower(),
            EventInvitation.status == "pending",
        )
    )
    if invitation is None:
        raise NotFound(_l("You have no open invitation to this event."))
    if event.status == "cancelled":
        raise Conflict(_l("This event is cancelled."))
    return invitation


def accept_invitation(user: User, event_id: int, *, now: datetime) -> Event:
    """The invited person becomes a co-organiser (listed, and may change the event)."""
    invitation = _my_invitation(user, event_id)
    invitation.status, invitation.answered_at = "accepted", now
    event = invitation.event
    if all(u.id != user.id for u in event.co_organisers):
        event.co_organisers.append(user)
    db.session.flush()
    return event


def decline_invitation(user: User, event_id: int, *, now: datetime) -> Event:
    invitation = _my_invitation(user, event_id)
    invitation.status, invitation.answered_at = "declined", now
    db.session.flush()
    return invitation.event


def _announce_invitations(new: Sequence[EventInvitation], *, now: datetime, actor: User) -> None:
    for invitation in new:
        event_signals.invitation_sent.send(invitation, now=now, actor=actor)


# --- which items a viewer sees ------------------------------------------------------------------
# An event's visibility opens its programme, not its resources: each item is shown only to people who
# may see its resource (anonymous visitors: public resources; members: `visibility_clause`), and to
# the event's organisers. The page, the API and the event feeds all ask here.


def item_clause(viewer: User | None, event: Event):
    """SQL condition (on Resource) for the items of `event` that `viewer` may see."""
    return true() if is_organiser(viewer, event) else visibility_clause(viewer)


def visible_resources(viewer: User | None, events: Sequence[Event]) -> set[int]:
    """The resources of these events' items that `viewer` may see, in one query (for lists of events)."""
    wanted = {b.resource_id for event in events for b in event.bookings}
    if not wanted:
        return set()
    return set(db.session.scalars(select(Resource.id).where(Resource.id.in_(wanted), visibility_clause(viewer))))


def visible_items(
    viewer: User | None, event: Event, seen: set[int] | None = None
) -> tuple[list[Booking], list[Booking]]:
    """The event's items the viewer may see, and the active items left out (to be counted, never shown);
    `seen` is `visible_resources` computed beforehand for a list of events."""
    if is_organiser(viewer, event):
        return list(event.bookings), []
    if seen is None:
        seen = visible_resources(viewer, [event])
    shown = [b for b in event.bookings if b.resource_id in seen]
    hidden = [
        b for b in event.bookings if b.resource_id not in seen and (b.status in HOLDING or event.status == "cancelled")
    ]
    return shown, hidden


def list_events(viewer: User | None, *, now: datetime, mine: bool = False, limit: int = 100) -> list[Event]:
    """Events that have not ended, soonest first: public ones for everyone, alliance ones for members;
    with `mine`, the events the viewer organises (including past and cancelled ones)."""

    last_end = (
        select(Occurrence.booking_id, func.max(Occurrence.end_at).label("end_at"))
        .group_by(Occurrence.booking_id)
        .subquery()
    )
    ends = (
        select(Booking.event_id, func.max(last_end.c.end_at).label("end_at"))
        .join(last_end, last_end.c.booking_id == Booking.id)
        .where(Booking.event_id.is_not(None))
        .group_by(Booking.event_id)
        .subquery()
    )
    query = select(Event).join(ends, ends.c.event_id == Event.id)
    if mine:
        if viewer is None:
            return []
        co = select(EventOrganiser.event_id).where(EventOrganiser.user_id == viewer.id)
        query = query.where((Event.organiser_id == viewer.id) | Event.id.in_(co)).order_by(ends.c.end_at.desc())
    else:
        query = query.where(Event.status == "active", ends.c.end_at > now).order_by(ends.c.end_at)
        if viewer is None:
            query = query.where(Event.visibility == "public")
    # Each listed event shows its dates (and, in the API, its items): load them with the events, not per event.
    query = query.options(selectinload(Event.bookings).selectinload(Booking.occurrences))
    return list(db.session.scalars(query.limit(limit)))


# --- create ----------------------------------------------------------------------------------


def _book_items(actor: User, event: Event, items: Sequence[Item], now: datetime) -> list[ItemConflict]:
    failures: list[ItemConflict] = []
    for index, item in enumerate(items):
        try:
            create_booking(
                actor,
                resource_id=item.resource_id,
                start=item.start,
                end=item.end,
                title=item.title or event.title,
                units=item.units,
                recurrence=item.recurrence,
                now=now,
                event_id=event.id,
            )
        except BookingConflict as error:
            failures.append(ItemConflict(index, item.resource_id, error))
    return failures


def create_event(
    organiser: User,
    *,
    title: str,
    items: list[Item],
    now: datetime,
    description: str = "",
    visibility: str = "alliance",
    organisers: Sequence[str] = (),
    dry_run: bool = False,
) -> Event | Preview:
    """Lock every resource involved (one sorted set, so concurrent events cannot deadlock), book each
    item under the usual rules, and keep all of it only if every item could be booked."""
    resources = [get_resource(organiser, item.resource_id) for item in items]
    wanted = _wanted_emails(organisers, organiser)
    lock_resources({r.id for r in resources})
    savepoint = db.session.begin_nested()  # a refusal or a dry run undoes this much, not the request
    event = Event(title=title, description=description, visibility=visibility, organiser=organiser)
    db.session.add(event)
    db.session.flush()
    invited = _set_invitations(event, wanted, organiser)
    failures = _book_items(organiser, event, items, now)
    if failures:
        savepoint.rollback()
        raise EventConflict(failures)
    if dry_run:
        preview = Preview([{"index": i, **_item_preview(b)} for i, b in enumerate(_holding(event))])
        savepoint.rollback()
        return preview
    savepoint.commit()
    db.session.expire(event, ["bookings"])  # the items were added by event_id, not through the list
    event_signals.event_created.send(event, now=now, actor=organiser)
    _announce_invitations(invited, now=now, actor=organiser)
    return event


def _holding(event: Event) -> list[Booking]:
    db.session.refresh(event, ["bookings"])
    return [b for b in event.bookings if b.status in HOLDING]


def _item_preview(booking: Booking) -> dict[str, Any]:
    active = [o for o in booking.occurrences if o.active]
    tz = booking.resource.timezone
    return {
        "resource_id": booking.resource_id,
        "title": booking.title,
        "status": booking.status,
        "price": float(booking.price_amount),
        "currency": booking.currency,
        "start": isoformat_local(active[0].start_at, tz) if active else None,
        "end": isoformat_local(active[-1].end_at, tz) if active else None,
        "occurrences": len(active),
    }


# --- change ----------------------------------------------------------------------------------


def _shift_spans(booking: Booking, days: int) -> list[tuple[Any, Span]]:
    """Each active occurrence moved by whole local days: 10:00 stays 10:00 across a DST change."""
    tz = booking.resource.timezone
    moved = []
    for occurrence in booking.occurrences:
        if not occurrence.active:
            continue
        start = to_local(occurrence.start_at, tz).replace(tzinfo=None) + timedelta(days=days)
        end = to_local(occurrence.end_at, tz).replace(tzinfo=None) + timedelta(days=days)
        try:
            span = Span(to_utc(start, tz), to_utc(end, tz), occurrence.units)
        except NonexistentLocalTime as exc:
            raise InvalidInput({"shift_days": _l("%(error)s; move this item on its own", error=exc)}) from exc
        moved.append((occurrence, span))
    return moved


def _shift(actor: User, bookings: Sequence[Booking], days: int, now: datetime) -> list[ItemConflict]:
    """Move every item by `days`, checked with the event's own old places set aside."""
    plans = [(booking, _shift_spans(booking, days)) for booking in bookings]
    rules = {}
    for booking in bookings:
        if booking.recurrence:
            try:
                rules[booking.id] = shift_rule(booking.recurrence, days)
            except RecurrenceError as exc:
                raise InvalidInput({"shift_days": _l("booking %(id)s: %(error)s", id=booking.id, error=exc)}) from exc
    for _, moves in plans:
        for occurrence, _span in moves:
            occurrence.active = False
    db.session.flush()
    failures: list[ItemConflict] = []
    for booking, moves in plans:
        resource = booking.resource
        spans = [span for _, span in moves]
        clashes = find_clashes(resource, spans, requester=booking.requester, now=now, viewer=actor)
        if clashes:
            failures.append(ItemConflict(None, resource.id, BookingConflict(clashes, resource), booking.id))
            continue
        savepoint = db.session.begin_nested()
        for occurrence, span in moves:
            occurrence.start_at, occurrence.end_at = span.start, span.end
            occurrence.active = True
            occurrence.sequence += 1
        if booking.id in rules:
            booking.recurrence = rules[booking.id]
        booking.updated_at = utcnow()
        audit(booking, actor, "moved", days=days)
        note_longest(resource, spans)
        try:
            flush_or_conflict(resource, spans, savepoint)
        except BookingConflict as error:  # the database's backstop fired; this booking's move is undone
            return [*failures, ItemConflict(None, resource.id, error, booking.id)]
        signals.booking_rescheduled.send(booking, now=now, actor=actor, change={"days": days})
    return failures


def change_event(
    actor: User,
    event_id: int,
    *,
    now: datetime,
    title: str | None = None,
    description: str | None = None,
    visibility: str | None = None,
    organisers: Sequence[str] | None = None,
    add: Sequence[Item] = (),
    remove: Sequence[int] = (),
    shift_days: int = 0,
    dry_run: bool = False,
) -> Event | Preview:
    """Remove items, move the rest by whole days, add new items, and change the details, as one
    all-or-nothing step; the requesters, the managers concerned and the co-organisers are told."""
    event = organised_event(actor, event_id)
    if abs(shift_days) > MAX_SHIFT_DAYS:
        raise InvalidInput({"shift_days": _l("at most %(num)s days either way", num=MAX_SHIFT_DAYS)})
    holding = {b.id: b for b in event.bookings if b.status in HOLDING}
    unknown = sorted(set(remove) - holding.keys())
    if unknown:
        raise InvalidInput(
            {"remove": _l("not an active item of this event: %(ids)s", ids=", ".join(map(str, unknown)))}
        )
    if holding and not add and set(remove) >= holding.keys():
        raise InvalidInput({"remove": _l("that would remove every item; cancel the event instead")})
    new_resources = [get_resource(actor, item.resource_id) for item in add]
    wanted = _wanted_emails(organisers, event.organiser) if organisers is not None else None
    if wanted is not None and actor.id != event.organiser_id and actor.role != Role.ADMIN:
        raise PermissionDenied(_l("Only the main organiser may change who organises the event."))

    lock_resources({b.resource_id for b in holding.values()} | {r.id for r in new_resources})
    savepoint = db.session.begin_nested()  # a refusal or a dry run undoes this much, not the request
    lines: list[str] = []
    for booking_id in remove:
        booking = holding.pop(booking_id)
        cancel_loaded(actor, booking, now=now)
        lines.append(f"- {booking.title} ({booking.resource.name})")
    failures = _shift(actor, list(holding.values()), shift_days, now) if shift_days else []
    if not failures:
        failures = _book_items(actor, event, add, now)
    if failures:
        savepoint.rollback()
        raise EventConflict(failures)
    if shift_days:
        lines.append(f"→ {shift_days:+d}")
    lines += [f"+ {item.title or event.title}" for item in add]
    if title is not None and title != event.title:
        for booking in holding.values():
            if booking.title == event.title:
                booking.title = title
        event.title = title
    if description is not None:
        event.description = description
    if visibility is not None:
        event.visibility = visibility
    invited = _set_invitations(event, wanted, actor) if wanted is not None else []
    event.updated_at = utcnow()
    db.session.flush()
    if dry_run:
        preview = Preview([{"booking_id": b.id, **_item_preview(b)} for b in _holding(event)])
        savepoint.rollback()
        return preview
    savepoint.commit()
    db.session.expire(event, ["bookings"])  # the new items were added by event_id, not through the list
    event_signals.event_changed.send(event, now=now, actor=actor, changes=lines)
    _announce_invitations(invited, now=now, actor=actor)
    return event


def cancel_event(actor: User, event_id: int, *, now: datetime) -> Event:
    """Cancel every item at once; the organisers or an admin may."""
    event = organised_event(actor, event_id)
    lock_resources({b.resource_id for b in event.bookings})
    for booking in event.bookings:
        if booking.status in HOLDING:
            cancel_loaded(actor, booking, now=now)
    event.status = "cancelled"
    event.updated_at = utcnow()
    db.session.flush()
    event_signals.event_cancelled.send(event, now=now, actor=actor)
    return event


# --- the programme ---------------------------------------------------------------------------


@dataclass
class Session:
    booking: Booking
    start: datetime  # local to the resource
    end: datetime
    active: bool


def programme(
    event: Event, bookings: Sequence[Booking] | None = None
) -> tuple[list[tuple[date, list[Session]]], list[Booking]]:
    """Sessions grouped by local day (rooms and equipment), and the accommodation (dorm items) apart;
    of `bookings` (the items a viewer may see, `visible_items`) or of every item."""
    days: dict[date, list[Session]] = {}
    stays = []
    for booking in event.bookings if bookings is None else bookings:
        if booking.resource.kind == Kind.DORM:
            stays.append(booking)
            continue
        tz = booking.resource.timezone
        for occurrence in booking.occurrences:
            if not occurrence.active and event.status != "cancelled":
                continue  # an item removed from the event, or a session cancelled on its own
            start, end = to_local(occurrence.start_at, tz), to_local(occurrence.end_at, tz)
            days.setdefault(start.date(), []).append(Session(booking, start, end, occurrence.active))
    ordered = [
        (day, sorted(sessions, key=lambda s: (s.start, s.booking.resource.name))) for day, sessions in days.items()
    ]
    return sorted(ordered, key=lambda pair: pair[0]), stays


def event_dates(event: Event, bookings: Sequence[Booking] | None = None) -> tuple[date, date] | None:
    spans = [
        (to_local(o.start_at, b.resource.timezone).date(), to_local(o.end_at, b.resource.timezone).date())
        for b in (event.bookings if bookings is None else bookings)
        for o in b.occurrences
        if o.active or event.status == "cancelled"
    ]
    if not spans:
        return None
    return min(s for s, _ in spans), max(e for _, e in spans)
