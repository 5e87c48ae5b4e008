"""Search, catalogue and resource pages, and the resource's authorisations (training)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from babel.dates import format_date
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import clock
from app.errors import InvalidInput, error_text
from app.forms import apply_errors
from app.i18n import current_language
from app.pagination import page_number
from app.transactions import set_rollback
from app.urls import base_url
from app.validation import SINGLE_LINE_MESSAGE, is_single_line
from app.zones import EARLIEST, LATEST, to_local, to_utc
from bookings import schedule
from bookings import services as bookings
from bookings.forms import BookingForm
from calendars.imports import list_imports
from config import DEFAULT_TIMEZONE
from resources import services
from resources.features import feature_label
from resources.forms import CatalogueFilterForm, TimelineForm
from resources.hours import WEEKDAYS
from resources.models import APPROVAL_LABELS, KIND_LABELS, VISIBILITY_LABELS

bp = Blueprint("resources", __name__)
PER_PAGE = 24


def _viewer():
    return current_user if current_user.is_authenticated else None


def book_url(resource, start: datetime, end: datetime) -> str:
    """The resource page with its booking form prefilled for [start, end)."""
    args: dict[str, Any] = {"resource_id": resource.id, **schedule.booking_args(resource, start, end)}
    return url_for("resources.detail", **args) + "#book"


def free_url(resource, slot) -> str:
    """A free stretch of a day as a link: the booking form prefilled for its first hour (or night)."""
    return book_url(resource, *schedule.first_booking_in(resource, slot.start, slot.end))


def day_label(day: date, pattern: str = "EEE d MMM") -> str:
    return format_date(day, format=pattern, locale=get_locale())


def local_hhmm(moment: datetime, tz_name: str) -> str:
    return to_local(moment, tz_name).strftime("%H:%M")


@bp.app_context_processor
def catalogue_helpers():
    return {
        "kind_labels": KIND_LABELS,
        "visibility_labels": VISIBILITY_LABELS,
        "approval_labels": APPROVAL_LABELS,
        "feature_label": feature_label,
        "weekdays": WEEKDAYS,
        "book_url": book_url,
        "free_url": free_url,
        "day_label": day_label,
        "local_hhmm": local_hhmm,
    }


def _form_errors(form: CatalogueFilterForm, exc: InvalidInput) -> None:
    fields = {"start": form.start_time, "end": form.end_time, "nights": form.nights, "date": form.date}
    apply_errors(form, exc, fields=fields, fallback=form.date)


@bp.get("/")
def index():
    """Search first: what, when (a time range or nights) and where; free results and the next free times."""
    form = CatalogueFilterForm(request.args, lang=current_language())
    answer, status = None, 200
    if request.args:
        if form.validate():
            try:
                answer = schedule.search_free(
                    _viewer(),
                    day=form.date.data,
                    start=None if form.nights.data else form.start_time.data,
                    end=None if form.nights.data else form.end_time.data,
                    nights=form.nights.data,
                    kind=form.kind.data or None,
                    feature=form.feature.data or None,
                    q=form.q.data or None,
                    min_capacity=form.min_capacity.data,
                    institutions=form.institutions.data or None,
                    now=clock.now(),
                )
            except InvalidInput as exc:
                _form_errors(form, exc)
                status = 422
        else:
            status = 422
    return render_template("resources/index.html", form=form, answer=answer), status


@bp.get("/timeline")
def timeline_page():
    """Resources as rows against the hours of one day; free stretches link to a prefilled booking form."""
    form = TimelineForm(request.args)
    status = 200
    if not form.validate():
        status = 422
    day = (form.date.data if status == 200 else None) or to_local(clock.now(), DEFAULT_TIMEZONE).date()
    result = schedule.timeline(
        _viewer(),
        day=day,
        institution=(form.institution.data or None) if status == 200 else None,
        kind=(form.kind.data or None) if status == 200 else None,
        now=clock.now(),
    )
    args = {k: v for k, v in request.args.items() if k != "date"}
    return render_template(
        "resources/timeline.html",
        form=form,
        timeline=result,
        previous_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        args=args,
    ), status


@bp.get("/resources")
def catalogue():
    form = CatalogueFilterForm(request.args, lang=current_language())
    page = page_number(request.args.get("page"))
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
            result = schedule.search_resources(_viewer(), page=page, per_page=PER_PAGE, **filters)
        except InvalidInput as exc:
            apply_errors(form, exc, fields={}, fallback=form.date)
            status = 422
    else:
        status = 422
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("resources/catalogue.html", form=form, result=result, args=args), status


def _date_arg(value: str | None) -> date | None:
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return day if day is None or 2000 <= day.year < 2100 else None


def _time_arg(value: str | None) -> time | None:
    try:
        return time.fromisoformat(value) if value and len(value) <= 8 else None
    except ValueError:
        return None


def booking_prefill(resource, args) -> dict:
    """Booking form values from ?date=&start=&end= (or ?date=&nights= for dorms); bad values are ignored."""
    day = _date_arg(args.get("date"))
    if resource.kind == "dorm":
        nights = args.get("nights", "")
        count = int(nights) if nights.isdigit() and 1 <= int(nights) <= schedule.MAX_NIGHTS else 1
        return {"check_in": day, "check_out": day + timedelta(days=count)} if day else {}
    return {"date": day, "start_time": _time_arg(args.get("start")), "end_time": _time_arg(args.get("end"))}


def detail_context(resource, week: date | None = None, day: date | None = None) -> dict:
    """Everything the resource page shows besides the booking form."""
    now = clock.now()
    # A refused far-off date (year 1 in the form) shows this week, not a calendar nobody can book.
    week, day = (d if d and EARLIEST.year <= d.year < LATEST.year else None for d in (week, day))
    manages = services.can_manage(_viewer(), resource.institution_id)
    calendar = schedule.week_view(_viewer(), resource.id, week or day, now=now)
    days = [d.day for d in calendar.days]
    shown_day = day if day in days else calendar.today if calendar.today in days else calendar.monday
    return {
        "imports": list_imports(_viewer(), resource.id) if manages else [],
        "authorizations": services.list_authorizations(_viewer(), resource.id)
        if manages and resource.requires_authorization
        else [],
        "resource": resource,
        "blocks": services.list_blocks(_viewer(), resource.id, start=now)[:20],
        "can_manage": manages,
        "calendar": calendar,
        "shown_day": shown_day,
        "feed_url": _feed_url(resource),
    }


def resource_booking_context(resource, form: BookingForm) -> dict:
    """What the page states before confirming: the viewer's price class and whether approval is needed."""
    context: dict = {"form": form}
    if current_user.is_authenticated:
        klass = bookings.requester_class(current_user, resource)
        context["tariff_class"] = klass
        context["rate"] = resource.tariffs.get(klass)
        context["needs_approval"] = bookings.needs_approval(current_user, resource)
    return context


