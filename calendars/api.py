"""JSON API for private calendar feeds."""

from __future__ import annotations

from flask import Blueprint, request

from accounts.auth import require_api_user
from app.apidoc import operation
from app.urls import base_url
from app.validation import parse_json
from calendars import imports, services
from calendars.schemas import FeedCreate, FeedList, FeedOut, ImportCreate, ImportList, ImportOut

bp = Blueprint("calendars_api", __name__)


@bp.post("/calendar-feeds")
@operation(FeedOut, status=201, body=FeedCreate, errors=(403, 404), auth=True)
def create_feed():
    """A private, revocable feed URL (scope mine, resource:ID, institution:CODE or event:ID)"""
    user = require_api_user()
    data = parse_json(FeedCreate, request.get_data())
    feed, token = services.create_feed(user, data.scope)
    return FeedOut.of(feed, token, base_url())


@bp.get("/calendar-feeds")
@operation(FeedList, auth=True)
def list_feeds():
    """My feeds with their URLs"""
    user = require_api_user()
    return FeedList(items=[FeedOut.of(feed, token, base_url()) for feed, token in services.list_feeds(user)])


@bp.post("/calendar-feeds/<id:feed_id>/regenerate")
@operation(FeedOut, errors=(404,), auth=True)
def regenerate_feed(feed_id: int):
    """A new URL for the feed; the old one stops working"""
    feed, token = services.regenerate_feed(require_api_user(), feed_id)
    return FeedOut.of(feed, token, base_url())


@bp.delete("/calendar-feeds/<id:feed_id>")
@operation(status=204, errors=(404,), auth=True)
def revoke_feed(feed_id: int):
    """Revoke a feed: its URL answers 404 at once"""
    services.revoke_feed(require_api_user(), feed_id)
    return "", 204


@bp.post("/resources/<id:resource_id>/imports")
@operation(ImportOut, status=201, body=ImportCreate, errors=(403, 404), auth=True)
def add_import(resource_id: int):
    """Import an external iCal feed as busy time; the first fetch is queued (last_status "pending") and
    done by the scheduler within a minute, then hourly"""
    user = require_api_user()
    data = parse_json(ImportCreate, request.get_data())
    feed = imports.add_import(user, resource_id, data.url)
    return ImportOut.model_validate(feed)


@bp.get("/resources/<id:resource_id>/imports")
@operation(ImportList, errors=(403, 404), auth=True)
def list_imports(resource_id: int):
    """Imports of a resource with their last status"""
    feeds = imports.list_imports(require_api_user(), resource_id)
    return ImportList(items=[ImportOut.model_validate(f) for f in feeds])


@bp.post("/resources/<id:resource_id>/imports/<id:import_id>/refresh")
@operation(ImportOut, errors=(403, 404), auth=True)
def refresh_import(resource_id: int, import_id: int):
    """Queue a refresh of the feed (last_status "pending"); the scheduler fetches it within a minute"""
    feed = imports.refresh_queued(require_api_user(), resource_id, import_id)
    return ImportOut.model_validate(feed)


@bp.delete("/resources/<id:resource_id>/imports/<id:import_id>")
@operation(status=204, errors=(403, 404), auth=True)
def remove_import(resource_id: int, import_id: int):
    """Remove an import and its busy time"""
    imports.remove_import(require_api_user(), resource_id, import_id)
    return "", 204
