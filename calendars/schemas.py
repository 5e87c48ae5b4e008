"""JSON in and out for calendar feeds."""

from __future__ import annotations

from typing import Any

from app.validation import StrictInput, text
from calendars.models import CalendarFeed


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
