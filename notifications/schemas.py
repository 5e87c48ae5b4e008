"""JSON in and out for the outbox as admins see it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.apidoc import Instant, Out, Page

MailState = Literal["parked", "queued", "sent"]


class MailQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    state: MailState = "parked"
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=100)] = 25


class MailOut(Out):
    id: int
    kind: str
    to_email: str
    locale: str
    booking_id: int | None
    event_id: int | None
    created_at: Instant
    attempts: int
    next_attempt_at: Instant
    sent_at: Instant | None
    set_aside_at: Instant | None
    last_error: str


class MailPage(Page[MailOut]):
    pass
