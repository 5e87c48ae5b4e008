"""JSON API for the catalogue: resources, sites and blocked periods."""

from __future__ import annotations

from datetime import datetime, time

from flask import Blueprint, request, url_for

from accounts.auth import current_api_user, require_api_user
from app import clock
from app.apidoc import operation
from app.errors import InvalidInput
from app.validation import parse_json, parse_query
from app.zones import isoformat_local, to_local, to_utc
from availability.busy import bookings_during
from bookings import schedule
from config import DEFAULT_TIMEZONE
from resources import services
from resources.features import FEATURES
from resources.schemas import (
    AuthorizationCreate,
    AuthorizationList,
    AuthorizationOut,
    BlockCreate,
    BlockCreated,
    BlockList,
    BlockOut,
    BookableSpan,
    CalendarQuery,
    FeatureList,
    FeatureOut,
    FreeResource,
    FreeSlotOut,
    ResourceBrief,
    ResourceCreate,
    ResourceFields,
    ResourceOut,
    ResourcePage,
    ResourceQuery,
    SearchAnswer,
    SearchQuery,
    SiteCreate,
    SiteList,
    SiteOut,
    SiteQuery,
    SlotOut,
    TakenResource,
    Timeline,
    TimelineHours,
    TimelineQuery,
    TimelineRow,
    Week,
    WeekDay,
)
from resources.views import book_url, free_url

bp = Blueprint("resources_api", __name__)


@bp.get("/resources")
@operation(ResourcePage, query=ResourceQuery)
def list_resources():
    """Search the catalogue (anonymous callers see public resources)"""
    query = parse_query(ResourceQuery, request.args)
    result = schedule.search_resources(current_api_user(), **query.model_dump())
    items = [ResourceOut.of(r) for r in result.items]
    return ResourcePage(items=items, total=result.total, page=result.page, per_page=result.per_page)


@bp.post("/resources")
@operation(ResourceOut, status=201, body=ResourceCreate, errors=(403,), auth=True)
def create_resource():
    """Create a resource (admin, or manager of its institution)"""
    user = require_api_user()
    data = parse_json(ResourceCreate, request.get_data())
    resource = services.create_resource(user, data.model_dump(exclude_unset=True))
    return ResourceOut.of(resource), {"Location": url_for(".get_resource", resource_id=resource.id)}


@bp.get("/resources/<id:resource_id>")
@operation(ResourceOut, errors=(404,))
def get_resource(resource_id: int):
    """One resource"""
    return ResourceOut.of(services.get_resource(current_api_user(), resource_id))


@bp.patch("/resources/<id:resource_id>")
@operation(ResourceOut, body=ResourceFields, errors=(403, 404), auth=True)
def update_resource(resource_id: int):
    """Change a resource's settings"""
    user = require_api_user()
    data = parse_json(ResourceFields, request.get_data())
    resource = services.update_resource(user, resource_id, data.model_dump(exclude_unset=True))
    return ResourceOut.of(resource)


@bp.get("/resources/<id:resource_id>/blocks")
@operation(BlockList, errors=(404,))
def list_blocks(resource_id: int):
    """Blocked periods of a resource"""
    blocks = services.list_blocks(current_api_user(), resource_id)
    return BlockList(items=[BlockOut.of(b) for b in blocks])


@bp.post("/resources/<id:resource_id>/blocks")
@operation(BlockCreated, status=201, body=BlockCreate, errors=(403, 404), auth=True)
def create_block(resource_id: int):
    """Block a period (maintenance, holidays); the answer lists the bookings it overlaps"""
    user = require_api_user()
    data = parse_json(BlockCreate, request.get_data())
    block = services.create_block(user, resource_id, start=data.start, end=data.end, reason=data.reason)
    overlapping = bookings_during(block.resource, block.start_at, block.end_at)
    answer = BlockCreated.of_new(block, overlapping)
    return answer


@bp.delete("/resources/<id:resource_id>/blocks/<id:block_id>")
@operation(status=204, errors=(403, 404, 409), auth=True)
def delete_block(resource_id: int, block_id: int):
    """Remove a blocked period (imported busy time goes with its import: 409)"""
    services.delete_block(require_api_user(), resource_id, block_id)
    return "", 204


@bp.get("/sites")
@operation(SiteList, query=SiteQuery)
def list_sites():
    """Sites and buildings"""
    query = parse_query(SiteQuery, request.args)
    return SiteList(items=[SiteOut.model_validate(s) for s in services.list_sites(query.institution or None)])


@bp.post("/sites")
@operation(SiteOut, status=201, body=SiteCreate, errors=(403,), auth=True)
def create_site():
    """Create a site"""
    user = require_api_user()
    data = parse_json(SiteCreate, request.get_data())
    site = services.create_site(user, **data.model_dump())
    return SiteOut.model_validate(site)


@bp.get("/features")
@operation(FeatureList)
def list_features():
    """The feature and equipment tags"""
    return FeatureList(items=[FeatureOut(code=code, name_ro=ro, name_en=en) for code, (ro, en) in FEATURES.items()])


