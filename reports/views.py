"""/reports: utilisation (a bar chart of occupancy drawn on the server, with its table) and the exchange
between universities, for managers (their university) and admins (everything)."""

from __future__ import annotations

from datetime import timedelta

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

bp = Blueprint("reports", __name__)


@bp.get("/reports")
@login_required
def index():
    form = ReportForm(request.args)
    today = to_local(clock.now(), DEFAULT_TIMEZONE).date()
    form.from_.data = form.from_.data or today - timedelta(days=29)
    form.to.data = form.to.data or today
    form.group_by.data = form.group_by.data or "resource"
    status, rows, exchange, found = 200, [], [], None
    if form.validate():
        try:
            when = services.period(form.from_.data, form.to.data)
            rows = services.utilisation(
                current_user,
                when,
                group_by=form.group_by.data,
                institution=form.institution.data or None,
                kind=form.kind.data or None,
                locale=current_language(),
            )
            exchange = services.exchange(current_user, when)
            found = services.findings(rows)
        except InvalidInput as exc:
            apply_errors(form, exc, fields={"from": form.from_, "to": form.to})
            status = 422
    else:
        status = 422
    matrix = services.exchange_matrix(exchange)
    context = {"form": form, "rows": rows, "exchange": exchange, "found": found, "matrix": matrix}
    return render_template("reports/index.html", **context), status


@bp.get("/reports/<any(utilisation, exchange):report>.<any(csv, xlsx):fmt>")
@login_required
def download(report: str, fmt: str):
    """The page's figures as a file: the same filters, the API's rows."""
    form = ReportForm(request.args)
    if not form.validate() or not form.from_.data or not form.to.data:
        abort(422)
    when = services.period(form.from_.data, form.to.data)
    if report == "exchange":
        return answers.as_file(answers.exchange(current_user, when), fmt, when)
    answer = answers.utilisation(
        current_user,
        when,
        group_by=form.group_by.data or "resource",
        institution=form.institution.data or None,
        kind=form.kind.data or None,
        locale=current_language(),
    )
    return answers.as_file(answer, fmt, when)
