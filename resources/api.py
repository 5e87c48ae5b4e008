"""JSON API for the catalogue: resources, sites and blocked periods."""

from __future__ import annotations

from flask import Blueprint, request, url_for

from app.api import current_api_user, require_api_user
from app.extensions import db
from app.validation import parse_json, parse_query
from resources import services
from resources.features import FEATURES
from resources.schemas import (
    BlockCreate,
    ResourceCreate,
    ResourceFields,
    ResourceQuery,
    SiteCreate,
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
