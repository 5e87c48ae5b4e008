"""JSON API for private calendar feeds."""

from __future__ import annotations

from flask import Blueprint, request

from app import clock
from app.api import require_api_user
from app.extensions import db
from app.validation import parse_json
from calendars import imports, services
from calendars.schemas import FeedCreate, ImportCreate, feed_json, import_json
from calendars.views import base_url

bp = Blueprint("calendars_api", __name__)


@bp.post("/calendar-feeds")
def create_feed():
    user = require_api_user()
    data = parse_json(FeedCreate, request.get_data())
    feed, token = services.create_feed(user, data.scope)
    db.session.commit()
    return feed_json(feed, token, base_url()), 201


@bp.get("/calendar-feeds")
def list_feeds():
    user = require_api_user()
    return {"items": [feed_json(feed, token, base_url()) for feed, token in services.list_feeds(user)]}


@bp.post("/calendar-feeds/<id:feed_id>/regenerate")
def regenerate_feed(feed_id: int):
    feed, token = services.regenerate_feed(require_api_user(), feed_id)
    db.session.commit()
    return feed_json(feed, token, base_url())


@bp.delete("/calendar-feeds/<id:feed_id>")
def revoke_feed(feed_id: int):
    services.revoke_feed(require_api_user(), feed_id)
    db.session.commit()
    return "", 204


@bp.post("/resources/<id:resource_id>/imports")
def add_import(resource_id: int):
    user = require_api_user()
    data = parse_json(ImportCreate, request.get_data())
    feed = imports.add_import(user, resource_id, data.url)
    db.session.commit()
    return import_json(feed), 201


@bp.get("/resources/<id:resource_id>/imports")
def list_imports(resource_id: int):
    return {"items": [import_json(f) for f in imports.list_imports(require_api_user(), resource_id)]}


@bp.post("/resources/<id:resource_id>/imports/<id:import_id>/refresh")
def refresh_import(resource_id: int, import_id: int):
    feed = imports.get_import(require_api_user(), resource_id, import_id)
    imports.refresh_import(feed, now=clock.now())
    db.session.commit()
    return import_json(feed)


@bp.delete("/resources/<id:resource_id>/imports/<id:import_id>")
def remove_import(resource_id: int, import_id: int):
    imports.remove_import(require_api_user(), resource_id, import_id)
    db.session.commit()
    return "", 204
