"""Monthly settlement between universities: who used whose facilities, how long, and what it costs."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import aliased, selectinload

from accounts.models import Institution, Role, User
from app.errors import InvalidInput, PermissionDenied
from app.extensions import db
from app.validation import one_line
from app.zones import to_local, to_utc
from bookings.models import Booking, Occurrence, Status
from config import DEFAULT_TIMEZONE
from resources.models import Kind, Resource

ZONE = DEFAULT_TIMEZONE  # the alliance settles by Timișoara's calendar month


@dataclass
class StatementRow:
    user_institution: str
    owner_institution: str
    bookings: int
    hours: Decimal
    nights: int
    amount: Decimal
    currency: str


_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")


def month_bounds(month: str) -> tuple[datetime, datetime]:
    try:
        if not _MONTH.fullmatch(month):  # ASCII digits only: int() would take "٢٠٢٦" too
            raise ValueError(month)
        year, number = (int(part) for part in month.split("-"))
        start = datetime(year, number, 1)
        end = datetime(year + (number == 12), number % 12 + 1, 1)
        return to_utc(start, ZONE), to_utc(end, ZONE)
    except (ValueError, TypeError) as exc:
        raise InvalidInput({"month": _l("give a month as YYYY-MM between 2000 and 2099")}) from exc


def statement(actor: User, month: str) -> list[StatementRow]:
    """Confirmed use in the month (by occurrence start), per pair of universities."""
    if actor.role == Role.MEMBER:
        raise PermissionDenied(_l("Statements are for managers and admins."))
    return exchange_between(actor, *month_bounds(month))


def exchange_between(actor: User, start: datetime, end: datetime) -> list[StatementRow]:
    """Confirmed use in [start, end) (by occurrence start), per pair of universities: the settlement's
    rule, and the reports' exchange. A manager sees the pairs their university is part of.

    A booking's stored price is shared among its active occurrences by duration, so a series
    crossing months is billed in the months it is used.
    """
    owner, user_inst = aliased(Institution), aliased(Institution)
    rows = db.session.execute(
        select(Booking, Occurrence, Resource, owner.code, user_inst.code)
        .join(Occurrence, Occurrence.booking_id == Booking.id)
        .join(Resource, Resource.id == Booking.resource_id)
        .join(owner, owner.id == Resource.institution_id)
        .join(User, User.id == Booking.requester_id)
        .join(user_inst, user_inst.id == User.institution_id)
        .options(selectinload(Booking.occurrences))  # each booking's total is shared among its occurrences
        .where(
            Booking.status == Status.CONFIRMED,
            Occurrence.active.is_(True),
            Occurrence.start_at >= start,
            Occurrence.start_at < end,
        )
    ).all()
    totals: dict[int, Decimal] = {}
    grouped: dict[tuple[str, str, str], dict] = defaultdict(
        lambda: {"bookings": set(), "hours": Decimal(0), "nights": 0, "amount": Decimal(0)}
    )
    for booking, occurrence, resource, owner_code, user_code in rows:
        if actor.role == Role.MANAGER and actor.institution.code not in (owner_code, user_code):
            continue
        if booking.id not in totals:
            totals[booking.id] = sum(
                (Decimal((o.end_at - o.start_at).total_seconds()) for o in booking.occurrences if o.active), Decimal(0)
            )
        seconds = Decimal((occurrence.end_at - occurrence.start_at).total_seconds())
        share = booking.price_amount * seconds / totals[booking.id] if totals[booking.id] else Decimal(0)
        entry = grouped[(user_code, owner_code, booking.currency)]
        entry["bookings"].add(booking.id)
        entry["amount"] += share
        if resource.kind == Kind.DORM:
            nights = (
                to_local(occurrence.end_at, resource.timezone).date()
                - to_local(occurrence.start_at, resource.timezone).date()
            ).days
            entry["nights"] += nights * occurrence.units
        else:
            entry["hours"] += seconds / 3600 * occurrence.units
    cents = Decimal("0.01")
    return [
        StatementRow(
            user,
            owner_code,
            len(v["bookings"]),
            v["hours"].quantize(cents, ROUND_HALF_UP),
            v["nights"],
            v["amount"].quantize(cents, ROUND_HALF_UP),
            currency,
        )
        for (user, owner_code, currency), v in sorted(grouped.items())
    ]


def csv_cell(value: object) -> object:
    """A cell a spreadsheet shows as text (OWASP, CSV injection): one line, and a leading = + - @
    (or tab/CR) quoted with an apostrophe so it is never read as a formula. Numbers are left alone."""
    if not isinstance(value, str):
        return value
    cell = one_line(value)
    return f"'{cell}" if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def statement_csv(rows: list[StatementRow], month: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["month", "user_institution", "owner_institution", "bookings", "hours", "nights", "amount", "currency"]
    )
    for r in rows:
        cells = [month, r.user_institution, r.owner_institution, r.bookings, r.hours, r.nights, r.amount, r.currency]
        writer.writerow([csv_cell(cell) for cell in cells])
    return out.getvalue()
