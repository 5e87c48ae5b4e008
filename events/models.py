"""Joint events: a set of bookings across resources and universities, and their co-organisers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from app.database import UTCDateTime, utcnow
from app.extensions import db
from bookings.models import Booking


class Event(db.Model):
    """A joint event: a set of bookings across resources and universities, booked all or nothing."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("visibility IN ('public', 'alliance')", name="visibility"),
        CheckConstraint("status IN ('active', 'cancelled')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(20), default="alliance")
    status: Mapped[str] = mapped_column(String(20), default="active")
    organiser_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organiser: Mapped[User] = relationship(lazy="joined")
    co_organisers: Mapped[list[User]] = relationship(secondary="event_organisers", order_by="User.id")
    bookings: Mapped[list[Booking]] = relationship(back_populates="event", order_by="Booking.id")

    def organisers(self) -> list[User]:
        return [self.organiser, *[u for u in self.co_organisers if u.id != self.organiser_id]]


class EventOrganiser(db.Model):
    """Co-organisers: people besides the organiser who may change the event."""

    __tablename__ = "event_organisers"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)


class EventInvitation(db.Model):
    """An invitation to co-organise an event, sent to an address: no rights until the person with that
    address accepts (then an `EventOrganiser` row is added). Stored for any address, so the answer to
    the inviter never tells whether the address has an account; the mail goes only to an account."""

    __tablename__ = "event_invitations"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'accepted', 'declined')", name="status"),
        UniqueConstraint("event_id", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)  # lower-cased
    status: Mapped[str] = mapped_column(String(20), default="pending")
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    event: Mapped[Event] = relationship()
    invited_by: Mapped[User] = relationship()
