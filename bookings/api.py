"""JSON API for bookings, approvals, availability and authorisations."""

from __future__ import annotations

from datetime import datetime, time

from flask import Blueprint, request, url_for

from app import clock
from app.api import current_api_user, require_api_user
from app.errors import InvalidInput
from app.extensions import db
from app.validation import parse_json
from availability import services as engine
from bookings import services
from bookings.schemas import AuthorizationCreate, BookingCreate, BookingUpdate, Decision, booking_json
from bookings.schemas import _date_or_datetime as parse_when
from calendars.zones import isoformat_local, to_utc
from resources import services as catalogue

bp = Blueprint("bookings_api", __name__)


def _query_instant(name: str, tz: str, required: bool = True) -> datetime | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        if required:
            raise InvalidInput({name: "is required"})
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
        raise InvalidInput({name: "must be a positive integer"})
    return int(raw)


@bp.post("/bookings")
def create_booking():
    user = require_api_user()
    data = parse_json(BookingCreate, request.get_data())
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 200:
        raise InvalidInput({"Idempotency-Key": "must be 1 to 200 characters"})
    booking, skipped = services.create_booking(user, **data.model_dump(), idempotency_key=key, now=clock.now())
    db.session.commit()
    body = booking_json(booking)
    if skipped:
        from bookings.schemas import clash_json

        body["skipped"] = [clash_json(c, booking.resource.timezone) for c in skipped]
    return body, 201, {"Location": url_for(".get_booking", booking_id=booking.id)}


@bp.get("/bookings")
def list_bookings():
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
    return {"items": [booking_json(b) for b in bookings]}


@bp.get("/bookings/<id:booking_id>")
def get_booking(booking_id: int):
    return booking_json(services.get_booking(require_api_user(), booking_id))


@bp.patch("/bookings/<id:booking_id>")
def update_booking(booking_id: int):
    user = require_api_user()
    data = parse_json(BookingUpdate, request.get_data())
    booking = services.update_booking(user, booking_id, now=clock.now(), **data.model_dump(exclude_unset=True))
    db.session.commit()
    return booking_json(booking)


@bp.delete("/bookings/<id:booking_id>")
def cancel_booking(booking_id: int):
    user = require_api_user()
    following = request.args.get("following", "") in {"1", "true", "yes"}
    booking = services.cancel_booking(
        user, booking_id, occurrence_id=_query_id("occurrence_id"), following=following, now=clock.now()
    )
    db.session.commit()
    return booking_json(booking)


def _decide(booking_id: int, *, approve: bool):
    user = require_api_user()
    data = parse_json(Decision, request.get_data() or b"{}")
    booking = services.decide_booking(user, booking_id, approve=approve, reason=data.reason, now=clock.now())
    db.session.commit()
    return booking_json(booking)


@bp.post("/bookings/<id:booking_id>/approve")
def approve_booking(booking_id: int):
    return _decide(booking_id, approve=True)


@bp.post("/bookings/<id:booking_id>/reject")
def reject_booking(booking_id: int):
    return _decide(booking_id, approve=False)


@bp.get("/approvals")
def list_approvals():
    return {"items": [booking_json(b) for b in services.list_approvals(require_api_user())]}


@bp.get("/resources/<id:resource_id>/availability")
def availability(resource_id: int):
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
def list_authorizations(resource_id: int):
    grants = catalogue.list_authorizations(require_api_user(), resource_id)
    return {"items": [_authorization_json(g) for g in grants]}


@bp.post("/resources/<id:resource_id>/authorizations")
def grant_authorization(resource_id: int):
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
    return _authorization_json(grant), 201


@bp.delete("/resources/<id:resource_id>/authorizations/<id:authorization_id>")
def revoke_authorization(resource_id: int, authorization_id: int):
    catalogue.revoke_authorization(require_api_user(), resource_id, authorization_id)
    db.session.commit()
    return "", 204


def _authorization_json(grant) -> dict:
    return {
        "id": grant.id,
        "resource_id": grant.resource_id,
        "email": grant.user.email,
        "expires": grant.expires_at.isoformat() if grant.expires_at else None,
    }


@bp.get("/statements")
def get_statement():
    from bookings.statements import statement

    month = request.args.get("month", "")[:7]
    rows = statement(require_api_user(), month)
    return {
        "month": month,
        "items": [
            {
                "user_institution": r.user_institution,
                "owner_institution": r.owner_institution,
                "bookings": r.bookings,
                "hours": float(r.hours),
                "nights": r.nights,
                "amount": float(r.amount),
                "currency": r.currency,
            }
            for r in rows
        ],
    }


@bp.post("/bookings/<id:booking_id>/check-in")
def check_in(booking_id: int):
    user = require_api_user()
    occurrence = services.check_in(user, booking_id, occurrence_id=_query_id("occurrence_id"), now=clock.now())
    db.session.commit()
    return {
        "booking_id": booking_id,
        "occurrence_id": occurrence.id,
        "checked_in_at": occurrence.checked_in_at.isoformat() if occurrence.checked_in_at else None,
    }


@bp.post("/waitlist")
def join_waitlist():
    from bookings.schemas import WaitlistJoin, waitlist_json
    from bookings.waitlist import join_waitlist as join

    user = require_api_user()
    data = parse_json(WaitlistJoin, request.get_data())
    entry = join(user, **data.model_dump(), now=clock.now())
    db.session.commit()
    return waitlist_json(entry), 201


@bp.get("/waitlist")
def list_waitlist():
    from bookings.schemas import waitlist_json
    from bookings.waitlist import list_waitlist as entries

    return {"items": [waitlist_json(e) for e in entries(require_api_user())]}


@bp.delete("/waitlist/<id:entry_id>")
def leave_waitlist(entry_id: int):
    from bookings.waitlist import leave_waitlist as leave

    leave(require_api_user(), entry_id)
    db.session.commit()
    return "", 204


@bp.post("/bookings/<id:booking_id>/accept")
def accept_hold(booking_id: int):
    from bookings.waitlist import accept_hold as accept

    booking = accept(require_api_user(), booking_id, now=clock.now())
    db.session.commit()
    return booking_json(booking)


def _items(raw) -> list:
    from bookings.events import Item

    return [Item(**item.model_dump()) for item in raw]


@bp.get("/events")
def list_events():
    from bookings.events import list_events as events
    from bookings.schemas import event_json

    viewer = current_api_user()
    mine = request.args.get("mine") in ("1", "true")
    return {"items": [event_json(e, viewer) for e in events(viewer, now=clock.now(), mine=mine)]}


@bp.post("/events")
def create_event():
    from bookings.events import Preview
    from bookings.events import create_event as create
    from bookings.schemas import EventCreate, event_json

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
        return {"dry_run": True, "items": result.items}
    db.session.commit()
    return event_json(result, user), 201


@bp.get("/events/<id:event_id>")
def get_event(event_id: int):
    from bookings.events import get_event as get
    from bookings.schemas import event_json

    viewer = current_api_user()
    return event_json(get(viewer, event_id), viewer)


@bp.patch("/events/<id:event_id>")
def change_event(event_id: int):
    from bookings.events import Preview
    from bookings.events import change_event as change
    from bookings.schemas import EventPatch, event_json

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
        return {"dry_run": True, "items": result.items}
    db.session.commit()
    return event_json(result, user)


@bp.delete("/events/<id:event_id>")
def cancel_event(event_id: int):
    from bookings.events import cancel_event as cancel
    from bookings.schemas import event_json

    user = require_api_user()
    event = cancel(user, event_id, now=clock.now())
    db.session.commit()
    return event_json(event, user)
