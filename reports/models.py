"""What the reports keep of their own: refused requests, counted per resource, day and reason (the rest of
a report is read from the bookings)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class RefusalCount(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy builds Model at run time
    """Requests for a resource refused on a local day (Timișoara's calendar) for a reason: the reason of the
    request's first refused time, so every refused request counts once."""

    __tablename__ = "refusal_counts"

    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
