"""/api/v1/reports: utilisation and the exchange between universities (managers: their university; admins)."""

from __future__ import annotations

from flask import Blueprint, request

from accounts.auth import require_api_user
from app.apidoc import operation
from app.i18n import current_language
from app.validation import parse_query
from reports import answers, downloads, services
from reports.schemas import (
    Exchange,
    Findings,
    FindingsQuery,
    Heatmap,
    ReportQuery,
    ScopeQuery,
    Trends,
    Utilisation,
    UtilisationQuery,
)

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
        unused=query.unused,
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


@bp.get("/reports/findings")
@operation(Findings, query=FindingsQuery, errors=(403,), auth=True)
def findings():
    """What helps decide: bottlenecks, the least used, the unused, no-show rates and the most refused"""
    user = require_api_user()
    query = parse_query(FindingsQuery, request.args)
    when = services.period(query.from_, query.to)
    filters = {"institution": query.institution, "kind": query.kind}
    return answers.findings(user, when, limit=query.limit, locale=current_language(), **filters)


@bp.get("/reports/heatmap")
@operation(Heatmap, query=ScopeQuery, errors=(403,), auth=True, downloads=(downloads.CSV, downloads.XLSX))
def heatmap():
    """Open and booked hours and occupancy by local weekday and hour of the day"""
    user = require_api_user()
    query = parse_query(ScopeQuery, request.args)
    when = services.period(query.from_, query.to)
    answer = answers.heatmap(user, when, institution=query.institution, kind=query.kind, resource_id=query.resource)
    return answers.as_file(answer, query.format, when) if query.format != "json" else answer


@bp.get("/reports/trends")
@operation(Trends, query=ReportQuery, errors=(403,), auth=True, downloads=(downloads.CSV, downloads.XLSX))
def trends():
    """The exchange between universities week by week: bookings and hours per pair"""
    user = require_api_user()
    query = parse_query(ReportQuery, request.args)
    when = services.period(query.from_, query.to)
    answer = answers.trends(user, when)
    return answers.as_file(answer, query.format, when) if query.format != "json" else answer
