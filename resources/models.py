"""Sites, resources, their links, features and blocked periods."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import Institution, User
from app.database import UTCDateTime, utcnow
from app.extensions import db
from config import DEFAULT_TIMEZONE


class Kind(enum.StrEnum):
    LAB = "lab"
    SPORTS = "sports"
    DORM = "dorm"
    EQUIPMENT = "equipment"
    ROOM = "room"

    @property
    def label(self) -> str:
        """The member's name for people, translated when shown."""
        return KIND_LABELS[self]


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    ALLIANCE = "alliance"
    INSTITUTION = "institution"

    @property
    def label(self) -> str:
        """The member's name for people, translated when shown."""
        return VISIBILITY_LABELS[self]


class Approval(enum.StrEnum):
    NONE = "none"
    PARTNERS = "partners"
    ALL = "all"

    @property
    def label(self) -> str:
        """The member's name for people, translated when shown."""
        return APPROVAL_LABELS[self]


# Labels live beside their enums; forms, pages and messages all read them from here.
KIND_LABELS: dict[str, str] = {
    Kind.LAB: _l("Laboratory"),
    Kind.SPORTS: _l("Sports facility"),
    Kind.DORM: _l("Dorm room"),
    Kind.EQUIPMENT: _l("Research equipment"),
    Kind.ROOM: _l("Event room"),
}
VISIBILITY_LABELS: dict[str, str] = {
    Visibility.PUBLIC: _l("Everyone, also without an account"),
    Visibility.ALLIANCE: _l("The four universities"),
    Visibility.INSTITUTION: _l("Its own university only"),
}
APPROVAL_LABELS: dict[str, str] = {
    Approval.NONE: _l("Not needed"),
    Approval.PARTNERS: _l("Needed for partner universities"),
    Approval.ALL: _l("Needed for every request"),
}


def _in(column: str, enum_type: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(m.value) for m in enum_type)})"


# Links are stored in both directions so "what blocks X" is one indexed lookup.
resource_links = Table(
    "resource_links",
    db.metadata,
    Column("resource_id", ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True),
    Column("linked_id", ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True, index=True),
    CheckConstraint("resource_id <> linked_id", name="not_self"),
)


class Site(db.Model):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # A site's name and address are in every calendar feed's LOCATION: feeds' Last-Modified follows this.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    institution: Mapped[Institution] = relationship(lazy="joined")


class ResourceFeature(db.Model):
    __tablename__ = "resource_features"

    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class Resource(db.Model):
    __tablename__ = "resources"
    __table_args__ = (
        CheckConstraint(_in("kind", Kind), name="kind"),
        CheckConstraint(_in("visibility", Visibility), name="visibility"),
        CheckConstraint(_in("approval", Approval), name="approval"),
        CheckConstraint("units >= 1", name="units_positive"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_non_negative"),
        CheckConstraint("buffer_minutes >= 0", name="buffer_non_negative"),
        CheckConstraint("min_notice_minutes >= 0", name="notice_non_negative"),
        CheckConstraint(
            "min_duration_minutes IS NULL OR max_duration_minutes IS NULL "
            "OR min_duration_minutes <= max_duration_minutes",
            name="duration_range",
        ),
        Index("ix_resources_institution_kind", "institution_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    description_ro: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer, default=1)
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    visibility: Mapped[str] = mapped_column(String(20), default=Visibility.ALLIANCE.value)
    approval: Mapped[str] = mapped_column(String(20), default=Approval.NONE.value)
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=0)
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=0)
    max_advance_days: Mapped[int | None] = mapped_column(Integer)
    # Partner universities' own window (e.g. 7 days where the owners have 21); NULL = the same window.
    partner_max_advance_days: Mapped[int | None] = mapped_column(Integer)
    # With check-in, a session not checked in within `no_show_minutes` of its start is released.
    check_in_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    no_show_minutes: Mapped[int] = mapped_column(Integer, default=15, server_default="15")
    allow_partners: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    min_duration_minutes: Mapped[int | None] = mapped_column(Integer)
    max_duration_minutes: Mapped[int | None] = mapped_column(Integer)
    # {"mon": [["08:00", "20:00"]], ...}; NULL means always open, a missing day means closed.
    opening_hours: Mapped[dict | None] = mapped_column(JSON)
    # {"own": 0, "partner": 40, "external": 90} per hour, per night for dorms.
    tariffs: Mapped[dict] = mapped_column(JSON, default=dict)
    currency: Mapped[str] = mapped_column(String(3), default="RON")
    requires_authorization: Mapped[bool] = mapped_column(Boolean, default=False)
    quota_hours_per_week: Mapped[float | None] = mapped_column(Float)
    approval_deadline_hours: Mapped[int] = mapped_column(Integer, default=72)
    check_in_time: Mapped[str | None] = mapped_column(String(5))
    check_out_time: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The longest occurrence ever booked here: conflict queries only look back this far, so
    # their cost does not grow with the booking history.
    longest_booking_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Folded (lower case, no diacritics) names, descriptions and tags for the text filter.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)

    institution: Mapped[Institution] = relationship(lazy="joined")
    site: Mapped[Site | None] = relationship(lazy="joined")
    feature_rows: Mapped[list[ResourceFeature]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=ResourceFeature.code
    )
    linked: Mapped[list[Resource]] = relationship(
        secondary=resource_links,
        primaryjoin=lambda: Resource.id == resource_links.c.resource_id,
        secondaryjoin=lambda: Resource.id == resource_links.c.linked_id,
        lazy="selectin",
        order_by=lambda: Resource.id,
    )

    @property
    def features(self) -> list[str]:
        return [row.code for row in self.feature_rows]

    def display_name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name

    def description(self, locale: str) -> str:
        return (self.description_en if locale == "en" else self.description_ro) or self.description_ro


class Block(db.Model):
    """A period when the resource cannot be booked (maintenance, holidays, imported busy time)."""

    __tablename__ = "blocks"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="positive_span"),
        Index("ix_blocks_resource_span", "resource_id", "start_at", "end_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(20), default="manual")
    import_id: Mapped[int | None] = mapped_column(ForeignKey("feed_imports.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    resource: Mapped[Resource] = relationship()
    created_by: Mapped[User | None] = relationship()


class Authorization(db.Model):
    """A user trained for a resource that requires it, optionally until an expiry instant."""

    __tablename__ = "authorizations"
    __table_args__ = (UniqueConstraint("resource_id", "user_id", name="uq_authorizations_resource_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
