"""Reservations: create, reschedule, cancel, decide, list, and explain refusals."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import wraps
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import SessionTransaction, lazyload, selectinload

from accounts import budget
from accounts.models import Role, User
from app.database import utcnow
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.extensions import db
from app.transactions import ItemGuard, abandon
from app.zones import to_local, to_utc
from availability.busy import lock_resources, note_longest
from availability.intervals import Span
from availability.rules import Clash
from availability.services import find_clashes, free_among, nearest_slots
from bookings import signals
from bookings.models import HOLDING, AuditEntry, Booking, Occurrence, Status
from bookings.recurrence import RecurrenceError, expand
from bookings.schemas import clash_json, suggestions_json
from resources.models import Approval, Kind, Resource
from resources.services import can_manage, get_resource, is_authorized, visibility_clause

MAX_SPAN = timedelta(days=366)
SUGGESTION_STEP = timedelta(minutes=30)
SUGGESTION_HORIZON = timedelta(days=7)


class BookingConflict(Conflict):
    """Some requested occurrence cannot be booked; `conflicts` says which and why."""

    title = "Booking conflict"

    def __init__(self, clashes: Sequence[Clash], resource: Resource, suggestions: dict[str, Any] | None = None):
        self.clashes = list(clashes)
        self.resource = resource
        self.suggestions = suggestions or {}
        count = len(self.clashes)
        super().__init__(
            _l("%(num)s of the requested times cannot be booked.", num=count)
            if count > 1
            else _l("The requested time cannot be booked: %(detail)s.", detail=self.clashes[0].detail)
        )

    def problem_fields(self) -> dict[str, Any]:
        tz = self.resource.timezone
        fields: dict[str, Any] = {"conflicts": [clash_json(c, tz) for c in self.clashes]}
        if self.suggestions:
            fields["suggestions"] = suggestions_json(self.suggestions, tz)
        return fields


# --- who, what, how much -----------------------------------------------------------------------


def requester_class(user: User, resource: Resource) -> str:
    return "own" if user.institution_id == resource.institution_id else "partner"


def needs_approval(user: User, resource: Resource) -> bool:
    if can_manage(user, resource.institution_id):
        return False
    if resource.approval == Approval.ALL:
        return True
    return resource.approval == Approval.PARTNERS and requester_class(user, resource) != "own"


def price_of(resource: Resource, klass: str, spans: Sequence[Span], units: int, nights: int | None) -> Decimal:
    rate = Decimal(str(resource.tariffs.get(klass, 0) or 0))
    if nights is not None:
        quantity = Decimal(nights)
    else:
        quantity = sum((Decimal((s.end - s.start).total_seconds()) / 3600 for s in spans), Decimal(0))
    return (rate * quantity * units).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- turning input into spans ------------------------------------------------------------------


@dataclass
class Plan:
    spans: list[Span]
    local_start: datetime
    local_end: datetime
    nights: int | None = None
    all_day: bool = False


def _local_naive(value: datetime, tz_name: str) -> datetime:
    return value if value.tzinfo is None else to_local(value, tz_name).replace(tzinfo=None)


def _at(day: date, hhmm: str | None, default: str) -> datetime:
    hours, minutes = (hhmm or default).split(":")
    return datetime.combine(day, time(int(hours), int(minutes)))


def plan_spans(
    resource: Resource, start: datetime | date, end: datetime | date, units: int, recurrence: str | None
) -> Plan:
    """The UTC spans a request asks for; naive input is the resource's wall-clock time."""
    nights = None
    all_day = False
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        if resource.kind != Kind.DORM or isinstance(start, datetime) or isinstance(end, datetime):
            raise InvalidInput({"start": _l("give dates for both start and end (dorms), or date-times for both")})
        if end <= start:
            raise InvalidInput({"end": _l("the check-out day must be after the check-in day")})
        nights = (end - start).days
        local_start = _at(start, resource.check_in_time, "14:00")
        local_end = _at(end, resource.check_out_time, "11:00")
        all_day = True
    else:
        local_start = _local_naive(start, resource.timezone)
        local_end = _local_naive(end, resource.timezone)
    try:
        if recurrence:
            pairs = expand(recurrence, local_start, local_end, resource.timezone)
        else:
            first = to_utc(start, resource.timezone) if isinstance(start, datetime) and start.tzinfo else None
            last = to_utc(end, resource.timezone) if isinstance(end, datetime) and end.tzinfo else None
            pairs = [(first or to_utc(local_start, resource.timezone), last or to_utc(local_end, resource.timezone))]
    except RecurrenceError as exc:
        raise InvalidInput({"recurrence": exc.message}) from exc
    except ValueError as exc:
        raise InvalidInput({"start": str(exc)}) from exc
    span_start, span_end = pairs[0]
    if span_end <= span_start:
        raise InvalidInput({"end": _l("must be after start")})
    if span_end - span_start > MAX_SPAN:
        raise InvalidInput({"end": _l("one booking may last at most a year")})
    if units > resource.units:
        raise InvalidInput({"units": _l("this resource has %(num)s unit(s)", num=resource.units)})
    spans = [Span(s, e, units) for s, e in pairs]
    return Plan(spans, local_start, local_end, nights, all_day)


