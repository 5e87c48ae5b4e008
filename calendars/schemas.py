"""JSON in and out for calendar feeds."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator

from app.apidoc import Instant, Items, Out
from app.validation import StrictInput, text
from calendars.models import CalendarFeed


class FeedCreate(StrictInput):
    scope: text(40, 1)  # type: ignore[valid-type]


class FeedOut(Out):
    id: int
    scope: str
    url: str
    webcal_url: str
    created_at: Instant

    @classmethod
    def of(cls, feed: CalendarFeed, token: str, base_url: str) -> FeedOut:
        url = f"{base_url}calendars/feeds/{token}.ics"
        return cls(
            id=feed.id,
            scope=feed.scope,
            url=url,
            webcal_url="webcal://" + url.split("://", 1)[1],
            created_at=feed.created_at,
        )


class FeedList(Items[FeedOut]):
    pass


class ImportCreate(StrictInput):
    url: text(2000, 8)  # type: ignore[valid-type]


class ImportOut(Out):
    id: int
    resource_id: int
    url: str
    last_status: Literal["new", "ok", "error"]
    last_error: Annotated[str | None, BeforeValidator(lambda value: value or None)]
    last_attempt_at: Instant | None
    last_success_at: Instant | None
    event_count: int


class ImportList(Items[ImportOut]):
    pass
