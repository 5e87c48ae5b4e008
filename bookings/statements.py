"""Monthly settlement between universities: who used whose facilities, how long, and what it costs."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import aliased

from accounts.models import Institution, Role, User
from app.database import epoch_seconds
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


def confirmed_use(actor: User, start: datetime, end: datetime) -> tuple[Select, Any, Any]:
    """What counts as use between universities in [start, end): the active occurrences of confirmed bookings
    that start in it, joined to the booking, the resource, and the universities of the requester and of the
    owner (returned as aliases to select from); a manager's only where their university is one of the two.
    The settlement, the reports' exchange and its weekly trends all ask this."""
    owner, user_inst = aliased(Institution), aliased(Institution)
    query = (
        select(Booking.id)
        .join(Occurrence, Occurrence.booking_id == Booking.id)
        .join(Resource, Resource.id == Booking.resource_id)
        .join(owner, owner.id == Resource.institution_id)
        .join(User, User.id == Booking.requester_id)
        .join(user_inst, user_inst.id == User.institution_id)
        .where(
            Booking.status == Status.CONFIRMED,
            Occurrence.active.is_(True),
            Occurrence.start_at >= start,
            Occurrence.start_at < end,
        )
    )
    if actor.role == Role.MANAGER:
        query = query.where(or_(owner.code == actor.institution.code, user_inst.code == actor.institution.code))
    return query, user_inst, owner


def exchange_between(actor: User, start: datetime, end: datetime) -> list[StatementRow]:
    """Confirmed use in [start, end) (by occurrence start), per pair of universities: the settlement's
    rule, and the reports' exchange. A manager sees the pairs their university is part of.

    A booking's stored price is shared among its active occurrences by duration, so a series
    crossing months is billed in the months it is used. The database adds up each booking's time in the
    period and its active time in all (a year of the alliance is a quarter of a million occurrences; none is
    loaded as an object); only a dorm's nights are counted here, in its own calendar.
    """
    used, user_inst, owner = confirmed_use(actor, start, end)
    seconds = epoch_seconds(Occurrence.end_at) - epoch_seconds(Occurrence.start_at)
    total = aliased(Occurrence)
    active_total = (
        select(func.sum(epoch_seconds(total.end_at) - epoch_seconds(total.start_at)))
        .where(total.booking_id == Booking.id, total.active.is_(True))
        .scalar_subquery()
    )
    inner = used.add_columns(
        user_inst.code.label("user_code"),
        owner.code.label("owner_code"),
        Booking.currency.label("currency"),
        Booking.price_amount.label("price"),
        Resource.kind.label("kind"),
        func.sum(seconds * Occurrence.units).label("unit_seconds"),
        func.sum(seconds).label("used"),
        # A booking without a recurrence has one occurrence (create_booking, waitlist holds): its total is
        # its time in the period, and only a series' occurrences are added up again.
        case((Booking.recurrence.is_(None), func.sum(seconds)), else_=active_total).label("total"),
    ).group_by(
        Booking.id,
        user_inst.code,
        owner.code,
        Booking.currency,
        Booking.price_amount,
        Resource.kind,
        Booking.recurrence,
    )
    per_booking = inner.subquery()
    pair = (per_booking.c.user_code, per_booking.c.owner_code, per_booking.c.currency)
    grouped: dict[tuple[str, str, str], dict] = defaultdict(
        lambda: {"bookings": 0, "hours": Decimal(0), "nights": 0, "amount": Decimal(0)}
    )
    # Per pair: bookings, hours outside dorms, and the price of every booking used wholly in the period.
    for user_code, owner_code, currency, count, unit_seconds, whole in db.session.execute(
        select(
            *pair,
            func.count(),
            func.sum(case((per_booking.c.kind == Kind.DORM.value, 0.0), else_=per_booking.c.unit_seconds)),
            func.sum(case((per_booking.c.used == per_booking.c.total, per_booking.c.price), else_=0)),
        ).group_by(*pair)
    ):
        entry = grouped[(user_code, owner_code, currency)]
        entry["bookings"] = count
        entry["hours"] = _decimal(unit_seconds or 0) / 3600
        entry["amount"] = Decimal(str(whole or 0))
    # A booking used partly in the period (a series across its edges) pays its share, by duration, exactly.
    for user_code, owner_code, currency, price, used_seconds, all_seconds in db.session.execute(
        select(*pair, per_booking.c.price, per_booking.c.used, per_booking.c.total).where(
            per_booking.c.used != per_booking.c.total
        )
    ):
        if all_seconds:
            grouped[(user_code, owner_code, currency)]["amount"] += (
                Decimal(price) * _decimal(used_seconds) / _decimal(all_seconds)
            )
    # Dorm nights: the difference of each stay's local dates, in its resource's calendar.
    for user_code, owner_code, currency, first, last, units, tz in db.session.execute(
        used.with_only_columns(
            user_inst.code,
            owner.code,
            Booking.currency,
            Occurrence.start_at,
            Occurrence.end_at,
            Occurrence.units,
            Resource.timezone,
        ).where(Resource.kind == Kind.DORM.value)
    ):
        nights = (to_local(last, tz).date() - to_local(first, tz).date()).days
        grouped[(user_code, owner_code, currency)]["nights"] += nights * units
    cents = Decimal("0.01")
    return [
        StatementRow(
            user,
            owner_code,
            v["bookings"],
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


def _decimal(seconds: float) -> Decimal:
    """Seconds summed by the database (whole seconds, or microseconds at most) as an exact decimal."""
    return Decimal(repr(round(seconds, 6)))