# --- create ------------------------------------------------------------------------------------


def audit(booking: Booking, actor: User | None, action: str, **details: Any) -> None:
    db.session.add(
        AuditEntry(booking=booking, actor_id=actor.id if actor else None, action=action, details=details, at=utcnow())
    )


def new_uid() -> str:
    return f"{secrets.token_hex(16)}@atu-facilities"


def check_access(requester: User, resource: Resource, now: datetime) -> None:
    if (
        not resource.allow_partners
        and requester_class(requester, resource) == "partner"
        and requester.role != Role.ADMIN
    ):
        raise PermissionDenied(_l("This resource is not open to partner universities."))
    if not is_authorized(requester, resource, now):
        raise PermissionDenied(_l("This resource needs training: ask its manager for an authorisation."))


T = TypeVar("T")


def announces_refusals(book: Callable[..., T]) -> Callable[..., T]:
    """A service that books or moves (its actor first, `now` by keyword) announces each BookingConflict it
    raises (signals.booking_refused), then raises it on: the reports count demand that could not be met."""

    @wraps(book)
    def announcing(actor: User, *args: Any, now: datetime, **kwargs: Any) -> T:
        try:
            return book(actor, *args, now=now, **kwargs)
        except BookingConflict as refusal:
            signals.booking_refused.send(refusal.resource, clashes=refusal.clashes, actor=actor, now=now)
            raise

    return announcing


@announces_refusals
def create_booking(
    requester: User,
    *,
    resource_id: int,
    start: datetime | date,
    end: datetime | date,
    title: str,
    now: datetime,
    units: int = 1,
    recurrence: str | None = None,
    skip_conflicts: bool = False,
    project_code: str = "",
    idempotency_key: str | None = None,
    event_id: int | None = None,
) -> tuple[Booking, list[Clash]]:
    """Book, or raise BookingConflict naming every clash; returns the booking and any skipped clashes."""
    resource = get_resource(requester, resource_id)
    check_access(requester, resource, now)
    plan = plan_spans(resource, start, end, units, recurrence)

    lock_resources([resource.id])
    if idempotency_key:
        earlier = db.session.scalar(
            select(Booking).where(Booking.requester_id == requester.id, Booking.idempotency_key == idempotency_key)
        )
        if earlier is not None:
            return earlier, []
    clashes = find_clashes(resource, plan.spans, requester=requester, now=now)
    clashing = {(c.start, c.end) for c in clashes}
    free = [s for s in plan.spans if (s.start, s.end) not in clashing]
    if clashes and (not skip_conflicts or not free):
        raise BookingConflict(
            clashes, resource, suggest(requester, resource, plan.spans[0], now=now) if len(plan.spans) == 1 else None
        )

    budget.spend_booking(requester, now)
    klass = requester_class(requester, resource)
    booking = Booking(
        resource=resource,
        requester=requester,
        title=title,
        units=units,
        status=Status.PENDING.value if needs_approval(requester, resource) else Status.CONFIRMED.value,
        recurrence=recurrence,
        all_day=plan.all_day,
        price_amount=price_of(resource, klass, free, units, plan.nights),
        currency=resource.currency,
        requester_class=klass,
        project_code=project_code,
        idempotency_key=idempotency_key,
        event_id=event_id,
        # Requested "now" by the business clock, which also decides when a pending request expires.
        created_at=now,
    )
    booking.occurrences = [
        Occurrence(
            resource_id=resource.id,
            start_at=s.start,
            end_at=s.end,
            units=units,
            exclusive=resource.units == 1,
            active=True,
            uid=new_uid(),
        )
        for s in free
    ]
    savepoint = writing_point()
    db.session.add(booking)
    note_longest(resource, free)
    audit(booking, requester, "created", status=booking.status, occurrences=len(free), skipped=len(clashes))
    flush_or_conflict(resource, free, savepoint)
    signals.booking_created.send(booking, now=now, actor=requester)
    return booking, clashes


