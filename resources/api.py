"""JSON API for the catalogue: resources, sites and blocked periods."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request, url_for

from app import clock
from app.api import current_api_user, require_api_user
from app.extensions import db
from app.validation import parse_json, parse_query
from resources import services
from resources.features import FEATURES
from resources.schemas import (
    BlockCreate,
    CalendarQuery,
    ResourceCreate,
    ResourceFields,
    ResourceQuery,
    SearchQuery,
    SiteCreate,
    TimelineQuery,
    block_json,
    overlapping_json,
    resource_json,
    site_json,
)

bp = Blueprint("resources_api", __name__)


@bp.get("/resources")
def list_resources():
    query = parse_query(ResourceQuery, request.args)
    result = services.search_resources(current_api_user(), **query.model_dump())
    return {
        "items": [resource_json(r) for r in result.items],
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
    }


@bp.post("/resources")
def create_resource():
    user = require_api_user()
    data = parse_json(ResourceCreate, request.get_data())
    resource = services.create_resource(user, data.model_dump(exclude_unset=True))
    db.session.commit()
    return resource_json(resource), 201, {"Location": url_for(".get_resource", resource_id=resource.id)}


@bp.get("/resources/<id:resource_id>")
def get_resource(resource_id: int):
    return resource_json(services.get_resource(current_api_user(), resource_id))


@bp.patch("/resources/<id:resource_id>")
def update_resource(resource_id: int):
    user = require_api_user()
    data = parse_json(ResourceFields, request.get_data())
    resource = services.update_resource(user, resource_id, data.model_dump(exclude_unset=True))
    db.session.commit()
    return resource_json(resource)


@bp.get("/resources/<id:resource_id>/blocks")
def list_blocks(resource_id: int):
    blocks = services.list_blocks(current_api_user(), resource_id)
    return {"items": [block_json(b) for b in blocks]}


@bp.post("/resources/<id:resource_id>/blocks")
def create_block(resource_id: int):
    user = require_api_user()
    data = parse_json(BlockCreate, request.get_data())
    block = services.create_block(user, resource_id, start=data.start, end=data.end, reason=data.reason)
    overlapping = services.bookings_during(block.resource, block.start_at, block.end_at)
    body = block_json(block) | {
        "overlapping_bookings": [overlapping_json(o, block.resource.timezone) for o in overlapping]
    }
    db.session.commit()
    return body, 201


@bp.delete("/resources/<id:resource_id>/blocks/<id:block_id>")
def delete_block(resource_id: int, block_id: int):
    services.delete_block(require_api_user(), resource_id, block_id)
    db.session.commit()
    return "", 204


@bp.get("/sites")
def list_sites():
    institution = request.args.get("institution", "")[:10] or None
    return {"items": [site_json(s) for s in services.list_sites(institution)]}


@bp.post("/sites")
def create_site():
    user = require_api_user()
    data = parse_json(SiteCreate, request.get_data())
    site = services.create_site(user, **data.model_dump())
    db.session.commit()
    return site_json(site), 201


@bp.get("/features")
def list_features():
    return {"items": [{"code": code, "name_ro": ro, "name_en": en} for code, (ro, en) in FEATURES.items()]}


# --- search, week calendar and day timeline (bookings.schedule) ---------------------------------


def _slot_json(resource, slot, *, with_title: bool = True) -> dict:
    from calendars.zones import isoformat_local

    body = {
        "start": isoformat_local(slot.start, resource.timezone),
        "end": isoformat_local(slot.end, resource.timezone),
        "kind": slot.kind,
    }
    if with_title and slot.piece.title:
        body["title"] = slot.piece.title
    if slot.piece.booking_id is not None:
        body["booking_id"] = slot.piece.booking_id
    return body


def _span_json(resource, start, end) -> dict:
    from calendars.zones import isoformat_local
    from resources.views import book_url

    return {
        "start": isoformat_local(start, resource.timezone),
        "end": isoformat_local(end, resource.timezone),
        "book_url": book_url(resource, start, end),
    }


@bp.get("/search")
def search():
    """Free resources for a span across the alliance, and the next free slots of taken ones."""
    from bookings import schedule

    args: dict[str, Any] = {key: request.args.get(key) for key in request.args}
    args["institution"] = request.args.getlist("institution")
    query = parse_query(SearchQuery, args)
    answer = schedule.search_free(
        current_api_user(),
        day=query.date,
        start=query.start,
        end=query.end,
        nights=query.nights,
        kind=query.kind,
        feature=query.feature,
        q=query.q,
        min_capacity=query.min_capacity,
        institutions=query.institution,
        now=clock.now(),
    )
    spans = answer.spans
    return {
        "free": [
            {"resource": resource_json(r), **(_span_json(r, spans[r.id].start, spans[r.id].end) if spans else {})}
            for r in answer.free
        ],
        "free_total": answer.free_total,
        "busy": [
            {"resource": resource_json(r), "next_free": [_span_json(r, s, e) for s, e in slots]}
            for r, slots in answer.busy
        ],
        "busy_total": answer.busy_total,
    }


@bp.get("/timeline")
def timeline():
    from bookings import schedule
    from calendars.zones import to_local

    query = parse_query(TimelineQuery, request.args)
    day = query.date or to_local(clock.now(), "Europe/Bucharest").date()
    schedule.check_year(day, "date")
    result = schedule.timeline(
        current_api_user(), day=day, institution=query.institution, kind=query.kind, limit=query.limit, now=clock.now()
    )
    return {
        "date": day.isoformat(),
        "hours": {"from": f"{result.first_hour:02d}:00", "to": f"{result.last_hour:02d}:00"},
        "total": result.total,
        "items": [
            {
                "resource": {
                    "id": row.resource.id,
                    "name": row.resource.name,
                    "name_en": row.resource.name_en,
                    "kind": row.resource.kind,
                    "institution": row.resource.institution.code,
                    "timezone": row.resource.timezone,
                },
                "busy": [_slot_json(row.resource, s) for s in row.day.slots if s.kind in schedule.BUSY_KINDS],
                "closed": [_slot_json(row.resource, s) for s in row.day.slots if s.kind == "closed"],
                "free": [
                    {**_slot_json(row.resource, s), "book_url": _free_url(row.resource, s)}
                    for s in row.day.slots
                    if s.kind == "free"
                ],
            }
            for row in result.rows
        ],
    }


def _free_url(resource, slot) -> str:
    from resources.views import free_url

    return free_url(resource, slot)


@bp.get("/resources/<id:resource_id>/calendar")
def resource_calendar(resource_id: int):
    """The resource's week in its zone: per day, busy (own bookings marked), closed and free stretches."""
    from bookings import schedule

    query = parse_query(CalendarQuery, request.args)
    schedule.check_year(query.week, "week")
    view = schedule.week_view(current_api_user(), resource_id, query.week, now=clock.now())
    resource = view.resource
    return {
        "resource_id": resource.id,
        "timezone": resource.timezone,
        "week": view.monday.isoformat(),
        "previous": view.previous.isoformat(),
        "next": view.following.isoformat(),
        "days": [{"date": d.day.isoformat(), "slots": [_slot_json(resource, s) for s in d.slots]} for d in view.days],
    }
