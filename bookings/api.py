"""JSON API for bookings, approvals, availability and authorisations."""

from __future__ import annotations

from datetime import datetime, time

from flask import Blueprint, request, url_for
from flask_babel import lazy_gettext as _l

from app import clock
from app.api import current_api_user, require_api_user
from app.apidoc import operation
from app.errors import InvalidInput
from app.extensions import db
from app.validation import parse_json
from availability import services as engine
from bookings import services
from bookings.schemas import (
    AuthorizationCreate,
    AuthorizationList,
    AuthorizationOut,
    Availability,
    AvailabilityQuery,
    BookingConflictProblem,
    BookingCreate,
    BookingCreated,
    BookingList,
    BookingOut,
    BookingQuery,
    BookingUpdate,
    CancelQuery,
    CheckIn,
    ClashOut,
    Decision,
    EventChange,
    EventConflictProblem,
    EventCreate,
    EventList,
    EventOut,
    EventPatch,
    EventPreview,
    EventsQuery,
    IdempotencyHeader,
    OccurrenceQuery,
    Statement,
    StatementQuery,
    StatementRow,
    WaitlistEntry,
    WaitlistJoin,
    WaitlistList,
)
from bookings.schemas import _date_or_datetime as parse_when
from calendars.zones import isoformat_local, to_utc
from resources import services as catalogue

bp = Blueprint("bookings_api", __name__)


def _query_instant(name: str, tz: str, required: bool = True) -> datetime | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        if required:
            raise InvalidInput({name: _l("is required")})
        return None
    try:
        value = parse_when(raw)
        if not isinstance(value, datetime):
            value = datetime.combine(value, time())
        return to_utc(value, tz)
    except ValueError as exc:
        raise InvalidInput({name: str(exc)}) from exc


