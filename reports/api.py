"""/api/v1/reports: utilisation and the exchange between universities (managers: their university; admins)."""

from __future__ import annotations

from flask import Blueprint, request

from accounts.auth import require_api_user
from app.apidoc import operation
from app.i18n import current_language
from app.validation import parse_query
from reports import answers, downloads, services
from reports.schemas import Exchange, ReportQuery, Utilisation, UtilisationQuery

bp = Blueprint("reports_api", __name__)


@bp.get("/reports/utilisation")
@operation(Utilisation, query=UtilisationQuery, errors=(403,), auth=True, downloads=(downloads.CSV, downloads.XLSX))
def utilisation():
    """Open and booked hours, occupancy, bookings, cancellations and no-shows per resource, kind or university"""
    user = require_api_user()
    query = parse_query(UtilisationQuery, request.args)
    when = services.period(query.from_, query.to)
    answer = answers.utilisation(
        user,
        when,
        group_by=query.group_by,
        institution=query.institution,
        kind=query.kind,
        resource_id=query.resource,
        locale=current_language(),
    )
    return answers.as_file(answer, query.format, when) if query.format != "json" else answer


@bp.get("/reports/exchange")
@operation(Exchange, query=ReportQuery, errors=(403,), auth=True, downloads=(downloads.CSV, downloads.XLSX))
def exchange():
    """Who used whose facilities: bookings, hours, bed-nights and amounts per pair of universities"""
    user = require_api_user()
    query = parse_query(ReportQuery, request.args)
    when = services.period(query.from_, query.to)
    answer = answers.exchange(user, when)
    return answers.as_file(answer, query.format, when) if query.format != "json" else answer
