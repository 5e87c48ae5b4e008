"""Private calendar feeds and imported external feeds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from app.database import UTCDateTime, utcnow
from app.extensions import db


class CalendarFeed(db.Model):
    """A private feed URL. The token is HMAC(SECRET_KEY, id:nonce): only its SHA-256 is stored, and
    the nonce alone is useless without the key, yet the owner's page can show the URL again."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(40))
    nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class FeedImport(db.Model):
    """An external iCal feed whose busy times block a resource; the last good data is kept on failure."""

    __tablename__ = "feed_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[str] = mapped_column(String(20), default="new")  # new | ok | error
    last_error: Mapped[str] = mapped_column(Text, default="")
    event_count: Mapped[int] = mapped_column(default=0)
    # Validators from the last good response, sent back as If-None-Match / If-Modified-Since.
    remote_etag: Mapped[str] = mapped_column(String(200), default="")
    remote_last_modified: Mapped[str] = mapped_column(String(100), default="")


class FeedRender(db.Model):
    """A feed's rendered bytes, shared by every process and host: keyed by what the feed is (its scope,
    viewer, base URL and day) and valid while the feed's fingerprint is the one stored, so a worker that
    never rendered the feed serves it without rendering, and never serves bytes older than its rows."""

    __tablename__ = "feed_renders"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the feed's cache key
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of the feed's fingerprint
    body: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(String(64))
    last_modified: Mapped[datetime] = mapped_column(UTCDateTime)
    rendered_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
