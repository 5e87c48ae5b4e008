"""The OpenAPI 3.1 document for /api/v1.

Request bodies come from the same pydantic models that validate them, so the
document cannot drift from the code; a test checks that every registered API
route is described here and every described path is registered.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from accounts.schemas import TokenRequest, UserCreate, UserUpdate
from bookings.schemas import (
    AuthorizationCreate,
    BookingCreate,
    BookingUpdate,
    Decision,
    EventCreate,
    EventPatch,
    WaitlistJoin,
)
from calendars.schemas import FeedCreate, ImportCreate
from resources.schemas import BlockCreate, ResourceCreate, ResourceFields, SiteCreate

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _schema_of(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(ref_template="#/components/schemas/{model}")


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


def _ok(description: str, schema: dict[str, Any] | None = None, status: str = "200") -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    if schema is not None:
        response["content"] = {"application/json": {"schema": schema}}
    return {status: response}


def _problems(*statuses: int) -> dict[str, Any]:
    text = {
        400: "Malformed request",
        401: "Missing or bad token",
        403: "Forbidden by policy",
        404: "Not found",
        409: "Conflict",
        422: "Invalid input",
        429: "Too many requests",
    }
    return {
        str(s): {"description": text[s], "content": {"application/problem+json": {"schema": PROBLEM}}} for s in statuses
    }


def _op(
    summary: str,
    responses: dict[str, Any],
    *,
    body: str | None = None,
    auth: bool = False,
    params: list[dict[str, Any]] | None = None,
    tag: str = "",
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": responses, "tags": [tag] if tag else []}
    if body:
        op["requestBody"] = _body(body)
    if auth:
        op["security"] = [{"bearer": []}]
    if params:
        op["parameters"] = params
    return op


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


REF = {
    name: {"$ref": f"#/components/schemas/{name}"}
    for name in ("Resource", "Site", "Block", "Institution", "Booking", "Availability", "Authorization", "User")
}


def _items(ref: dict[str, Any], total: bool = False) -> dict[str, Any]:
    props: dict[str, Any] = {"items": {"type": "array", "items": ref}}
    if total:
        props |= {"total": {"type": "integer"}, "page": {"type": "integer"}, "per_page": {"type": "integer"}}
    return {"type": "object", "properties": props, "required": list(props)}


_SPAN = {
    "type": "object",
    "properties": {
        "start": {"type": "string", "format": "date-time"},
        "end": {"type": "string", "format": "date-time"},
        "kind": {"enum": ["own", "booking", "linked", "block", "imported", "closed", "free"]},
        "title": {"type": "string", "description": "your own booking's title (managers: anyone's); a block's reason"},
        "book_url": {"type": "string", "description": "the resource page with the booking form prefilled"},
    },
    "required": ["start", "end"],
}
_SEARCH_ANSWER = {
    "type": "object",
    "properties": {
        "free": {"type": "array", "items": {"type": "object"}},
        "free_total": {"type": "integer"},
        "busy": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"resource": {"type": "object"}, "next_free": {"type": "array", "items": _SPAN}},
            },
        },
        "busy_total": {"type": "integer"},
    },
    "required": ["free", "free_total", "busy", "busy_total"],
}
_TIMELINE = {
    "type": "object",
    "properties": {
        "date": {"type": "string", "format": "date"},
        "total": {"type": "integer"},
        "hours": {"type": "object"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "resource": {"type": "object"},
                    "busy": {"type": "array", "items": _SPAN},
                    "closed": {"type": "array", "items": _SPAN},
                    "free": {"type": "array", "items": _SPAN},
                },
            },
        },
    },
    "required": ["date", "total", "items"],
}
_WEEK = {
    "type": "object",
    "properties": {
        "resource_id": {"type": "integer"},
        "timezone": {"type": "string"},
        "week": {"type": "string", "format": "date"},
        "days": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "date": {"type": "string", "format": "date"},
                    "slots": {"type": "array", "items": _SPAN},
                },
            },
        },
    },
    "required": ["resource_id", "week", "days"],
}


def build_openapi() -> dict[str, Any]:
    rid = _path_param("resource_id")
    resource_filters = [
        _query("kind", {"enum": ["lab", "sports", "dorm", "equipment", "room"]}),
        _query("institution", {"type": "string"}, "UVT, UPT, UMFT or USVT"),
        _query("q", {"type": "string", "maxLength": 500}, "words matched in names, descriptions and tags"),
        _query("min_capacity", {"type": "integer", "minimum": 0}),
        _query("feature", {"type": "string"}, "a feature code from /features"),
        _query("free_from", {"type": "string", "format": "date-time"}, "with free_to: only resources free then"),
        _query("free_to", {"type": "string", "format": "date-time"}),
        _query("managed", {"type": "boolean", "default": False}, "only the resources the caller may change"),
        _query("page", {"type": "integer", "minimum": 1, "default": 1}),
        _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
    ]
    paths: dict[str, Any] = {
        "/auth/tokens": {
            "post": _op(
                "Exchange email and password for a bearer token",
                _ok("Token", {"$ref": "#/components/schemas/TokenCreated"}, "201") | _problems(400, 401, 422, 429),
                body="TokenRequest",
                tag="auth",
            ),
            "get": _op("List my active tokens", _ok("Tokens") | _problems(401), auth=True, tag="auth"),
        },
        "/auth/tokens/current": {
            "delete": _op(
                "Revoke the token used for this request",
                {"204": {"description": "Revoked"}} | _problems(401),
                auth=True,
                tag="auth",
            ),
        },
        "/auth/tokens/{token_id}": {
            "delete": _op(
                "Revoke one of my tokens",
                {"204": {"description": "Revoked"}} | _problems(401, 404),
                auth=True,
                params=[_path_param("token_id")],
                tag="auth",
            ),
        },
        "/me": {"get": _op("The authenticated user", _ok("User", REF["User"]) | _problems(401), auth=True, tag="auth")},
        "/institutions": {
            "get": _op("The alliance's universities", _ok("Institutions", _items(REF["Institution"])), tag="catalogue")
        },
        "/institutions/{code}": {
            "get": _op(
                "One university",
                _ok("Institution", REF["Institution"]) | _problems(404),
                tag="catalogue",
                params=[{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
            ),
        },
        "/resources": {
            "get": _op(
                "Search the catalogue (anonymous callers see public resources)",
                _ok("A page of resources", _items(REF["Resource"], total=True)) | _problems(401, 422),
                params=resource_filters,
                tag="catalogue",
            ),
            "post": _op(
                "Create a resource (admin, or manager of its institution)",
                _ok("Created", REF["Resource"], "201") | _problems(400, 401, 403, 422),
                body="ResourceCreate",
                auth=True,
                tag="catalogue",
            ),
        },
        "/resources/{resource_id}": {
            "get": _op(
                "One resource", _ok("Resource", REF["Resource"]) | _problems(401, 404), params=[rid], tag="catalogue"
            ),
            "patch": _op(
                "Change a resource's settings",
                _ok("Resource", REF["Resource"]) | _problems(400, 401, 403, 404, 422),
                body="ResourceFields",
                auth=True,
                params=[rid],
                tag="catalogue",
            ),
        },
        "/resources/{resource_id}/blocks": {
            "get": _op(
                "Blocked periods of a resource",
                _ok("Blocks", _items(REF["Block"])) | _problems(404),
                params=[rid],
                tag="catalogue",
            ),
            "post": _op(
                "Block a period (maintenance, holidays); the answer lists the bookings it overlaps",
                _ok("Created", {"$ref": "#/components/schemas/BlockCreated"}, "201")
                | _problems(400, 401, 403, 404, 422),
                body="BlockCreate",
                auth=True,
                params=[rid],
                tag="catalogue",
            ),
        },
        "/resources/{resource_id}/blocks/{block_id}": {
            "delete": _op(
                "Remove a blocked period (imported busy time goes with its import: 409)",
                {"204": {"description": "Removed"}} | _problems(401, 403, 404, 409),
                auth=True,
                params=[rid, _path_param("block_id")],
                tag="catalogue",
            ),
        },
        "/sites": {
            "get": _op(
                "Sites and buildings",
                _ok("Sites", _items(REF["Site"])),
                tag="catalogue",
                params=[_query("institution", {"type": "string"})],
            ),
            "post": _op(
                "Create a site",
                _ok("Created", REF["Site"], "201") | _problems(400, 401, 403, 422),
                body="SiteCreate",
                auth=True,
                tag="catalogue",
            ),
        },
        "/bookings": {
            "post": _op(
                "Book a resource (one-off, recurring with an RRULE, or dorm nights with dates); honours Idempotency-Key",
                _ok("Booked (confirmed or pending)", REF["Booking"], "201") | _problems(400, 401, 403, 404, 409, 422),
                body="BookingCreate",
                auth=True,
                tag="bookings",
                params=[
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 200},
                    }
                ],
            ),
            "get": _op(
                "My bookings (managers and admins also see their resources' bookings)",
                _ok("Bookings", _items(REF["Booking"])) | _problems(401, 422),
                auth=True,
                tag="bookings",
                params=[
                    _query("mine", {"type": "string", "enum": ["1", "0"]}),
                    _query("resource_id", {"type": "integer"}),
                    _query("from", {"type": "string", "format": "date-time"}),
                    _query("to", {"type": "string", "format": "date-time"}),
                    _query("status", {"enum": ["pending", "confirmed", "rejected", "cancelled"]}),
                ],
            ),
        },
        "/bookings/{booking_id}": {
            "get": _op(
                "One booking",
                _ok("Booking", REF["Booking"]) | _problems(401, 404),
                auth=True,
                params=[_path_param("booking_id")],
                tag="bookings",
            ),
            "patch": _op(
                "Reschedule (one booking or one occurrence) or rename, with every check",
                _ok("Booking", REF["Booking"]) | _problems(400, 401, 404, 409, 422),
                body="BookingUpdate",
                auth=True,
                params=[_path_param("booking_id")],
                tag="bookings",
            ),
            "delete": _op(
                "Cancel the booking, one occurrence (occurrence_id) or it and the following (following=1)",
                _ok("Cancelled", REF["Booking"]) | _problems(401, 404, 409),
                auth=True,
                tag="bookings",
                params=[
                    _path_param("booking_id"),
                    _query("occurrence_id", {"type": "integer"}),
                    _query("following", {"type": "string", "enum": ["1", "0"]}),
                ],
            ),
        },
        "/bookings/{booking_id}/approve": {
            "post": _op(
                "Approve a pending request (managers of the owning university)",
                _ok("Booking", REF["Booking"]) | _problems(401, 403, 404, 409),
                body="Decision",
                auth=True,
                params=[_path_param("booking_id")],
                tag="bookings",
            ),
        },
        "/bookings/{booking_id}/reject": {
            "post": _op(
                "Reject a pending request with a reason",
                _ok("Booking", REF["Booking"]) | _problems(401, 403, 404, 409),
                body="Decision",
                auth=True,
                params=[_path_param("booking_id")],
                tag="bookings",
            ),
        },
        "/approvals": {
            "get": _op(
                "Pending requests the caller may decide, oldest first",
                _ok("Bookings", _items(REF["Booking"])) | _problems(401, 403),
                auth=True,
                tag="bookings",
            ),
        },
        "/resources/{resource_id}/availability": {
            "get": _op(
                "Busy and free time of a resource",
                _ok("Availability", REF["Availability"]) | _problems(404, 422),
                params=[
                    rid,
                    _query("from", {"type": "string", "format": "date-time"}),
                    _query("to", {"type": "string", "format": "date-time"}),
                ],
                tag="bookings",
            ),
        },
        "/search": {
            "get": _op(
                "Search first: resources free for a span across the alliance, and the next free slots of taken ones",
                _ok("Free and taken resources", _SEARCH_ANSWER) | _problems(401, 422),
                params=[
                    _query("kind", {"enum": ["lab", "sports", "dorm", "equipment", "room"]}),
                    _query("feature", {"type": "string"}, "a feature code from /features"),
                    _query("q", {"type": "string", "maxLength": 500}),
                    _query("min_capacity", {"type": "integer", "minimum": 0}),
                    _query(
                        "institution",
                        {"type": "array", "items": {"enum": ["UVT", "UPT", "UMFT", "USVT"]}, "maxItems": 4},
                        "repeat for several universities; none means all",
                    ),
                    _query("date", {"type": "string", "format": "date"}, "the day (check-in day with nights)"),
                    _query("start", {"type": "string", "pattern": "^\\d{2}:\\d{2}$"}, "local time of each resource"),
                    _query("end", {"type": "string", "pattern": "^\\d{2}:\\d{2}$"}),
                    _query("nights", {"type": "integer", "minimum": 1, "maximum": 60}, "dorm stays, instead of times"),
                ],
                tag="catalogue",
            ),
        },
        "/timeline": {
            "get": _op(
                "One day, resources as rows: busy, closed and free stretches (07:00–22:00 drawn)",
                _ok("Timeline", _TIMELINE) | _problems(401, 422),
                params=[
                    _query("date", {"type": "string", "format": "date"}, "default today"),
                    _query("institution", {"enum": ["UVT", "UPT", "UMFT", "USVT"]}),
                    _query("kind", {"enum": ["lab", "sports", "dorm", "equipment", "room"]}),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 40}),
                ],
                tag="bookings",
            ),
        },
        "/resources/{resource_id}/calendar": {
            "get": _op(
                "A resource's week in its zone: per day, own and others' bookings, blocks, imported, closed, free",
                _ok("Week", _WEEK) | _problems(401, 404, 422),
                params=[rid, _query("week", {"type": "string", "format": "date"}, "any day of the week; default now")],
                tag="bookings",
            ),
        },
        "/resources/{resource_id}/authorizations": {
            "get": _op(
                "Who is authorised (trained) for the resource",
                _ok("Authorisations", _items(REF["Authorization"])) | _problems(401, 403, 404),
                auth=True,
                params=[rid],
                tag="catalogue",
            ),
            "post": _op(
                "Authorise a user, optionally until an expiry",
                _ok("Created", REF["Authorization"], "201") | _problems(400, 401, 403, 404, 422),
                body="AuthorizationCreate",
                auth=True,
                params=[rid],
                tag="catalogue",
            ),
        },
        "/resources/{resource_id}/authorizations/{authorization_id}": {
            "delete": _op(
                "Withdraw an authorisation",
                {"204": {"description": "Withdrawn"}} | _problems(401, 403, 404),
                auth=True,
                params=[rid, _path_param("authorization_id")],
                tag="catalogue",
            ),
        },
        "/bookings/{booking_id}/check-in": {
            "post": _op(
                "Check in to the current session (from 15 minutes before its start)",
                _ok("Checked in") | _problems(401, 404, 409, 422),
                auth=True,
                tag="bookings",
                params=[_path_param("booking_id"), _query("occurrence_id", {"type": "integer"})],
            ),
        },
        "/waitlist": {
            "post": _op(
                "Wait for a taken slot: when it frees, a two-hour hold is offered by mail",
                _ok("Entry", None, "201") | _problems(400, 401, 403, 404, 422),
                body="WaitlistJoin",
                auth=True,
                tag="bookings",
            ),
            "get": _op("My waitlist entries", _ok("Entries") | _problems(401), auth=True, tag="bookings"),
        },
        "/waitlist/{entry_id}": {
            "delete": _op(
                "Leave the waitlist",
                {"204": {"description": "Left"}} | _problems(401, 404),
                auth=True,
                params=[_path_param("entry_id")],
                tag="bookings",
            ),
        },
        "/bookings/{booking_id}/accept": {
            "post": _op(
                "Accept a hold offered from the waitlist",
                _ok("Booking", REF["Booking"]) | _problems(401, 404, 409),
                auth=True,
                params=[_path_param("booking_id")],
                tag="bookings",
            ),
        },
        "/events": {
            "get": _op(
                "Events that have not ended (public ones for everyone, alliance ones for members); mine=1: those I organise",
                _ok("Events") | _problems(401),
                params=[_query("mine", {"type": "boolean"}, "only the events I organise, past ones included")],
                tag="events",
            ),
            "post": _op(
                "Book a set of resources across universities as one event: all or nothing (dry_run previews). "
                "A 409 lists each failing item (index) with its clashes and suggestions",
                _ok("Event", None, "201") | _problems(400, 401, 403, 404, 409, 422),
                body="EventCreate",
                auth=True,
                tag="events",
            ),
        },
        "/events/{event_id}": {
            "get": _op(
                "An event: organisers see each item as a booking, others the programme (where and when)",
                _ok("Event") | _problems(404),
                params=[_path_param("event_id")],
                tag="events",
            ),
            "patch": _op(
                "Change an event as one all-or-nothing step: remove items (booking ids), move the rest by "
                "shift_days whole days, add items, change title, description, visibility or co-organisers. "
                "Requesters, managers and co-organisers are told; dry_run previews",
                _ok("Event") | _problems(400, 401, 403, 404, 409, 422),
                body="EventPatch",
                auth=True,
                params=[_path_param("event_id")],
                tag="events",
            ),
            "delete": _op(
                "Cancel every item of the event at once",
                _ok("Event") | _problems(401, 403, 404, 409),
                auth=True,
                params=[_path_param("event_id")],
                tag="events",
            ),
        },
        "/statements": {
            "get": _op(
                "Monthly settlement per pair of universities: bookings, hours, nights, amounts (managers, admins)",
                _ok("Statement") | _problems(401, 403, 422),
                auth=True,
                tag="bookings",
                params=[_query("month", {"type": "string", "pattern": "^\\d{4}-\\d{2}$"}, "YYYY-MM")],
            ),
        },
        "/calendar-feeds": {
            "post": _op(
                "A private, revocable feed URL (scope mine, resource:ID, institution:CODE or event:ID)",
                _ok("Feed", {"$ref": "#/components/schemas/Feed"}, "201") | _problems(400, 401, 403, 404, 422),
                body="FeedCreate",
                auth=True,
                tag="calendars",
            ),
            "get": _op("My feeds with their URLs", _ok("Feeds") | _problems(401), auth=True, tag="calendars"),
        },
        "/calendar-feeds/{feed_id}": {
            "delete": _op(
                "Revoke a feed: its URL answers 404 at once",
                {"204": {"description": "Revoked"}} | _problems(401, 404),
                auth=True,
                params=[_path_param("feed_id")],
                tag="calendars",
            ),
        },
        "/calendar-feeds/{feed_id}/regenerate": {
            "post": _op(
                "A new URL for the feed; the old one stops working",
                _ok("Feed", {"$ref": "#/components/schemas/Feed"}) | _problems(401, 404),
                auth=True,
                params=[_path_param("feed_id")],
                tag="calendars",
            ),
        },
        "/resources/{resource_id}/imports": {
            "post": _op(
                "Import an external iCal feed as busy time (refreshed by the scheduler)",
                _ok("Import", {"$ref": "#/components/schemas/Import"}, "201") | _problems(400, 401, 403, 404, 422),
                body="ImportCreate",
                auth=True,
                params=[rid],
                tag="calendars",
            ),
            "get": _op(
                "Imports of a resource with their last status",
                _ok("Imports") | _problems(401, 403, 404),
                auth=True,
                params=[rid],
                tag="calendars",
            ),
        },
        "/resources/{resource_id}/imports/{import_id}": {
            "delete": _op(
                "Remove an import and its busy time",
                {"204": {"description": "Removed"}} | _problems(401, 403, 404),
                auth=True,
                params=[rid, _path_param("import_id")],
                tag="calendars",
            ),
        },
        "/resources/{resource_id}/imports/{import_id}/refresh": {
            "post": _op(
                "Fetch the feed now",
                _ok("Import", {"$ref": "#/components/schemas/Import"}) | _problems(401, 403, 404),
                auth=True,
                params=[rid, _path_param("import_id")],
                tag="calendars",
            ),
        },
        "/users": {
            "get": _op(
                "Users, searched by email or name and filtered (admins only)",
                _ok("A page of users", _items(REF["User"], total=True)) | _problems(401, 403, 422),
                auth=True,
                params=[
                    _query("q", {"type": "string", "maxLength": 200}, "words matched in email and name"),
                    _query("institution", {"type": "string"}, "UVT, UPT, UMFT or USVT"),
                    _query("role", {"enum": ["member", "manager", "admin"]}),
                    _query("active", {"type": "boolean"}),
                    _query("page", {"type": "integer", "minimum": 1, "default": 1}),
                    _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}),
                ],
                tag="users",
            ),
            "post": _op(
                "Create a user (admins only)",
                _ok("Created", REF["User"], "201") | _problems(400, 401, 403, 422),
                body="UserCreate",
                auth=True,
                tag="users",
            ),
        },
        "/users/{user_id}": {
            "get": _op(
                "One user (admins only)",
                _ok("User", REF["User"]) | _problems(401, 403, 404),
                auth=True,
                params=[_path_param("user_id")],
                tag="users",
            ),
            "patch": _op(
                "Change a user's role, institution, affiliation, language, name, password or active flag "
                "(admins only; an admin cannot remove their own admin role or deactivate themselves)",
                _ok("User", REF["User"]) | _problems(400, 401, 403, 404, 422),
                body="UserUpdate",
                auth=True,
                params=[_path_param("user_id")],
                tag="users",
            ),
        },
        "/features": {"get": _op("The feature and equipment tags", _ok("Features"), tag="catalogue")},
        "/openapi.json": {"get": _op("This document", _ok("OpenAPI 3.1 document"), tag="meta")},
    }
    schemas: dict[str, Any] = {}
    for model in (
        TokenRequest,
        UserCreate,
        UserUpdate,
        ResourceCreate,
        ResourceFields,
        BlockCreate,
        SiteCreate,
        BookingCreate,
        BookingUpdate,
        Decision,
        AuthorizationCreate,
        FeedCreate,
        ImportCreate,
        WaitlistJoin,
        EventCreate,
        EventPatch,
    ):
        schema = _schema_of(model)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    schemas |= _output_schemas()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ATU Facilities API",
            "version": "1.0.0",
            "description": "Shared booking of labs, equipment, sports, dorms and event spaces of UVT, UPT, UMFT and USVT. "
            "Datetimes are ISO 8601; a value without offset is the resource's local time.",
        },
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _output_schemas() -> dict[str, Any]:
    string, integer, nullable_int = {"type": "string"}, {"type": "integer"}, {"type": ["integer", "null"]}
    return {
        "Problem": {
            "type": "object",
            "properties": {
                "type": string,
                "title": string,
                "status": integer,
                "detail": string,
                "errors": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"field": string, "pointer": string, "detail": string}},
                },
                "conflicts": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "start": string,
                            "end": string,
                            "reason": {
                                "enum": [
                                    "past",
                                    "notice",
                                    "too_far",
                                    "too_short",
                                    "too_long",
                                    "closed",
                                    "blocked",
                                    "imported",
                                    "linked",
                                    "overlap",
                                    "quota",
                                ]
                            },
                            "detail": string,
                            "with": {"type": "array", "items": {"type": "object"}},
                        },
                    },
                },
                "suggestions": {
                    "type": "object",
                    "properties": {"slots": {"type": "array"}, "resources": {"type": "array"}},
                },
            },
            "required": ["status", "title", "detail"],
        },
        "TokenCreated": {
            "type": "object",
            "properties": {"token": string, "id": integer, "expires_at": {"type": "string", "format": "date-time"}},
            "required": ["token", "expires_at"],
        },
        "Institution": {
            "type": "object",
            "properties": {
                "code": {"enum": ["UVT", "UPT", "UMFT", "USVT"]},
                "name_ro": string,
                "name_en": string,
                "short_name": string,
                "website": {"type": ["string", "null"]},
                "city": string,
            },
            "required": ["code", "name_ro", "name_en"],
        },
        "Site": {
            "type": "object",
            "properties": {
                "id": integer,
                "institution": string,
                "name": string,
                "address": string,
                "latitude": {"type": ["number", "null"]},
                "longitude": {"type": ["number", "null"]},
            },
            "required": ["id", "institution", "name"],
        },
        "Block": {
            "type": "object",
            "properties": {
                "id": integer,
                "resource_id": integer,
                "start": {"type": "string", "format": "date-time"},
                "end": {"type": "string", "format": "date-time"},
                "reason": string,
                "source": string,
            },
            "required": ["id", "resource_id", "start", "end"],
        },
        "BlockCreated": {
            "allOf": [
                {"$ref": "#/components/schemas/Block"},
                {
                    "type": "object",
                    "properties": {
                        "overlapping_bookings": {
                            "type": "array",
                            "description": "active bookings inside the new block; they are not cancelled",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "booking_id": integer,
                                    "occurrence_id": integer,
                                    "title": string,
                                    "status": string,
                                    "requester": string,
                                    "start": {"type": "string", "format": "date-time"},
                                    "end": {"type": "string", "format": "date-time"},
                                },
                            },
                        }
                    },
                    "required": ["overlapping_bookings"],
                },
            ]
        },
        "User": {
            "type": "object",
            "properties": {
                "id": integer,
                "email": string,
                "full_name": string,
                "institution": string,
                "role": {"enum": ["member", "manager", "admin"]},
                "affiliation": {"enum": ["student", "staff", "researcher"]},
                "locale": {"type": ["string", "null"]},
                "active": {"type": "boolean"},
                "created_at": {"type": "string", "format": "date-time"},
            },
            "required": ["id", "email", "institution", "role", "affiliation", "active"],
        },
        "Booking": {
            "type": "object",
            "properties": {
                "id": integer,
                "resource_id": integer,
                "title": string,
                "status": {"enum": ["pending", "confirmed", "rejected", "cancelled"]},
                "start": {"type": "string", "format": "date-time"},
                "end": {"type": "string", "format": "date-time"},
                "units": integer,
                "recurrence": {"type": ["string", "null"]},
                "price": {"type": "object", "properties": {"amount": {"type": "number"}, "currency": string}},
                "occurrences": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": integer,
                            "start": string,
                            "end": string,
                            "status": {"enum": ["active", "cancelled"]},
                        },
                    },
                },
                "check_in": {"type": "string", "format": "date"},
                "check_out": {"type": "string", "format": "date"},
            },
            "required": ["id", "resource_id", "status", "start", "end", "price"],
        },
        "Feed": {
            "type": "object",
            "properties": {
                "id": integer,
                "scope": string,
                "url": {"type": "string", "format": "uri"},
                "webcal_url": string,
            },
            "required": ["url", "webcal_url"],
        },
        "Import": {
            "type": "object",
            "properties": {
                "id": integer,
                "url": string,
                "last_status": {"enum": ["new", "ok", "error"]},
                "last_error": {"type": ["string", "null"]},
                "event_count": integer,
            },
        },
        "Availability": {
            "type": "object",
            "properties": {
                "busy": {"type": "array", "items": {"type": "object"}},
                "free": {"type": "array", "items": {"type": "object"}},
            },
            "required": ["busy", "free"],
        },
        "Authorization": {
            "type": "object",
            "properties": {
                "id": integer,
                "resource_id": integer,
                "email": string,
                "expires": {"type": ["string", "null"]},
            },
        },
        "Resource": {
            "type": "object",
            "properties": {
                "id": integer,
                "name": string,
                "name_en": {"type": ["string", "null"]},
                "kind": {"enum": ["lab", "sports", "dorm", "equipment", "room"]},
                "institution": string,
                "site": {"oneOf": [{"$ref": "#/components/schemas/Site"}, {"type": "null"}]},
                "capacity": nullable_int,
                "units": integer,
                "timezone": string,
                "visibility": {"enum": ["public", "alliance", "institution"]},
                "approval": {"enum": ["none", "partners", "all"]},
                "buffer_minutes": integer,
                "min_notice_minutes": integer,
                "max_advance_days": nullable_int,
                "min_duration_minutes": nullable_int,
                "max_duration_minutes": nullable_int,
                "opening_hours": {"type": ["object", "null"]},
                "linked_to": {"type": "array", "items": integer},
                "tariffs": {"type": "object", "additionalProperties": {"type": "number"}},
                "currency": string,
                "requires_authorization": {"type": "boolean"},
                "quota_hours_per_week": {"type": ["number", "null"]},
                "features": {"type": "array", "items": string},
            },
            "required": ["id", "name", "kind", "institution", "capacity", "units", "timezone"],
        },
    }
