"""Search, catalogue and resource pages."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, render_template, request
from flask_login import current_user

from app import clock
from app.errors import InvalidInput
from app.i18n import current_language
from bookings.conflicts import busy_spans
from calendars.imports import list_imports
from resources import services
from resources.features import feature_label
from resources.forms import KIND_LABELS, CatalogueFilterForm
from resources.hours import WEEKDAYS

bp = Blueprint("resources", __name__)
PER_PAGE = 24


def _viewer():
    return current_user if current_user.is_authenticated else None


@bp.app_context_processor
def catalogue_helpers():
    return {"kind_labels": KIND_LABELS, "feature_label": feature_label, "weekdays": WEEKDAYS}


@bp.get("/")
def index():
    form = CatalogueFilterForm(request.args, lang=current_language())
    return render_template("resources/index.html", form=form)


@bp.get("/resources")
def catalogue():
    form = CatalogueFilterForm(request.args, lang=current_language())
    page = request.args.get("page", "1")
    page_number = int(page) if page.isdigit() and 0 < int(page) <= 100_000 else 1
    result, status = None, 200
    if form.validate():
        filters = {
            "q": form.q.data or None,
            "kind": form.kind.data or None,
            "institution": form.institution.data or None,
            "feature": form.feature.data or None,
            "min_capacity": form.min_capacity.data,
        }
        if form.date.data:
            # Naive on purpose: each resource reads them in its own zone.
            filters["free_from"] = datetime.combine(form.date.data, form.start_time.data)
            filters["free_to"] = datetime.combine(form.date.data, form.end_time.data)
        try:
            result = services.search_resources(_viewer(), page=page_number, per_page=PER_PAGE, **filters)
        except InvalidInput as exc:
            form.date.errors = [*form.date.errors, *exc.messages.values()]
            status = 422
    else:
        status = 422
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("resources/catalogue.html", form=form, result=result, args=args), status


def _date_arg(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def detail_context(resource) -> dict:
    """Everything the resource page shows besides the booking form."""
    now = clock.now()
    busy = busy_spans(resource, now, now + timedelta(days=7))
    manages = services.can_manage(_viewer(), resource.institution_id)
    return {
        "imports": list_imports(_viewer(), resource.id) if manages else [],
        "authorizations": services.list_authorizations(_viewer(), resource.id)
        if manages and resource.requires_authorization
        else [],
        "resource": resource,
        "blocks": services.list_blocks(_viewer(), resource.id, start=now)[:20],
        "can_manage": services.can_manage(_viewer(), resource.institution_id),
        "busy": busy,
    }


@bp.get("/resources/<id:resource_id>")
def detail(resource_id: int):
    from bookings.forms import BookingForm
    from bookings.views import resource_booking_context

    resource = services.get_resource(_viewer(), resource_id)
    context = detail_context(resource)
    form = BookingForm(formdata=None, data={"date": _date_arg(request.args.get("date"))})
    context.update(resource_booking_context(resource, form))
    return render_template("resources/detail.html", **context)
