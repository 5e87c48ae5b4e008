"""/api/v1/reports: utilisation and the exchange between universities (managers: their university; admins)."""

from __future__ import annotations

from typing import Any

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
FILES = (downloads.CSV, downloads.XLSX)


def _answered(answer: Any, query: Any, when: services.Period):
    """The answer as JSON, or the same rows as the CSV or XLSX file asked for."""
    return answers.as_file(answer, query.format, when) if query.format != "json" else answer


@bp.get("/reports/utilisation")
@operation(Utilisation, query=UtilisationQuery, errors=(403,), auth=True, downloads=FILES)
def utilisation():
    """Open and booked hours, occupancy, bookings, cancellations and no-shows per resource, kind or university"""
    user, query = require_api_user(), parse_query(UtilisationQuery, request.args)
    when = services.period(query.from_, query.to)
    scope = {"institution": query.institution, "kind": query.kind, "resource_id": query.resource}
    answer = answers.utilisation(
        user, when, group_by=query.group_by, locale=current_language(), unused=query.unused, **scope
    )
    return _answered(answer, query, when)


@bp.get("/reports/exchange")
@operation(Exchange, query=ReportQuery, errors=(403,), auth=True, downloads=FILES)
def exchange():
    """Who used whose facilities: bookings, hours, bed-nights and amounts per pair of universities"""
    user, query = require_api_user(), parse_query(ReportQuery, request.args)
    when = services.period(query.from_, query.to)
    return _answered(answers.exchange(user, when), query, when)


@bp.get("/reports/findings")
@operation(Findings, query=FindingsQuery, errors=(403,), auth=True)
def findings():
    """What helps decide: bottlenecks, the least used, the unused, no-show rates and the most refused"""
    user, query = require_api_user(), parse_query(FindingsQuery, request.args)
    when = services.period(query.from_, query.to)
    filters = {"institution": query.institution, "kind": query.kind}
    return answers.findings(user, when, limit=query.limit, locale=current_language(), **filters)


@bp.get("/reports/heatmap")
@operation(Heatmap, query=ScopeQuery, errors=(403,), auth=True, downloads=FILES)
def heatmap():
    """Open and booked hours and occupancy by local weekday and hour of the day"""
    user, query = require_api_user(), parse_query(ScopeQuery, request.args)
    when = services.period(query.from_, query.to)
    scope = {"institution": query.institution, "kind": query.kind, "resource_id": query.resource}
    return _answered(answers.heatmap(user, when, **scope), query, when)


@bp.get("/reports/trends")
@operation(Trends, query=ReportQuery, errors=(403,), auth=True, downloads=FILES)
def trends():
    """The exchange between universities week by week: bookings and hours per pair"""
    user, query = require_api_user(), parse_query(ReportQuery, request.args)
    when = services.period(query.from_, query.to)
    return _answered(answers.trends(user, when), query, when)