# --- search, week calendar and day timeline (bookings.schedule) ---------------------------------


def _bookable(resource, start, end) -> BookableSpan:
    return BookableSpan(
        start=isoformat_local(start, resource.timezone),
        end=isoformat_local(end, resource.timezone),
        book_url=book_url(resource, start, end),
    )


def _free_resource(resource, span) -> FreeResource:
    if span is None:
        return FreeResource(resource=ResourceOut.of(resource))
    return FreeResource.model_validate(
        {"resource": ResourceOut.of(resource)} | _bookable(resource, span.start, span.end).model_dump()
    )


@bp.get("/search")
@operation(SearchAnswer, query=SearchQuery)
def search():
    """Search first: resources free for a span across the alliance, and the next free slots of taken ones"""
    query = parse_query(SearchQuery, request.args)
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
    return SearchAnswer(
        free=[_free_resource(r, spans[r.id] if spans else None) for r in answer.free],
        free_total=answer.free_total,
        busy=[
            TakenResource(resource=ResourceOut.of(r), next_free=[_bookable(r, s, e) for s, e in slots])
            for r, slots in answer.busy
        ],
        busy_total=answer.busy_total,
    )


@bp.get("/timeline")
@operation(Timeline, query=TimelineQuery)
def timeline():
    """One day, resources as rows: busy, closed and free stretches (07:00–22:00 drawn)"""
    query = parse_query(TimelineQuery, request.args)
    day = query.date or to_local(clock.now(), DEFAULT_TIMEZONE).date()
    schedule.check_year(day, "date")
    result = schedule.timeline(
        current_api_user(), day=day, institution=query.institution, kind=query.kind, limit=query.limit, now=clock.now()
    )
    return Timeline(
        date=day.isoformat(),
        hours=TimelineHours.model_validate({"from": f"{result.first_hour:02d}:00", "to": f"{result.last_hour:02d}:00"}),
        total=result.total,
        items=[
            TimelineRow(
                resource=ResourceBrief.model_validate(row.resource),
                busy=[SlotOut.of(row.resource, s) for s in row.day.slots if s.kind in schedule.BUSY_KINDS],
                closed=[SlotOut.of(row.resource, s) for s in row.day.slots if s.kind == "closed"],
                free=[
                    FreeSlotOut.model_validate(
                        SlotOut.fields_of(row.resource, s) | {"book_url": _free_url(row.resource, s)}
                    )
                    for s in row.day.slots
                    if s.kind == "free"
                ],
            )
            for row in result.rows
        ],
    )


def _free_url(resource, slot) -> str:
    return free_url(resource, slot)


@bp.get("/resources/<id:resource_id>/calendar")
@operation(Week, query=CalendarQuery, errors=(404,))
def resource_calendar(resource_id: int):
    """A resource's week in its zone: per day, own and others' bookings, blocks, imported, closed, free"""
    query = parse_query(CalendarQuery, request.args)
    schedule.check_year(query.week, "week")
    view = schedule.week_view(current_api_user(), resource_id, query.week, now=clock.now())
    resource = view.resource
    return Week(
        resource_id=resource.id,
        timezone=resource.timezone,
        week=view.monday.isoformat(),
        previous=view.previous.isoformat(),
        next=view.following.isoformat(),
        days=[WeekDay(date=d.day.isoformat(), slots=[SlotOut.of(resource, s) for s in d.slots]) for d in view.days],
    )


@bp.get("/resources/<id:resource_id>/authorizations")
@operation(AuthorizationList, errors=(403, 404), auth=True)
def list_authorizations(resource_id: int):
    """Who is authorised (trained) for the resource"""
    grants = services.list_authorizations(require_api_user(), resource_id)
    return AuthorizationList(items=[AuthorizationOut.of(g) for g in grants])


@bp.post("/resources/<id:resource_id>/authorizations")
@operation(AuthorizationOut, status=201, body=AuthorizationCreate, errors=(403, 404), auth=True)
def grant_authorization(resource_id: int):
    """Authorise a user, optionally until an expiry"""
    user = require_api_user()
    data = parse_json(AuthorizationCreate, request.get_data())
    resource = services.get_resource(user, resource_id)
    expires_at = None
    if data.expires is not None:
        value = data.expires if isinstance(data.expires, datetime) else datetime.combine(data.expires, time(23, 59, 59))
        try:
            expires_at = to_utc(value, resource.timezone)
        except ValueError as exc:
            raise InvalidInput({"expires": str(exc)}) from exc
    grant = services.grant_authorization(user, resource_id, email=data.email, expires_at=expires_at)
    return AuthorizationOut.of(grant)


@bp.delete("/resources/<id:resource_id>/authorizations/<id:authorization_id>")
@operation(status=204, errors=(403, 404), auth=True)
def revoke_authorization(resource_id: int, authorization_id: int):
    """Withdraw an authorisation"""
    services.revoke_authorization(require_api_user(), resource_id, authorization_id)
    return "", 204