def _query_id(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 2**31 - 1:
        raise InvalidInput({name: _l("must be a positive integer")})
    return int(raw)


@bp.post("/bookings")
@operation(
    BookingCreated,
    status=201,
    body=BookingCreate,
    headers=IdempotencyHeader,
    errors=(403, 404),
    problems={409: BookingConflictProblem},
    auth=True,
)
def create_booking():
    """Book a resource (one-off, recurring with an RRULE, or dorm nights with dates); honours Idempotency-Key"""
    user = require_api_user()
    data = parse_json(BookingCreate, request.get_data())
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 200:
        raise InvalidInput({"Idempotency-Key": _l("must be 1 to 200 characters")})
    booking, skipped = services.create_booking(user, **data.model_dump(), idempotency_key=key, now=clock.now())
    db.session.commit()
    values = BookingOut.fields_of(booking)
    if skipped:
        values["skipped"] = [ClashOut.of(c, booking.resource.timezone) for c in skipped]
    return BookingCreated.model_validate(values), {"Location": url_for(".get_booking", booking_id=booking.id)}


@bp.get("/bookings")
@operation(BookingList, query=BookingQuery, auth=True)
def list_bookings():
    """My bookings (managers and admins also see their resources' bookings)"""
    user = require_api_user()
    mine = request.args.get("mine", "") in {"1", "true", "yes"}
    tz = "Europe/Bucharest"
    bookings = services.list_bookings(
        user,
        mine=mine,
        resource_id=_query_id("resource_id"),
        start=_query_instant("from", tz, required=False),
        end=_query_instant("to", tz, required=False),
        status=request.args.get("status")
        if request.args.get("status") in {"pending", "confirmed", "rejected", "cancelled"}
        else None,
    )
    return BookingList(items=[BookingOut.of(b) for b in bookings])


@bp.get("/bookings/<id:booking_id>")
@operation(BookingOut, errors=(404,), auth=True)
def get_booking(booking_id: int):
    """One booking"""
    return BookingOut.of(services.get_booking(require_api_user(), booking_id))


@bp.patch("/bookings/<id:booking_id>")
@operation(BookingOut, body=BookingUpdate, errors=(403, 404), problems={409: BookingConflictProblem}, auth=True)
def update_booking(booking_id: int):
    """Reschedule (one booking or one occurrence) or rename, with every check"""
    user = require_api_user()
    data = parse_json(BookingUpdate, request.get_data())
    booking = services.update_booking(user, booking_id, now=clock.now(), **data.model_dump(exclude_unset=True))
    db.session.commit()
    return BookingOut.of(booking)


@bp.delete("/bookings/<id:booking_id>")
@operation(BookingOut, query=CancelQuery, errors=(403, 404, 409), auth=True)
def cancel_booking(booking_id: int):
    """Cancel the booking, one occurrence (occurrence_id) or it and the following (following=1)"""
    user = require_api_user()
    following = request.args.get("following", "") in {"1", "true", "yes"}
    booking = services.cancel_booking(
        user, booking_id, occurrence_id=_query_id("occurrence_id"), following=following, now=clock.now()
    )
    db.session.commit()
    return BookingOut.of(booking)


def _decide(booking_id: int, *, approve: bool):
    user = require_api_user()
    data = parse_json(Decision, request.get_data() or b"{}")
    booking = services.decide_booking(user, booking_id, approve=approve, reason=data.reason, now=clock.now())
    db.session.commit()
    return BookingOut.of(booking)


@bp.post("/bookings/<id:booking_id>/approve")
@operation(
    BookingOut, body=Decision, body_required=False, errors=(403, 404), problems={409: BookingConflictProblem}, auth=True
)
def approve_booking(booking_id: int):
    """Approve a pending request (managers of the owning university); the booking rules apply again"""
    return _decide(booking_id, approve=True)


@bp.post("/bookings/<id:booking_id>/reject")
@operation(BookingOut, body=Decision, body_required=False, errors=(403, 404, 409), auth=True)
def reject_booking(booking_id: int):
    """Reject a pending request with a reason"""
    return _decide(booking_id, approve=False)


@bp.get("/approvals")
@operation(BookingList, errors=(403,), auth=True)
def list_approvals():
    """Pending requests the caller may decide, oldest first"""
    return BookingList(items=[BookingOut.of(b) for b in services.list_approvals(require_api_user())])


@bp.get("/resources/<id:resource_id>/availability")
@operation(Availability, query=AvailabilityQuery, errors=(404,))
def availability(resource_id: int):
    """Busy and free time of a resource for the caller: free is what the caller could book now"""
    viewer = current_api_user()
    resource = catalogue.get_resource(viewer, resource_id)
    start = _query_instant("from", resource.timezone)
    end = _query_instant("to", resource.timezone)
    assert start is not None and end is not None  # required=True raised otherwise
    pieces = engine.availability(resource, start, end, viewer=viewer, now=clock.now())
    tz = resource.timezone
    return {
        "busy": [
            {"start": isoformat_local(p.start, tz), "end": isoformat_local(p.end, tz), "reason": p.reason}
            for p in pieces
            if p.reason is not None
        ],
        "free": [
            {"start": isoformat_local(p.start, tz), "end": isoformat_local(p.end, tz)}
            for p in pieces
            if p.reason is None
        ],
    }


@bp.get("/resources/<id:resource_id>/authorizations")
@operation(AuthorizationList, errors=(403, 404), auth=True)
def list_authorizations(resource_id: int):
    """Who is authorised (trained) for the resource"""
    grants = catalogue.list_authorizations(require_api_user(), resource_id)
    return AuthorizationList(items=[AuthorizationOut.of(g) for g in grants])


@bp.post("/resources/<id:resource_id>/authorizations")
@operation(AuthorizationOut, status=201, body=AuthorizationCreate, errors=(403, 404), auth=True)
def grant_authorization(resource_id: int):
    """Authorise a user, optionally until an expiry"""
    user = require_api_user()
    data = parse_json(AuthorizationCreate, request.get_data())
    resource = catalogue.get_resource(user, resource_id)
    expires_at = None
    if data.expires is not None:
        value = data.expires if isinstance(data.expires, datetime) else datetime.combine(data.expires, time(23, 59, 59))
        try:
            expires_at = to_utc(value, resource.timezone)
        except ValueError as exc:
            raise InvalidInput({"expires": str(exc)}) from exc
    grant = catalogue.grant_authorization(user, resource_id, email=data.email, expires_at=expires_at)
    db.session.commit()
    return AuthorizationOut.of(grant)


@bp.delete("/resources/<id:resource_id>/authorizations/<id:authorization_id>")
@operation(status=204, errors=(403, 404), auth=True)
def revoke_authorization(resource_id: int, authorization_id: int):
    """Withdraw an authorisation"""
    catalogue.revoke_authorization(require_api_user(), resource_id, authorization_id)
    db.session.commit()
    return "", 204


@bp.get("/statements")
@operation(Statement, query=StatementQuery, errors=(403,), auth=True)
def get_statement():
    """Monthly settlement per pair of universities: bookings, hours, nights, amounts (managers, admins)"""
    from bookings.statements import statement

    month = request.args.get("month", "")[:7]
    rows = statement(require_api_user(), month)
    return Statement(month=month, items=[StatementRow.model_validate(r) for r in rows])


@bp.post("/bookings/<id:booking_id>/check-in")
@operation(CheckIn, query=OccurrenceQuery, errors=(403, 404, 409), auth=True)
def check_in(booking_id: int):
    """Check in to the current session (from 15 minutes before its start)"""
    user = require_api_user()
    occurrence = services.check_in(user, booking_id, occurrence_id=_query_id("occurrence_id"), now=clock.now())
    db.session.commit()
    return CheckIn(booking_id=booking_id, occurrence_id=occurrence.id, checked_in_at=occurrence.checked_in_at)


@bp.post("/waitlist")
@operation(WaitlistEntry, status=201, body=WaitlistJoin, errors=(403, 404), auth=True)
def join_waitlist():
    """Wait for a taken slot: when it frees, a two-hour hold is offered by mail"""
    from bookings.waitlist import join_waitlist as join

    user = require_api_user()
    data = parse_json(WaitlistJoin, request.get_data())
    entry = join(user, **data.model_dump(), now=clock.now())
    db.session.commit()
    return WaitlistEntry.of(entry)


@bp.get("/waitlist")
@operation(WaitlistList, auth=True)
def list_waitlist():
    """My waitlist entries"""
    from bookings.waitlist import list_waitlist as entries

    return WaitlistList(items=[WaitlistEntry.of(e) for e in entries(require_api_user())])


@bp.delete("/waitlist/<id:entry_id>")
@operation(status=204, errors=(404,), auth=True)
def leave_waitlist(entry_id: int):
    """Leave the waitlist"""
    from bookings.waitlist import leave_waitlist as leave

    leave(require_api_user(), entry_id)
    db.session.commit()
    return "", 204


@bp.post("/bookings/<id:booking_id>/accept")
@operation(BookingOut, errors=(403, 404), problems={409: BookingConflictProblem}, auth=True)
def accept_hold(booking_id: int):
    """Accept a hold offered from the waitlist"""
    from bookings.waitlist import accept_hold as accept

    booking = accept(require_api_user(), booking_id, now=clock.now())
    db.session.commit()
    return BookingOut.of(booking)


def _items(raw) -> list:
    from bookings.events import Item

    return [Item(**item.model_dump()) for item in raw]


@bp.get("/events")
@operation(EventList, query=EventsQuery)
def list_events():
    """Events that have not ended (public ones for everyone, alliance ones for members); mine=1: those I organise"""
    from bookings.events import list_events as events

    viewer = current_api_user()
    mine = request.args.get("mine") in ("1", "true")
    return EventList(items=[EventOut.of(e, viewer) for e in events(viewer, now=clock.now(), mine=mine)])


@bp.post("/events")
@operation(
    EventOut,
    status=201,
    body=EventCreate,
    errors=(403, 404),
    problems={409: EventConflictProblem},
    auth=True,
    also={200: EventPreview},
)
def create_event():
    """Book a set of resources across universities as one event: all or nothing (dry_run previews, 200)

    A 409 lists each failing item (index) with its clashes and suggestions."""
    from bookings.events import Preview
    from bookings.events import create_event as create

    user = require_api_user()
    data = parse_json(EventCreate, request.get_data())
    result = create(
        user,
        title=data.title,
        description=data.description,
        visibility=data.visibility,
        organisers=data.organisers,
        dry_run=data.dry_run,
        items=_items(data.items),
        now=clock.now(),
    )
    if isinstance(result, Preview):
        return EventPreview.model_validate({"dry_run": True, "items": result.items}), 200
    db.session.commit()
    return EventOut.of(result, user)


@bp.get("/events/<id:event_id>")
@operation(EventOut, errors=(404,))
def get_event(event_id: int):
    """An event: organisers see each item as a booking, others the programme (where and when)"""
    from bookings.events import get_event as get

    viewer = current_api_user()
    return EventOut.of(get(viewer, event_id), viewer)


@bp.patch("/events/<id:event_id>")
@operation(EventChange, body=EventPatch, errors=(403, 404), problems={409: EventConflictProblem}, auth=True)
def change_event(event_id: int):
    """Change an event as one all-or-nothing step (dry_run previews)

    Remove items (booking ids), move the rest by shift_days whole days, add items, change title, description,
    visibility or co-organisers. Requesters, managers and co-organisers are told."""
    from bookings.events import Preview
    from bookings.events import change_event as change

    user = require_api_user()
    data = parse_json(EventPatch, request.get_data())
    result = change(
        user,
        event_id,
        now=clock.now(),
        title=data.title,
        description=data.description,
        visibility=data.visibility,
        organisers=data.organisers,
        add=_items(data.add),
        remove=data.remove,
        shift_days=data.shift_days,
        dry_run=data.dry_run,
    )
    if isinstance(result, Preview):
        return EventChange(EventPreview.model_validate({"dry_run": True, "items": result.items}))
    db.session.commit()
    return EventChange(EventOut.of(result, user))


@bp.delete("/events/<id:event_id>")
@operation(EventOut, errors=(403, 404, 409), auth=True)
def cancel_event(event_id: int):
    """Cancel every item of the event at once"""
    from bookings.events import cancel_event as cancel

    user = require_api_user()
    event = cancel(user, event_id, now=clock.now())
    db.session.commit()
    return EventOut.of(event, user)
