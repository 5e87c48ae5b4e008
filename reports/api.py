"""/api/v1/reports: utilisation and the exchange between universities (managers: their university; admins)."""

from __future__ import annotations

from flask import Blueprint, request

from accounts.auth import require_api_user
from app.apidoc import operation
from app.i18n import current_language
from app.validation import parse_query
from reports import services
from reports.schemas import Exchange, ExchangeRow, ReportPeriod, Utilisation, UtilisationQuery, UtilisationRow

bp = Blueprint("reports_api", __name__)


@bp.get("/reports/utilisation")
@operation(Utilisation, query=UtilisationQuery, errors=(403,), auth=True)
def utilisation():
    """Open and booked hours, occupancy, bookings, cancellations and no-shows per resource, kind or university"""
    user = require_api_user()
    query = parse_query(UtilisationQuery, request.args)
    when = services.period(query.from_, query.to)
    rows = services.utilisation(
        user,
        when,
        group_by=query.group_by,
        institution=query.institution,
        kind=query.kind,
        resource_id=query.resource,
        locale=current_language(),
    )
    return Utilisation.model_validate(
        {
            "from": when.first.isoformat(),
            "to": when.last.isoformat(),
            "group_by": query.group_by,
            "items": [_row(r) for r in rows],
        }
    )


def _row(usage: services.Usage) -> UtilisationRow:
    values = {
        "key": usage.key,
        "label": usage.label,
        "institution": usage.institution,
        "open_hours": float(usage.open_hours),
        "booked_hours": float(usage.booked_hours),
        "occupancy": None if usage.occupancy is None else float(usage.occupancy),
        "bookings": usage.bookings,
        "cancelled": usage.cancelled,
        "no_shows": usage.no_shows,
    }
    if usage.open_nights is not None:
        values |= {"open_nights": usage.open_nights, "booked_nights": usage.booked_nights}
    return UtilisationRow.model_validate(values)


@bp.get("/reports/exchange")
@operation(Exchange, query=ReportPeriod, errors=(403,), auth=True)
def exchange():
    """Who used whose facilities: bookings, hours, bed-nights and amounts per pair of universities"""
    user = require_api_user()
    query = parse_query(ReportPeriod, request.args)
    when = services.period(query.from_, query.to)
    items = [
        ExchangeRow(
            owner=r.owner_institution,
            requester_institution=r.user_institution,
            bookings=r.bookings,
            hours=float(r.hours),
            nights=r.nights,
            amount=float(r.amount),
            currency=r.currency,
        )
        for r in services.exchange(user, when)
    ]
    return Exchange.model_validate({"from": when.first.isoformat(), "to": when.last.isoformat(), "items": items})
