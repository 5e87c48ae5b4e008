"""JSON API for joint events: list, create (all or nothing), read, change and cancel."""

from __future__ import annotations

from flask import Blueprint, request

from accounts.auth import current_api_user, require_api_user
from app import clock
from app.apidoc import operation
from app.validation import parse_json, parse_query
from events import services as events
from events.schemas import (
    EventChange,
    EventConflictProblem,
    EventCreate,
    EventList,
    EventOut,
    EventPatch,
    EventPreview,
    EventsQuery,
    MyInvitationOut,
    MyInvitations,
)

bp = Blueprint("events_api", __name__)


def _items(raw) -> list:
    return [events.Item(**item.model_dump()) for item in raw]


@bp.get("/events")
@operation(EventList, query=EventsQuery)
def list_events():
    """Events that have not ended (public ones for everyone, alliance ones for members); mine=1: those I organise"""
    viewer = current_api_user()
    mine = parse_query(EventsQuery, request.args).mine
    found = events.list_events(viewer, now=clock.now(), mine=mine)
    seen = events.visible_resources(viewer, found)
    return EventList(items=[EventOut.of(e, viewer, seen) for e in found])


@bp.post("/events")
@operation(
    EventOut,
    status=201,
    body=EventCreate,
    errors=(403, 404, 429),
    problems={409: EventConflictProblem},
    auth=True,
    also={200: EventPreview},
)
def create_event():
    """Book a set of resources across universities as one event: all or nothing (dry_run previews, 200)

    A 409 lists each failing item (index) with its clashes and suggestions."""
    user = require_api_user()
    data = parse_json(EventCreate, request.get_data())
    result = events.create_event(
        user,
        title=data.title,
        description=data.description,
        visibility=data.visibility,
        organisers=data.organisers,
        dry_run=data.dry_run,
        items=_items(data.items),
        now=clock.now(),
    )
    if isinstance(result, events.Preview):
        return EventPreview.model_validate({"dry_run": True, "items": result.items}), 200
    return EventOut.of(result, user)


@bp.get("/events/invitations")
@operation(MyInvitations, auth=True)
def my_invitations():
    """My pending invitations to co-organise events"""
    user = require_api_user()
    return MyInvitations(items=[MyInvitationOut.of(i) for i in events.my_invitations(user)])


@bp.post("/events/<id:event_id>/accept")
@operation(EventOut, errors=(404, 409), auth=True)
def accept_invitation(event_id: int):
    """Accept my invitation to co-organise the event: from now on I am listed and may change it"""
    user = require_api_user()
    return EventOut.of(events.accept_invitation(user, event_id, now=clock.now()), user)


@bp.post("/events/<id:event_id>/decline")
@operation(EventOut, errors=(404, 409), auth=True)
def decline_invitation(event_id: int):
    """Decline my invitation to co-organise the event"""
    user = require_api_user()
    return EventOut.of(events.decline_invitation(user, event_id, now=clock.now()), user)


@bp.get("/events/<id:event_id>")
@operation(EventOut, errors=(404,))
def get_event(event_id: int):
    """An event: organisers see each item as a booking, others the programme (where and when)"""
    viewer = current_api_user()
    return EventOut.of(events.get_event(viewer, event_id), viewer)


@bp.patch("/events/<id:event_id>")
@operation(EventChange, body=EventPatch, errors=(403, 404, 429), problems={409: EventConflictProblem}, auth=True)
def change_event(event_id: int):
    """Change an event as one all-or-nothing step (dry_run previews)

    Remove items (booking ids), move the rest by shift_days whole days, add items, change title, description,
    visibility or co-organisers. Requesters, managers and co-organisers are told."""
    user = require_api_user()
    data = parse_json(EventPatch, request.get_data())
    result = events.change_event(
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
    if isinstance(result, events.Preview):
        return EventChange(EventPreview.model_validate({"dry_run": True, "items": result.items}))
    return EventChange(EventOut.of(result, user))


@bp.delete("/events/<id:event_id>")
@operation(EventOut, errors=(403, 404, 409), auth=True)
def cancel_event(event_id: int):
    """Cancel every item of the event at once"""
    user = require_api_user()
    event = events.cancel_event(user, event_id, now=clock.now())
    return EventOut.of(event, user)
