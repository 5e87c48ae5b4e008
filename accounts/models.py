"""Institutions, users and API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, utcnow
from app.extensions import db


class Role(enum.StrEnum):
    MEMBER = "member"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        """The member's name for people, translated when shown."""
        return ROLE_LABELS[self]


class Affiliation(enum.StrEnum):
    STUDENT = "student"
    STAFF = "staff"
    RESEARCHER = "researcher"

    @property
    def label(self) -> str:
        """The member's name for people, translated when shown."""
        return AFFILIATION_LABELS[self]


# Labels live beside their enums; forms, pages and messages all read them from here.
ROLE_LABELS: dict[str, str] = {Role.MEMBER: _l("Member"), Role.MANAGER: _l("Manager"), Role.ADMIN: _l("Administrator")}
AFFILIATION_LABELS: dict[str, str] = {
    Affiliation.STUDENT: _l("Student"),
    Affiliation.STAFF: _l("Staff"),
    Affiliation.RESEARCHER: _l("Researcher"),
}


class Institution(db.Model):
    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name_ro: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(20))
    website: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100), default="Timișoara")

    def name(self, locale: str) -> str:
        return self.name_ro if locale == "ro" else self.name_en


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('member', 'manager', 'admin')", name="role"),
        CheckConstraint("affiliation IN ('student', 'staff', 'researcher')", name="affiliation"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200), default="")
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    role: Mapped[str] = mapped_column(String(20), default=Role.MEMBER.value)
    affiliation: Mapped[str] = mapped_column(String(20), default=Affiliation.STAFF.value)
    locale: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of every session's and remember-me cookie's id; bumping it ends them all (see get_id).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    institution: Mapped[Institution] = relationship(lazy="joined")

    def get_id(self) -> str:
        """Flask-Login's alternative id: a cookie names the session version it was made under."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    def manages(self, institution_id: int) -> bool:
        """The one rule for who manages an institution's resources: its managers, and every admin."""
        return self.role == Role.ADMIN or (self.role == Role.MANAGER and self.institution_id == institution_id)


class ApiToken(db.Model):
    """A bearer token; only the SHA-256 of the secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class SignInFailure(db.Model):
    """One failed sign-in (page or API) against a budget key ("address:…" or "account:…").

    Counted over the limit's window by every process on the database; rows older than it are pruned
    when a new one is written."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class UsageCounter(db.Model):
    """How many times a key (e.g. "bookings:user:42") has spent a budget in one fixed window.

    Incremented by one upsert inside the transaction that does the counted thing, so the count holds
    exactly what was kept (a refused or rolled-back booking spends nothing) and concurrent writers of the
    same key queue on its row; the purge job deletes windows long past."""

    __tablename__ = "usage_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # Unix seconds
    count: Mapped[int] = mapped_column(Integer, default=0)
