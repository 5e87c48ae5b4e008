"""JSON API for bookings, approvals, availability and authorisations."""

from __future__ import annotations

from datetime import date, datetime, time

from flask import Blueprint, request, url_for

from accounts.auth import current_api_user, require_api_user
from app import clock
from app.apidoc import operation
from app.errors import InvalidInput
from app.validation import parse_headers, parse_json, parse_query
from app.zones import isoformat_local, to_utc
from availability import services as engine
from bookings import services, waitlist
from bookings.schemas import (
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
    IdempotencyHeader,
    OccurrenceQuery,
    Statement,
    StatementQuery,
    StatementRow,
    WaitlistEntry,
    WaitlistJoin,
    WaitlistList,
)
from bookings.statements import statement
from config import DEFAULT_TIMEZONE
from resources import services as catalogue

bp = Blueprint("bookings_api", __name__)


def _instant(name: str, value: date | datetime | None, tz: str) -> datetime | None:
    """A parsed `from`/`to` as UTC: a value without offset (or a date, at midnight) is local time in `tz`."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    try:
        return to_utc(value, tz)
    except ValueError as exc:  # a local time that does not exist there, or out of range
        raise InvalidInput({name: str(exc)}) from exc


@bp.post("/bookings")
@operation(
    BookingCreated,
    status=201,
    body=BookingCreate,
    headers=IdempotencyHeader,
    errors=(403, 404, 429),
    problems={409: BookingConflictProblem},
    auth=True,
)
def create_booking():
    """Book a resource (one-off, recurring with an RRULE, or dorm nights with dates); honours Idempotency-Key"""
    user = require_api_user()
    data = parse_json(BookingCreate, request.get_data())
    key = parse_headers(IdempotencyHeader, request.headers).idempotency_key
    booking, skipped = services.create_booking(user, **data.model_dump(), idempotency_key=key, now=clock.now())
    values = BookingOut.fields_of(booking)
    if skipped:
        values["skipped"] = [ClashOut.of(c, booking.resource.timezone) for c in skipped]
    return BookingCreated.model_validate(values), {"Location": url_for(".get_booking", booking_id=booking.id)}


@bp.get("/bookings")
@operation(BookingList, query=BookingQuery, auth=True)
def list_bookings():
    """My bookings (managers and admins also see their resources' bookings)"""
    user = require_api_user()
    query = parse_query(BookingQuery, request.args)
    bookings = services.list_bookings(
        user,
        mine=query.mine,
        resource_id=query.resource_id,
        start=_instant("from", query.from_, DEFAULT_TIMEZONE),
        end=_instant("to", query.to, DEFAULT_TIMEZONE),
        status=query.status,
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
    return BookingOut.of(booking)


@bp.delete("/bookings/<id:booking_id>")
@operation(BookingOut, query=CancelQuery, errors=(403, 404, 409), auth=True)
def cancel_booking(booking_id: int):
    """Cancel the booking, one occurrence (occurrence_id) or it and the following (following=1)"""
    user = require_api_user()
    query = parse_query(CancelQuery, request.args)
    booking = services.cancel_booking(
        user, booking_id, occurrence_id=query.occurrence_id, following=query.following, now=clock.now()
    )
    return BookingOut.of(booking)


def _decide(booking_id: int, *, approve: bool):
    user = require_api_user()
    data = parse_json(Decision, request.get_data() or b"{}")
    booking = services.decide_booking(user, booking_id, approve=approve, reason=data.reason, now=clock.now())
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
    query = parse_query(AvailabilityQuery, request.args)
    resource = catalogue.get_resource(viewer, resource_id)
    start = _instant("from", query.from_, resource.timezone)
    end = _instant("to", query.to, resource.timezone)
    assert start is not None and end is not None  # both required by the model
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


@bp.get("/statements")
@operation(Statement, query=StatementQuery, errors=(403,), auth=True)
def get_statement():
    """Monthly settlement per pair of universities: bookings, hours, nights, amounts (managers, admins)"""
    user = require_api_user()
    month = parse_query(StatementQuery, request.args).month
    rows = statement(user, month)
    return Statement(month=month, items=[StatementRow.model_validate(r) for r in rows])


@bp.post("/bookings/<id:booking_id>/check-in")
@operation(CheckIn, query=OccurrenceQuery, errors=(403, 404, 409), auth=True)
def check_in(booking_id: int):
    """Check in to the current session (from 15 minutes before its start)"""
    user = require_api_user()
    query = parse_query(OccurrenceQuery, request.args)
    occurrence = services.check_in(user, booking_id, occurrence_id=query.occurrence_id, now=clock.now())
    return CheckIn(booking_id=booking_id, occurrence_id=occurrence.id, checked_in_at=occurrence.checked_in_at)


@bp.post("/waitlist")
@operation(WaitlistEntry, status=201, body=WaitlistJoin, errors=(403, 404), auth=True)
def join_waitlist():
    """Wait for a taken slot: when it frees, a two-hour hold is offered by mail"""
    user = require_api_user()
    data = parse_json(WaitlistJoin, request.get_data())
    entry = waitlist.join_waitlist(user, **data.model_dump(), now=clock.now())
    return WaitlistEntry.of(entry)


@bp.get("/waitlist")
@operation(WaitlistList, auth=True)
def list_waitlist():
    """My waitlist entries"""
    return WaitlistList(items=[WaitlistEntry.of(e) for e in waitlist.list_waitlist(require_api_user())])


@bp.delete("/waitlist/<id:entry_id>")
@operation(status=204, errors=(404,), auth=True)
def leave_waitlist(entry_id: int):
    """Leave the waitlist"""
    waitlist.leave_waitlist(require_api_user(), entry_id)
    return "", 204


@bp.post("/bookings/<id:booking_id>/accept")
@operation(BookingOut, errors=(403, 404), problems={409: BookingConflictProblem}, auth=True)
def accept_hold(booking_id: int):
    """Accept a hold offered from the waitlist"""
    booking = waitlist.accept_hold(require_api_user(), booking_id, now=clock.now())
    return BookingOut.of(booking)
