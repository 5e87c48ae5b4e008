"""Booking pages: the form on a resource page, my bookings, and the managers' approvals."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import clock
from app.errors import Conflict, InvalidInput, PermissionDenied, RateLimited
from app.filenames import content_disposition
from app.forms import apply_errors, flash_error
from app.transactions import set_rollback
from app.urls import base_url
from app.zones import to_local
from availability.rules import REASON_LABELS
from bookings import services
from bookings.forms import BookingForm, CancelForm, DecisionForm, RescheduleForm
from bookings.models import STATUS_LABELS, Status
from bookings.statements import statement, statement_csv
from bookings.waitlist import accept_hold, join_waitlist, leave_waitlist, list_waitlist
from calendars import services as calendars
from calendars.schemas import FeedOut
from resources import services as catalogue
from resources.models import Kind
from resources.views import detail_context, resource_booking_context

bp = Blueprint("bookings", __name__)


def reason_text(reason: str) -> str:
    return str(REASON_LABELS.get(reason, reason))


@bp.app_context_processor
def booking_helpers():
    return {"reason_text": reason_text, "to_local": to_local}


# A global, not a context variable: macros imported without context (events/_items.html) call it too.
@bp.app_template_global()
def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def _booking_values(form: BookingForm, is_dorm: bool) -> dict:
    if is_dorm:
        return {"start": form.check_in.data, "end": form.check_out.data}
    start = datetime.combine(form.date.data, form.start_time.data)
    end = datetime.combine(form.date.data, form.end_time.data)
    if end <= start:  # a session past midnight ends the next day
        end += timedelta(days=1)
    return {"start": start, "end": end}


@bp.post("/resources/<id:resource_id>/book")
@login_required
def book(resource_id: int):
    resource = catalogue.get_resource(current_user, resource_id)
    is_dorm = resource.kind == Kind.DORM
    form = BookingForm()
    conflict, status = None, 422
    if form.validate_for(is_dorm):
        recurrence = None
        if form.repeat.data and (form.count.data or 1) > 1:
            recurrence = f"FREQ={form.repeat.data};COUNT={form.count.data}"
        try:
            booking, skipped = services.create_booking(
                current_user,
                resource_id=resource.id,
                title=form.title.data,
                units=form.units.data or 1,
                recurrence=recurrence,
                project_code=form.project_code.data or "",
                now=clock.now(),
                skip_conflicts=form.skip_conflicts.data == "1",
                **_booking_values(form, is_dorm),
            )
        except services.BookingConflict as exc:
            conflict, status = exc, 409
        except PermissionDenied as exc:
            apply_errors(form, exc, fallback=form.title)
            status = 403
        except RateLimited as exc:
            flash_error(exc)
            status = 429
        except InvalidInput as exc:
            fields = {"start": form.date, "end": form.end_time, "recurrence": form.repeat}
            apply_errors(form, exc, fields=fields, fallback=form.title)
        else:
            if booking.status == Status.PENDING:
                flash(
                    _("Your request is pending: a manager of %(inst)s will decide.", inst=resource.institution.code),
                    "info",
                )
            else:
                flash(_("Booked: %(title)s.", title=booking.title), "success")
            if skipped:
                flash(_("%(num)d occurrence(s) could not be booked and were skipped.", num=len(skipped)), "info")
            return redirect(url_for("bookings.mine"))
    asked = form.check_in.data if is_dorm else form.date.data  # the calendar shows the week asked for
    context = detail_context(resource, asked, asked)
    context.update(resource_booking_context(resource, form))
    context["conflict"] = conflict
    return render_template("resources/detail.html", **context), status


@bp.get("/bookings")
@login_required
def mine():
    now = clock.now()
    bookings = services.list_bookings(current_user, mine=True, limit=500)
    upcoming = [
        b for b in bookings if any(o.end_at > now for o in b.occurrences) and b.status in ("pending", "confirmed")
    ]
    # What comes next first (by the next session still to come), not by when it was booked.
    upcoming.sort(key=lambda b: (min(o.start_at for o in b.occurrences if o.end_at > now), b.id))
    past = [b for b in bookings if b not in upcoming]
    feeds = [FeedOut.of(feed, token, base_url()).dump() for feed, token in calendars.list_feeds(current_user)]
    return render_template(
        "bookings/mine.html",
        upcoming=upcoming,
        past=past,
        now=now,
        cancel_form=CancelForm(),
        feeds=feeds,
        check_in_opens=services.CHECK_IN_OPENS,
        waitlist=list_waitlist(current_user),
    )


@bp.post("/bookings/<id:booking_id>/cancel")
@login_required
def cancel(booking_id: int):
    form = CancelForm()
    if form.validate_on_submit():
        occurrence = int(form.occurrence_id.data) if (form.occurrence_id.data or "").isdigit() else None
        try:
            services.cancel_booking(
                current_user,
                booking_id,
                occurrence_id=occurrence,
                following=form.following.data == "1",
                now=clock.now(),
            )
        except Conflict:
            # A second click, or another tab already cancelled it: say so instead of an error page.
            set_rollback()
            flash(_("This was already cancelled."), "info")
        else:
            flash(_("Cancelled. The time is free again."), "success")
    return redirect(
        request.referrer if (request.referrer or "").startswith(request.host_url) else url_for("bookings.mine")
    )


@bp.get("/approvals")
@login_required
def approvals():
    pending = services.list_approvals(current_user)
    clashes = {b.id: services.current_clashes(b, viewer=current_user) for b in pending}
    return render_template("bookings/approvals.html", pending=pending, form=DecisionForm(), clashes=clashes)


@bp.post("/approvals/<id:booking_id>")
@login_required
def decide(booking_id: int):
    form = DecisionForm()
    if form.validate_on_submit():
        approve = bool(form.approve.data)
        try:
            booking = services.decide_booking(
                current_user, booking_id, approve=approve, reason=form.reason.data or "", now=clock.now()
            )
        except services.BookingConflict as exc:
            set_rollback()
            reasons = ", ".join(dict.fromkeys(reason_text(c.reason) for c in exc.clashes))
            flash(_("Not approved: %(detail)s", detail=reasons), "error")
            return redirect(url_for("bookings.approvals"))
        flash(
            _("Approved: %(title)s.", title=booking.title)
            if approve
            else _("Rejected: %(title)s.", title=booking.title),
            "success",
        )
    return redirect(url_for("bookings.approvals"))


@bp.get("/statements")
@login_required
def statements_page():
    month = request.args.get("month") or clock.now().strftime("%Y-%m")
    try:
        rows = statement(current_user, month[:7])
    except InvalidInput as exc:
        flash_error(exc)
        month, rows = clock.now().strftime("%Y-%m"), statement(current_user, clock.now().strftime("%Y-%m"))
    return render_template("bookings/statements.html", rows=rows, month=month[:7])


@bp.get("/statements/<month>.csv")
@login_required
def statement_download(month: str):
    body = statement_csv(statement(current_user, month[:7]), month[:7])
    return Response(
        body,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": content_disposition("attachment", f"atu-statement-{month[:7]}.csv")},
    )


@bp.post("/bookings/<id:booking_id>/check-in")
@login_required
def check_in_page(booking_id: int):
    occurrence = request.form.get("occurrence_id", "")
    try:
        services.check_in(
            current_user, booking_id, occurrence_id=int(occurrence) if occurrence.isdigit() else None, now=clock.now()
        )
        flash(_("Checked in. Enjoy!"), "success")
    except (Conflict, InvalidInput) as exc:
        flash_error(exc)
    return redirect(url_for("bookings.mine"))


@bp.post("/resources/<id:resource_id>/waitlist")
@login_required
def join_waitlist_page(resource_id: int):
    resource = catalogue.get_resource(current_user, resource_id)
    form = BookingForm()
    is_dorm = resource.kind == Kind.DORM
    if form.validate_for(is_dorm):
        try:
            join_waitlist(
                current_user,
                resource_id=resource.id,
                title=form.title.data,
                units=form.units.data or 1,
                now=clock.now(),
                **_booking_values(form, is_dorm),
            )
            flash(_("You are on the waitlist; if the time frees up, it is held for you and you get a mail."), "success")
            return redirect(url_for("bookings.mine") + "#waitlist")
        except (InvalidInput, PermissionDenied) as exc:
            flash_error(exc)
    return redirect(url_for("resources.detail", resource_id=resource_id))


@bp.post("/bookings/<id:booking_id>/accept")
@login_required
def accept_hold_page(booking_id: int):
    try:
        accept_hold(current_user, booking_id, now=clock.now())
        flash(_("The held time is yours."), "success")
    except Conflict as exc:
        flash_error(exc)
    return redirect(url_for("bookings.mine"))


@bp.post("/waitlist/<id:entry_id>/leave")
@login_required
def leave_waitlist_page(entry_id: int):
    leave_waitlist(current_user, entry_id)
    return redirect(url_for("bookings.mine") + "#waitlist")


@bp.route("/bookings/<id:booking_id>/reschedule", methods=["GET", "POST"])
@login_required
def reschedule(booking_id: int):
    """Move a booking, or one occurrence of a series, with every rule checked again."""
    booking = services.get_booking(current_user, booking_id)
    resource = booking.resource
    is_dorm = resource.kind == Kind.DORM
    active = [o for o in booking.occurrences if o.active]
    wanted = request.values.get("occurrence_id", "")
    target = next((o for o in active if str(o.id) == wanted), active[0] if len(active) == 1 else None)
    if target is None:
        flash(_("Choose which session of the series to move."), "error")
        return redirect(url_for("bookings.mine") + f"#booking-{booking.id}")
    start, end = to_local(target.start_at, resource.timezone), to_local(target.end_at, resource.timezone)
    form = RescheduleForm(
        data={
            "occurrence_id": str(target.id),
            "date": start.date(),
            "start_time": start.time(),
            "end_time": end.time(),
            "check_in": start.date(),
            "check_out": end.date(),
        }
    )
    conflict = None
    if request.method == "POST" and form.validate_for(is_dorm):
        if is_dorm:
            values = {"start": form.check_in.data, "end": form.check_out.data}
        else:
            new_start = datetime.combine(form.date.data, form.start_time.data)
            new_end = datetime.combine(form.date.data, form.end_time.data)
            if new_end <= new_start:  # a session past midnight ends the next day
                new_end += timedelta(days=1)
            values = {"start": new_start, "end": new_end}
        try:
            services.update_booking(
                current_user,
                booking.id,
                occurrence_id=target.id if len(active) > 1 else None,
                now=clock.now(),
                **values,
            )
        except services.BookingConflict as exc:
            set_rollback()
            conflict = exc
        except InvalidInput as exc:
            first = form.check_in if is_dorm else form.date
            fields = {"start": first, "end": form.check_out if is_dorm else form.end_time, "occurrence_id": first}
            apply_errors(form, exc, fields=fields, fallback=first)
        except Conflict as exc:
            flash_error(exc)
            return redirect(url_for("bookings.mine"))
        else:
            flash(
                _("Moved: %(title)s. The new time is confirmed in your calendar feed.", title=booking.title), "success"
            )
            return redirect(url_for("bookings.mine") + f"#booking-{booking.id}")
        booking = services.get_booking(current_user, booking_id)
    status = 409 if conflict else 422 if form.errors else 200
    return (
        render_template(
            "bookings/reschedule.html",
            booking=booking,
            resource=booking.resource,
            target=target,
            form=form,
            conflict=conflict,
            series=len(active) > 1,
        ),
        status,
    )