def _feed_url(resource) -> str | None:
    if resource.visibility != "public":
        return None
    return base_url().rstrip("/") + url_for("calendars.public_feed", resource_id=resource.id)


@bp.get("/resources/<id:resource_id>")
def detail(resource_id: int):
    resource = services.get_resource(_viewer(), resource_id)
    # A prefilled date opens the calendar on its week and day.
    asked = _date_arg(request.args.get("date"))
    week, day = _date_arg(request.args.get("week")) or asked, _date_arg(request.args.get("day")) or asked
    context = detail_context(resource, week, day)
    form = BookingForm(formdata=None, data=booking_prefill(resource, request.args))
    context.update(resource_booking_context(resource, form))
    return render_template("resources/detail.html", **context)


# --- authorisations (training), from the resource page and the managers' tab ----------------------


@bp.post("/resources/<id:resource_id>/authorizations")
@login_required
def grant_authorization_page(resource_id: int):
    resource = services.managed_resource(current_user, resource_id)
    expires = request.form.get("expires", "")

    try:
        expires_at = (
            to_utc(datetime.combine(date.fromisoformat(expires), time(23, 59, 59)), resource.timezone)
            if expires
            else None
        )
        email = request.form.get("email", "")[:254]
        if not is_single_line(email):  # the text policy (a NUL was a 500 on PostgreSQL)
            raise InvalidInput({"email": SINGLE_LINE_MESSAGE})
        services.grant_authorization(current_user, resource_id, email=email, expires_at=expires_at)
        flash(_("Authorised."), "success")
    except InvalidInput as exc:
        set_rollback()
        unknown = exc.messages.get("email") == "no user with this email"
        flash(_("No user has this email address.") if unknown else error_text(exc), "error")
    except ValueError:
        set_rollback()
        flash(_("Give the expiry as a date."), "error")
    return _back_to_authorizations(resource_id)


def _back_to_authorizations(resource_id: int):
    if request.form.get("back") == "manage":
        return redirect(url_for("manage.authorisations", resource_id=resource_id))
    return redirect(url_for("resources.detail", resource_id=resource_id) + "#authorizations")


@bp.post("/resources/<id:resource_id>/authorizations/<id:authorization_id>/revoke")
@login_required
def revoke_authorization_page(resource_id: int, authorization_id: int):
    services.revoke_authorization(current_user, resource_id, authorization_id)
    flash(_("Authorisation withdrawn."), "success")
    return _back_to_authorizations(resource_id)
