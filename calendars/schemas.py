"""JSON in and out for calendar feeds."""

from __future__ import annotations

from typing import Any

from app.validation import StrictInput, text
from calendars.models import CalendarFeed, FeedImport


class FeedCreate(StrictInput):
    scope: text(40, 1)  # type: ignore[valid-type]


def feed_json(feed: CalendarFeed, token: str, base_url: str) -> dict[str, Any]:
    url = f"{base_url}calendars/feeds/{token}.ics"
    return {
        "id": feed.id,
        "scope": feed.scope,
        "url": url,
        "webcal_url": "webcal://" + url.split("://", 1)[1],
        "created_at": feed.created_at.isoformat(),
    }


class ImportCreate(StrictInput):
    url: text(2000, 8)  # type: ignore[valid-type]


def import_json(feed: FeedImport) -> dict[str, Any]:
    return {
        "id": feed.id,
        "resource_id": feed.resource_id,
        "url": feed.url,
        "last_status": feed.last_status,
        "last_error": feed.last_error or None,
        "last_attempt_at": feed.last_attempt_at.isoformat() if feed.last_attempt_at else None,
        "last_success_at": feed.last_success_at.isoformat() if feed.last_success_at else None,
        "event_count": feed.event_count,
    }
