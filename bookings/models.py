"""Bookings, their occurrences (one row per session or stay), and the audit trail.

A booking may belong to a joint event (`events.models.Event`); the relationship is named by string, so
bookings never import the events package that builds on them."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from app.database import UTCDateTime, utcnow
from app.extensions import db
from resources.models import Resource

if TYPE_CHECKING:
    from events.models import Event


class Status(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        """The member's name for people, translated when shown."""
        return STATUS_LABELS[self]


STATUS_LABELS: dict[str, str] = {
    Status.PENDING: _l("pending"),
    Status.CONFIRMED: _l("confirmed"),
    Status.REJECTED: _l("rejected"),
    Status.CANCELLED: _l("cancelled"),
}


# Statuses whose occurrences hold their units: a pending request holds its slot until decided.
HOLDING = (Status.PENDING.value, Status.CONFIRMED.value)


class Booking(db.Model):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'confirmed', 'rejected', 'cancelled')", name="status"),
        CheckConstraint("units >= 1", name="units_positive"),
        UniqueConstraint("requester_id", "idempotency_key", name="uq_bookings_requester_idempotency"),
        Index("ix_bookings_resource_status", "resource_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    units: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20))
    recurrence: Mapped[str | None] = mapped_column(String(500))
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)  # dorm stays entered as dates
    price_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="RON")
    requester_class: Mapped[str] = mapped_column(String(10), default="own")
    project_code: Mapped[str] = mapped_column(String(100), default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"), index=True)
    # Set on a hold offered from the waitlist: the requester must accept before this instant.
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)

    resource: Mapped[Resource] = relationship(lazy="joined")
    requester: Mapped[User] = relationship(foreign_keys=[requester_id], lazy="joined")
    event: Mapped[Event | None] = relationship(back_populates="bookings")
    occurrences: Mapped[list[Occurrence]] = relationship(
        back_populates="booking", order_by="Occurrence.start_at", cascade="all, delete-orphan"
    )


class Occurrence(db.Model):
    """One session (or one stay) of a booking; every conflict check is an indexed query on these rows.

    `active` is true while the occurrence holds its units (booking pending or confirmed and the
    occurrence itself not cancelled); it is kept by the services so the conflict query needs no join.
    """

    __tablename__ = "occurrences"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="positive_span"),
        CheckConstraint("units >= 1", name="units_positive"),
        Index("ix_occurrences_resource_start", "resource_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    units: Mapped[int] = mapped_column(Integer, default=1)
    # Set for single-unit resources; PostgreSQL's exclusion constraint keys on it as the backstop.
    exclusive: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # bumped on each change, for iCal
    uid: Mapped[str] = mapped_column(String(64), unique=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)

    booking: Mapped[Booking] = relationship(back_populates="occurrences")


class AuditEntry(db.Model):
    """Who changed what and when, per booking."""

    __tablename__ = "booking_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship()
    booking: Mapped[Booking] = relationship()


class WaitlistEntry(db.Model):
    """Someone waiting for a taken slot; when it frees, the first in line is offered a timed hold."""

    __tablename__ = "waitlist"
    __table_args__ = (
        CheckConstraint("status IN ('waiting', 'offered', 'booked', 'lapsed', 'cancelled')", name="status"),
        Index("ix_waitlist_resource_status", "resource_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    units: Mapped[int] = mapped_column(Integer, default=1)

    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="waiting")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hold_booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))

    resource: Mapped[Resource] = relationship(lazy="joined")
    user: Mapped[User] = relationship(lazy="joined")