def writing_point() -> SessionTransaction | None:
    """Where a refused write goes back to: a savepoint inside a larger all-or-nothing step (an event's
    items, which go on to collect every refusal), else nothing, so a plain booking spends no round trips
    on SAVEPOINT and RELEASE (the lock makes the backstop below all but unreachable)."""
    return db.session.begin_nested() if db.session().in_nested_transaction() else None


def flush_or_conflict(resource: Resource, spans: Sequence[Span], savepoint: SessionTransaction | None) -> None:
    """Flush the write (begun with `savepoint`, if any, which is released). The PostgreSQL exclusion
    constraint firing means a double booking was stopped: the savepoint is rolled back, or else the whole
    transaction is abandoned (app.transactions.abandon), so the session stays usable (a page can still
    render the conflict), and the request ends in a rollback as every refusal does."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        if savepoint is not None:
            savepoint.rollback()
        else:
            abandon()
        if "ex_occurrences_no_overlap" not in str(exc.orig):
            raise
        raise BookingConflict(
            [Clash(s.start, s.end, "overlap", _l("already booked")) for s in spans], resource
        ) from exc
    if savepoint is not None:
        savepoint.commit()


# --- read --------------------------------------------------------------------------------------


def may_see_booking(viewer: User, booking: Booking) -> bool:
    return booking.requester_id == viewer.id or can_manage(viewer, booking.resource.institution_id)


def get_booking(viewer: User, booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None or not may_see_booking(viewer, booking):
        raise NotFound(_l("No booking %(id)s.", id=booking_id))
    return booking


def list_bookings(
    viewer: User,
    *,
    mine: bool = False,
    resource_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    status: str | None = None,
    limit: int = 200,
) -> list[Booking]:
    """My bookings, plus (for managers and admins, unless `mine`) those on resources they manage."""
    query = select(Booking).join(Resource, Resource.id == Booking.resource_id)
    if mine or viewer.role == Role.MEMBER:
        query = query.where(Booking.requester_id == viewer.id)
    elif viewer.role == Role.MANAGER:
        query = query.where(or_(Booking.requester_id == viewer.id, Resource.institution_id == viewer.institution_id))
    if resource_id is not None:
        query = query.where(Booking.resource_id == resource_id)
    if status:
        query = query.where(Booking.status == status)
    if start is not None or end is not None:
        window = select(Occurrence.booking_id)
        if start is not None:
            window = window.where(Occurrence.end_at > start)
        if end is not None:
            window = window.where(Occurrence.start_at < end)
        query = query.where(Booking.id.in_(window))
    query = query.options(selectinload(Booking.occurrences))  # every listed booking shows its occurrences
    return list(db.session.scalars(query.order_by(Booking.created_at.desc(), Booking.id.desc()).limit(limit)))


def list_approvals(actor: User) -> list[Booking]:
    if actor.role == Role.MEMBER:
        raise PermissionDenied(_l("Only managers and admins decide requests."))
    query = (
        select(Booking)
        .join(Resource, Resource.id == Booking.resource_id)
        .where(
            Booking.status == Status.PENDING, Booking.hold_until.is_(None)
        )  # holds await the requester, not a manager
    )
    if actor.role == Role.MANAGER:
        query = query.where(Resource.institution_id == actor.institution_id)
    return list(
        db.session.scalars(query.options(selectinload(Booking.occurrences)).order_by(Booking.created_at, Booking.id))
    )


# --- change ------------------------------------------------------------------------------------


def _refresh_status(booking: Booking) -> None:
    if all(not o.active for o in booking.occurrences) and booking.status in HOLDING:
        booking.status = Status.CANCELLED.value


def cancel_booking(
    actor: User, booking_id: int, *, occurrence_id: int | None = None, following: bool = False, now: datetime
) -> Booking:
    """Cancel the whole booking, one occurrence, or one occurrence and all after it; the units free at once."""
    return cancel_loaded(
        actor, get_booking(actor, booking_id), occurrence_id=occurrence_id, following=following, now=now
    )


def cancel_loaded(
    actor: User, booking: Booking, *, occurrence_id: int | None = None, following: bool = False, now: datetime
) -> Booking:
    """`cancel_booking` for a booking the caller has already checked the actor may cancel."""
    booking_id = booking.id
    if booking.status not in HOLDING:
        raise Conflict(_l("This booking is already %(status)s.", status=Status(booking.status).label))
    if occurrence_id is None:
        targets = [o for o in booking.occurrences if o.active]
    else:
        chosen = next((o for o in booking.occurrences if o.id == occurrence_id), None)
        if chosen is None:
            raise NotFound(
                _l("No occurrence %(occurrence)s in booking %(booking)s.", occurrence=occurrence_id, booking=booking_id)
            )
        targets = [
            o
            for o in booking.occurrences
            if o.active and (o.id == chosen.id or (following and o.start_at >= chosen.start_at))
        ]
        if not targets:
            raise Conflict(_l("That occurrence is already cancelled."))
    for occurrence in targets:
        occurrence.active = False
        occurrence.cancelled_at = now
        occurrence.sequence += 1
    if occurrence_id is None:
        booking.status = Status.CANCELLED.value
    _refresh_status(booking)
    booking.updated_at = utcnow()
    scope = "all" if occurrence_id is None else ("following" if following else "one")
    audit(booking, actor, "cancelled", scope=scope, occurrences=[o.id for o in targets])
    db.session.flush()
    signals.booking_cancelled.send(booking, now=now, actor=actor, occurrences=targets)
    return booking


def update_booking(
    actor: User,
    booking_id: int,
    *,
    now: datetime,
    start: datetime | date | None = None,
    end: datetime | date | None = None,
    occurrence_id: int | None = None,
    title: str | None = None,
    project_code: str | None = None,
) -> Booking:
    """Change the title or project code, or move one booking (or one occurrence) with every check."""
    booking = get_booking(actor, booking_id)
    if booking.status not in HOLDING:
        raise Conflict(_l("This booking is %(status)s; it cannot be changed.", status=Status(booking.status).label))
    changes: dict[str, Any] = {}
    if title is not None and title != booking.title:
        changes["title"] = [booking.title, title]
        booking.title = title
    if project_code is not None and project_code != booking.project_code:
        changes["project_code"] = [booking.project_code, project_code]
        booking.project_code = project_code
    if start is not None or end is not None:
        moved = _move(actor, booking, start, end, occurrence_id, now=now)
        changes.update(moved)
        signals.booking_rescheduled.send(booking, now=now, actor=actor, change=moved["moved"])
    if changes:
        booking.updated_at = utcnow()
        audit(booking, actor, "updated", **changes)
    db.session.flush()
    return booking


@announces_refusals
def _move(actor: User, booking: Booking, start, end, occurrence_id: int | None, *, now: datetime) -> dict[str, Any]:
    active = [o for o in booking.occurrences if o.active]
    if occurrence_id is not None:
        target = next((o for o in active if o.id == occurrence_id), None)
        if target is None:
            raise NotFound(
                _l(
                    "No active occurrence %(occurrence)s in booking %(booking)s.",
                    occurrence=occurrence_id,
                    booking=booking.id,
                )
            )
    elif len(active) == 1:
        target = active[0]
    else:
        raise InvalidInput({"occurrence_id": _l("say which occurrence of the series to move")})
    resource = booking.resource
    tz = resource.timezone
    if start is None or end is None:
        # Keep the missing edge: moving only the start keeps the end, and the other way round.
        start = start if start is not None else to_local(target.start_at, tz).replace(tzinfo=None)
        end = end if end is not None else to_local(target.end_at, tz).replace(tzinfo=None)
    plan = plan_spans(resource, start, end, booking.units, None)
    span = plan.spans[0]
    lock_resources([resource.id])
    savepoint = db.session.begin_nested()
    # The occurrence being moved must not clash with itself: check with it set aside.
    target.active = False
    db.session.flush()
    clashes = find_clashes(resource, [span], requester=booking.requester, now=now, viewer=actor)
    if clashes:
        savepoint.rollback()  # the occurrence is back as it was
        raise BookingConflict(clashes, resource, suggest(booking.requester, resource, span, now=now))
    before = [target.start_at.isoformat(), target.end_at.isoformat()]
    target.start_at, target.end_at = span.start, span.end
    target.active = True
    target.sequence += 1
    note_longest(resource, [span])
    if len(booking.occurrences) == 1:
        booking.price_amount = price_of(resource, booking.requester_class, [span], booking.units, plan.nights)
    flush_or_conflict(resource, [span], savepoint)
    return {"moved": {"occurrence": target.id, "from": before, "to": [span.start.isoformat(), span.end.isoformat()]}}


def current_clashes(booking: Booking, viewer: User | None = None) -> list[Clash]:
    """What a request clashes with now, its own units set aside (shown on /approvals, checked on approval).

    The same rules a new booking meets, asked as of the moment it was requested: a notice or a
    booking window met then stays met, while opening hours, blocks, imported busy time, linked
    resources and other bookings are as they are now.
    """
    spans = [Span(o.start_at, o.end_at, o.units) for o in booking.occurrences if o.active]
    return find_clashes(
        booking.resource,
        spans,
        requester=booking.requester,
        now=booking.created_at,
        exclude_booking_id=booking.id,
        viewer=viewer,
    )


def decide_booking(actor: User, booking_id: int, *, approve: bool, reason: str = "", now: datetime) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None or not may_see_booking(actor, booking):
        raise NotFound(_l("No booking %(id)s.", id=booking_id))
    if not can_manage(actor, booking.resource.institution_id):
        raise PermissionDenied(_l("Only a manager of the owning university (or an admin) decides requests."))
    if booking.status != Status.PENDING:
        raise Conflict(_l("This booking is %(status)s, not pending.", status=Status(booking.status).label))
    if approve:
        lock_resources([booking.resource_id])
        clashes = current_clashes(booking, viewer=actor)
        if clashes:
            # Something arrived since the request (a block, an imported busy time): say so, approve nothing.
            raise BookingConflict(clashes, booking.resource)
    booking.status = Status.CONFIRMED.value if approve else Status.REJECTED.value
    booking.decided_by_id = actor.id
    booking.decision_reason = reason
    booking.updated_at = utcnow()
    for occurrence in booking.occurrences:
        occurrence.sequence += 1
        if not approve and occurrence.active:
            occurrence.active = False
            occurrence.cancelled_at = now
    audit(booking, actor, "approved" if approve else "rejected", reason=reason)
    db.session.flush()
    (signals.booking_confirmed if approve else signals.booking_rejected).send(booking, now=now, actor=actor)
    return booking


CHECK_IN_OPENS = timedelta(minutes=15)


def check_in(actor: User, booking_id: int, *, occurrence_id: int | None, now: datetime) -> Occurrence:
    """Check in to a session: from 15 minutes before its start until it ends."""
    booking = get_booking(actor, booking_id)
    if not booking.resource.check_in_required:
        raise InvalidInput({"booking": _l("this resource does not use check-in")})
    if booking.status != Status.CONFIRMED:
        raise Conflict(
            _l(
                "This booking is %(status)s; only confirmed bookings are checked in.",
                status=Status(booking.status).label,
            )
        )
    candidates = [o for o in booking.occurrences if o.active and (occurrence_id is None or o.id == occurrence_id)]
    current = next((o for o in candidates if o.start_at - CHECK_IN_OPENS <= now < o.end_at), None)
    if current is None:
        raise Conflict(_l("Check-in opens 15 minutes before the session and closes when it ends."))
    if current.checked_in_at is None:
        current.checked_in_at = now
        audit(booking, actor, "checked_in", occurrence=current.id)
    db.session.flush()
    return current


def release_no_shows(*, now: datetime, guard: ItemGuard | None = None) -> list[Occurrence]:
    """Free sessions of check-in resources nobody checked in to within the grace minutes."""
    candidates = db.session.scalars(
        select(Occurrence)
        .join(Resource, Resource.id == Occurrence.resource_id)
        .where(
            Resource.check_in_required.is_(True),
            Occurrence.active.is_(True),
            Occurrence.checked_in_at.is_(None),
            Occurrence.start_at <= now,
            Occurrence.end_at > now,
        )
    ).all()
    released = []
    guard = guard or ItemGuard("no-shows")
    for occurrence in candidates:
        with guard.item(occurrence.id):
            booking = occurrence.booking
            if booking.status != Status.CONFIRMED:
                continue
            if occurrence.start_at + timedelta(minutes=booking.resource.no_show_minutes) > now:
                continue
            occurrence.active = False
            occurrence.cancelled_at = now
            occurrence.sequence += 1
            _refresh_status(booking)
            booking.updated_at = utcnow()
            audit(booking, None, "no_show", occurrence=occurrence.id)
            db.session.flush()
            signals.booking_released.send(booking, now=now, actor=None, occurrence=occurrence)
            released.append(occurrence)
    return released


def expire_pending(*, now: datetime, guard: ItemGuard | None = None) -> list[Booking]:
    """Reject pending requests not decided within their resource's deadline, freeing their units."""
    pending = db.session.scalars(
        select(Booking)
        .where(Booking.status == Status.PENDING, Booking.hold_until.is_(None))
        .order_by(Booking.created_at, Booking.id)
    ).all()
    expired = []
    guard = guard or ItemGuard("expire-pending")
    for booking in pending:
        with guard.item(booking.id):
            if booking.created_at + timedelta(hours=booking.resource.approval_deadline_hours) > now:
                continue
            booking.status = Status.REJECTED.value
            booking.decision_reason = f"Expired: not decided within {booking.resource.approval_deadline_hours} hours."
            booking.updated_at = utcnow()
            for occurrence in booking.occurrences:
                occurrence.sequence += 1
                if occurrence.active:
                    occurrence.active = False
                    occurrence.cancelled_at = now
            audit(booking, None, "expired", deadline_hours=booking.resource.approval_deadline_hours)
            db.session.flush()
            signals.booking_rejected.send(booking, now=now, actor=None, expired=True)
            expired.append(booking)
    db.session.flush()
    return expired


