"""JSON in and out for calendar feeds."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

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
    """An imported feed and the state of its refreshes, which run outside the web request."""

    id: int
    resource_id: int
    url: str
    last_status: Literal["new", "pending", "ok", "error"] = Field(
        description="pending: a refresh is queued (the scheduler fetches it within a minute); ok: the last "
        "refresh worked; error: the last refresh failed (see last_error; the last good busy time is kept); "
        "new: never fetched"
    )
    last_error: Annotated[str | None, BeforeValidator(lambda value: value or None)] = Field(
        description="Why the last failed refresh failed; kept while a new refresh is pending, null after a success"
    )
    last_attempt_at: Instant | None = Field(description="When the last refresh was attempted")
    last_success_at: Instant | None = Field(description="When the feed was last read successfully")
    event_count: int = Field(description="Busy periods from the last good copy")


class ImportList(Items[ImportOut]):
    pass
