"""The waitlist: join a taken slot; when it frees, the first in line gets a timed hold and a mail."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from accounts.models import User
from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.transactions import ItemGuard
from availability.busy import lock_resources
from availability.intervals import Span
from availability.services import find_clashes
from bookings import signals
from bookings.models import Booking, Occurrence, Status, WaitlistEntry
from bookings.services import (
    BookingConflict,
    audit,
    check_access,
    current_clashes,
    get_booking,
    needs_approval,
    new_uid,
    plan_spans,
    price_of,
    requester_class,
)
from resources.services import get_resource

HOLD = timedelta(hours=2)


def join_waitlist(
    user: User,
    *,
    resource_id: int,
    start: datetime | date,
    end: datetime | date,
    title: str,
    units: int = 1,
    now: datetime,
) -> WaitlistEntry:
    resource = get_resource(user, resource_id)
    check_access(user, resource, now)
    span = plan_spans(resource, start, end, units, None).spans[0]
    if span.start <= now:
        raise InvalidInput({"start": _l("the slot has already started")})
    entry = WaitlistEntry(
        resource_id=resource.id, user=user, start_at=span.start, end_at=span.end, units=units, title=title
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def list_waitlist(user: User) -> list[WaitlistEntry]:
    return list(
        db.session.scalars(
            select(WaitlistEntry).where(WaitlistEntry.user_id == user.id).order_by(WaitlistEntry.start_at)
        )
    )


def leave_waitlist(user: User, entry_id: int) -> WaitlistEntry:
    entry = db.session.get(WaitlistEntry, entry_id)
    if entry is None or entry.user_id != user.id:
        raise NotFound(_l("No waitlist entry %(id)s.", id=entry_id))
    if entry.status in ("waiting", "offered"):
        entry.status = "cancelled"
    db.session.flush()
    return entry


def accept_hold(user: User, booking_id: int, *, now: datetime) -> Booking:
    """Take an offered hold: confirmed at once, or an ordinary request where approval is needed."""
    booking = get_booking(user, booking_id)
    if booking.requester_id != user.id or booking.hold_until is None or booking.status != Status.PENDING:
        raise Conflict(_l("There is no hold to accept on this booking."))
    if booking.hold_until <= now:
        raise Conflict(_l("The hold has lapsed."))
    lock_resources([booking.resource_id])
    clashes = current_clashes(booking)
    if clashes:
        # Blocked (or otherwise taken) since it was offered: the same rules as a new booking.
        raise BookingConflict(clashes, booking.resource)
    booking.hold_until = None
    booking.created_at = now  # an approval deadline, if any, counts from acceptance
    if not needs_approval(user, booking.resource):
        booking.status = Status.CONFIRMED.value
    for entry in db.session.scalars(select(WaitlistEntry).where(WaitlistEntry.hold_booking_id == booking.id)):
        entry.status = "booked"
    audit(booking, user, "hold_accepted")
    db.session.flush()
    signals.booking_created.send(booking, now=now, actor=user)
    return booking


def _lapse_holds(now: datetime, guard: ItemGuard) -> int:
    lapsed = db.session.scalars(
        select(Booking).where(
            Booking.status == Status.PENDING, Booking.hold_until.is_not(None), Booking.hold_until <= now
        )
    ).all()
    count = 0
    for booking in lapsed:
        with guard.item(booking.id):
            booking.status = Status.REJECTED.value
            booking.decision_reason = "The hold from the waitlist was not accepted in time."
            for occurrence in booking.occurrences:
                occurrence.sequence += 1
                if occurrence.active:
                    occurrence.active, occurrence.cancelled_at = False, now
            for entry in db.session.scalars(select(WaitlistEntry).where(WaitlistEntry.hold_booking_id == booking.id)):
                entry.status = "lapsed"
            audit(booking, None, "hold_lapsed")
            signals.waitlist_lapsed.send(booking, now=now, actor=None)
            db.session.flush()
            count += 1
    return count


def offer_freed_slots(*, now: datetime, guard: ItemGuard | None = None) -> tuple[int, int]:
    """Lapse unaccepted holds, then offer each freed slot to the first in line. Returns (offered, lapsed).
    Each hold and each offer on its own: one that fails is logged and counted in `guard`, the others go on."""
    guard = guard or ItemGuard("waitlist")
    lapsed = _lapse_holds(now, guard)
    waiting = db.session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.status == "waiting")
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    ).all()
    offered = 0
    for entry in waiting:
        with guard.item(entry.id, commit=True):  # each offer committed on its own: the lock is released
            if entry.start_at <= now:
                entry.status = "lapsed"
                continue
            resource = entry.resource
            lock_resources([resource.id])
            span = Span(entry.start_at, entry.end_at, entry.units)
            if find_clashes(resource, [span], requester=entry.user, now=now):
                continue
            klass = requester_class(entry.user, resource)
            hold = Booking(
                resource=resource,
                requester=entry.user,
                title=entry.title,
                units=entry.units,
                status=Status.PENDING.value,
                price_amount=price_of(resource, klass, [span], entry.units, None),
                currency=resource.currency,
                requester_class=klass,
                created_at=now,
                hold_until=now + HOLD,
            )
            hold.occurrences = [
                Occurrence(
                    resource_id=resource.id,
                    start_at=span.start,
                    end_at=span.end,
                    units=entry.units,
                    exclusive=resource.units == 1,
                    active=True,
                    uid=new_uid(),
                )
            ]
            db.session.add(hold)
            db.session.flush()
            entry.status, entry.offered_at, entry.hold_booking_id = "offered", now, hold.id
            audit(hold, None, "hold_offered", waitlist_entry=entry.id)
            db.session.flush()
            signals.waitlist_offered.send(hold, now=now, actor=None, entry=entry)
            offered += 1
    return offered, lapsed