# --- helpful refusals --------------------------------------------------------------------------


def suggest(requester: User | None, resource: Resource, span: Span, *, now: datetime, limit: int = 3) -> dict[str, Any]:
    """The nearest free slots of the same length here, and equivalent resources free at that time."""
    return {
        "slots": nearest_slots(
            requester, resource, span, now=now, step=SUGGESTION_STEP, horizon=SUGGESTION_HORIZON, limit=limit
        ),
        "resources": _equivalents(requester, resource, span, now=now, limit=limit),
    }


def _equivalents(
    requester: User | None, resource: Resource, span: Span, *, now: datetime, limit: int
) -> list[Resource]:
    """The first `limit` resources like this one (kind, units, capacity; in institution and id order,
    among the first 50) that are free for `span`. Looked at ten at a time, so a refusal usually reads
    one small batch; the answer is the same as judging all 50 at once."""
    alike = (
        select(Resource)
        .where(
            visibility_clause(requester),
            Resource.id != resource.id,
            Resource.kind == resource.kind,
            Resource.units >= span.units,
            Resource.capacity >= (resource.capacity or 0),
        )
        .order_by(Resource.institution_id, Resource.id)
        # A suggestion names the resource; its features and links are not needed to judge or show it.
        .options(lazyload(Resource.feature_rows), lazyload(Resource.linked))
    )
    found: list[Resource] = []
    for offset in range(0, EQUIVALENTS_CONSIDERED, EQUIVALENTS_BATCH):
        batch = db.session.scalars(alike.offset(offset).limit(EQUIVALENTS_BATCH)).all()
        found += free_among(batch, {r.id: span for r in batch}, requester=requester, now=now)
        if len(found) >= limit or len(batch) < EQUIVALENTS_BATCH:
            break
    return found[:limit]


EQUIVALENTS_CONSIDERED, EQUIVALENTS_BATCH = 50, 10


REMINDER_AHEAD = timedelta(hours=24)


def remind_upcoming(*, now: datetime, guard: ItemGuard | None = None) -> int:
    """Announce (reminder_due) each confirmed occurrence starting within the next 24 hours, never twice."""
    due = db.session.scalars(
        select(Occurrence)
        .join(Booking, Booking.id == Occurrence.booking_id)
        .where(
            Occurrence.active.is_(True),
            Occurrence.reminded_at.is_(None),
            Occurrence.start_at > now,
            Occurrence.start_at <= now + REMINDER_AHEAD,
            Booking.status == Status.CONFIRMED,
        )
        .order_by(Occurrence.start_at)
    ).all()
    guard = guard or ItemGuard("reminders")
    reminded = 0
    for occurrence in due:
        with guard.item(occurrence.id):
            occurrence.reminded_at = now
            db.session.flush()
            signals.reminder_due.send(occurrence.booking, now=now, actor=None, occurrence=occurrence)
            reminded += 1
    return reminded
