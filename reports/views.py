"""/reports: utilisation (a bar chart of occupancy drawn on the server, with its table) and the exchange
between universities, for managers (their university) and admins (everything)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from app import clock
from app.errors import InvalidInput
from app.forms import apply_errors
from app.i18n import current_language
from app.zones import to_local
from config import DEFAULT_TIMEZONE
from reports import answers, services
from reports.forms import ReportForm
from resources.forms import DAY_LABELS

bp = Blueprint("reports", __name__)


@bp.get("/reports")
@login_required
def index():
    form = ReportForm(request.args)
    today = to_local(clock.now(), DEFAULT_TIMEZONE).date()
    form.from_.data = form.from_.data or today - timedelta(days=29)
    form.to.data = form.to.data or today
    form.group_by.data = form.group_by.data or "resource"
    language = current_language()
    form.offer_resources((r.id, r.display_name(language)) for r in services.reported_resources(current_user))
    status, rows, exchange, found, heat, weeks = 200, [], [], None, None, []
    if form.validate():
        try:
            when = services.period(form.from_.data, form.to.data)
            heat = services.Heat()
            rows = services.utilisation(
                current_user,
                when,
                group_by=form.group_by.data,
                institution=form.institution.data or None,
                kind=form.kind.data or None,
                resource_id=form.resource_id,
                locale=language,
                heat=heat,
                unused=form.unused.data,
            )
            found = services.findings(
                rows
                if form.group_by.data == "resource"
                else services.utilisation(
                    current_user,
                    when,
                    institution=form.institution.data or None,
                    kind=form.kind.data or None,
                    resource_id=form.resource_id,
                    locale=language,
                )
            )
            exchange = services.exchange(current_user, when)
            weeks = services.weekly_totals(services.trends(current_user, when), when)
        except InvalidInput as exc:
            apply_errors(form, exc, fields={"from": form.from_, "to": form.to})
            status, heat = 422, None
    else:
        status = 422
    matrix = services.exchange_matrix(exchange)
    context = {
        "form": form,
        "rows": rows,
        "exchange": exchange,
        "found": found,
        "matrix": matrix,
        "heat": heat,
        "weeks": weeks,
        "weekdays": list(DAY_LABELS.values()),
    }
    return render_template("reports/index.html", **context), status


@bp.get("/reports/<any(utilisation, exchange, heatmap, trends):report>.<any(csv, xlsx):fmt>")
@login_required
def download(report: str, fmt: str):
    """The page's figures as a file: the same filters, the API's rows."""
    form = ReportForm(request.args)
    form.offer_resources((r.id, "") for r in services.reported_resources(current_user))
    if not form.validate() or not form.from_.data or not form.to.data:
        abort(422)
    when = services.period(form.from_.data, form.to.data)
    scope = {"institution": form.institution.data or None, "kind": form.kind.data or None}
    answer: Any
    if report == "exchange":
        answer = answers.exchange(current_user, when)
    elif report == "trends":
        answer = answers.trends(current_user, when)
    elif report == "heatmap":
        answer = answers.heatmap(current_user, when, resource_id=form.resource_id, **scope)
    else:
        answer = answers.utilisation(
            current_user,
            when,
            group_by=form.group_by.data or "resource",
            resource_id=form.resource_id,
            locale=current_language(),
            unused=form.unused.data,
            **scope,
        )
    return answers.as_file(answer, fmt, when)
