"""Joint event pages: the list, the public or alliance programme, the organiser's builder and changes.

Every page calls the same services as /api/v1/events (events.services).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from accounts.models import Institution
from app import clock
from app.errors import Conflict, InvalidInput, PermissionDenied, RateLimited
from app.extensions import db
from app.forms import apply_errors, flash_error
from app.urls import base_url
from events import services as service
from events.forms import EventDetailsForm, EventForm, EventItemsForm, EventShiftForm
from resources.models import Kind, Resource
from resources.services import visibility_clause

bp = Blueprint("events", __name__)


def _viewer():
    return current_user if current_user.is_authenticated else None


def resource_groups(viewer) -> list[tuple[str, list[Resource]]]:
    """Every active resource the viewer may book, grouped by university, for the item rows."""
    rows = db.session.scalars(
        select(Resource)
        .join(Institution, Institution.id == Resource.institution_id)
        .where(Resource.active.is_(True), visibility_clause(viewer))
        .order_by(Institution.code, Resource.kind, Resource.name)
    ).all()
    groups: dict[str, list[Resource]] = {}
    for resource in rows:
        groups.setdefault(resource.institution.code, []).append(resource)
    return list(groups.items())


def _rows_to_items(form_items, resources: dict[int, Resource]) -> tuple[list[service.Item], list[int]]:
    """The filled rows as items (and which row each came from); a half-filled row gets field errors."""
    items, rows = [], []
    ok = True
    for index, row in enumerate(form_items):
        if row.is_empty():
            continue
        raw = row.resource_id.data
        resource = resources.get(int(raw)) if str(raw).isdigit() else None
        if resource is None:
            row.resource_id.errors = [_("Choose a resource from the list.")]
            ok = False
            continue
        if row.date.data is None:
            row.date.errors = [_("This field is required.")]
            ok = False
            continue
        if resource.kind == Kind.DORM:
            nights = row.nights.data or 1
            start: Any = row.date.data
            end: Any = row.date.data + timedelta(days=nights)
        else:
            if row.start_time.data is None or row.end_time.data is None:
                target = row.start_time if row.start_time.data is None else row.end_time
                target.errors = [_("This field is required.")]
                ok = False
                continue
            start = datetime.combine(row.date.data, row.start_time.data)
            end = datetime.combine(row.date.data, row.end_time.data)
        items.append(
            service.Item(
                resource_id=resource.id,
                start=start,
                end=end,
                units=row.units.data or 1,
                title=(row.title.data or "").strip() or None,
            )
        )
        rows.append(index)
    if not ok:
        raise InvalidInput({"items": _l("some rows are incomplete")})
    return items, rows


def _emails(text: str | None) -> list[str]:
    return [e.strip() for e in (text or "").replace(";", ",").split(",") if e.strip()]


def _availability(
    build, items: list[service.Item], rows: list[int], refused: service.EventConflict | None = None
) -> dict[int, dict[str, Any]]:
    """Per row: what a dry run says (or what the refused booking `refused` said). Rows that fail show
    their clashes; the others are tried again without them, so each row says whether it would be
    confirmed or need approval."""
    result: dict[int, dict[str, Any]] = {}
    try:
        if refused is not None:
            raise refused
        preview = build(items, dry_run=True)
    except service.EventConflict as exc:
        failed = {f.index: f for f in exc.failures if f.index is not None}
        for index, failure in failed.items():
            result[rows[index]] = {"conflict": failure.error}
        rest = [(i, item) for i, item in enumerate(items) if i not in failed]
        if rest:
            try:
                partial = build([item for _, item in rest], dry_run=True)
            except service.EventConflict:
                pass  # the dry run's savepoint is rolled back, the request goes on
            else:
                for (i, _item), entry in zip(rest, partial.items, strict=True):
                    result[rows[i]] = {"preview": entry}
        return result
    for i, entry in enumerate(preview.items):
        result[rows[i]] = {"preview": entry}
    return result


def _check_or_book(build, items, rows, *, check: bool, refused: str, done: str):
    """Check: a dry run, answered per row. Book: everything, or nothing and the per-row answers.
    Returns (availability per row, status, what was booked or None)."""
    if check:
        return _availability(build, items, rows), 200, None
    try:
        result = build(items, dry_run=False)
    except service.EventConflict as exc:
        flash(refused, "error")
        return _availability(build, items, rows, refused=exc), 409, None
    flash(done, "success")
    return {}, 200, result


def _resource_map(groups) -> dict[int, Resource]:
    return {r.id: r for _, resources in groups for r in resources}


# --- pages -------------------------------------------------------------------------------------


@bp.get("/events")
def index():
    viewer = _viewer()
    now = clock.now()
    upcoming = service.list_events(viewer, now=now)
    mine = service.list_events(viewer, now=now, mine=True) if viewer else []
    invitations = service.my_invitations(viewer) if viewer else []

    seen = service.visible_resources(viewer, [*upcoming, *mine])

    def dates(event):  # from the items the viewer may see, like the programme
        return service.event_dates(event, service.visible_items(viewer, event, seen)[0])

    return render_template("events/index.html", upcoming=upcoming, mine=mine, invitations=invitations, dates=dates)


@bp.get("/events/<id:event_id>")
def detail(event_id: int):
    viewer = _viewer()
    event = service.get_event(viewer, event_id)
    shown, hidden = service.visible_items(viewer, event)
    days, stays = service.programme(event, shown)
    organiser = service.is_organiser(viewer, event)
    public_feed = url_for("calendars.public_event_feed", event_id=event.id) if event.visibility == "public" else None
    return render_template(
        "events/detail.html",
        event=event,
        days=days,
        stays=stays if organiser else [],
        organiser=organiser,
        dates=service.event_dates(event, shown),
        hidden=sum(1 for b in hidden if b.resource.kind != Kind.DORM),  # beds are not programme
        invitations=service.invitations(event) if organiser else [],
        public_feed=public_feed,
        public_feed_full=(base_url().rstrip("/") + public_feed) if public_feed else None,
    )


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def new():
    groups = resource_groups(current_user)
    resources = _resource_map(groups)
    form = EventForm()
    if request.method == "GET":
        first = request.args.get("resource_id", "")
        if first.isdigit() and int(first) in resources:
            form.items[0].resource_id.data = first
    availability: dict[int, dict[str, Any]] = {}
    status = 200
    if request.method == "POST":
        if form.add_row.data:
            form.items.append_entry()
        elif form.validate():
            try:
                items, rows = _rows_to_items(form.items, resources)
                if not items:
                    raise InvalidInput({"items": _("Fill in at least one row.")})

                def build(chosen, dry_run):
                    return service.create_event(
                        current_user,
                        title=form.title.data,
                        description=form.description.data or "",
                        visibility=form.visibility.data,
                        organisers=_emails(form.organisers.data),
                        items=chosen,
                        now=clock.now(),
                        dry_run=dry_run,
                    )

                availability, status, event = _check_or_book(
                    build,
                    items,
                    rows,
                    check=bool(form.check.data),
                    refused=_("Nothing was booked: some items cannot be booked as asked (see below)."),
                    done=_("Event booked: every item is reserved."),
                )
                if event is not None:
                    return redirect(url_for("events.detail", event_id=event.id))
            except InvalidInput as exc:
                apply_errors(form, exc)
                status = 422
            except (PermissionDenied, RateLimited) as exc:
                flash_error(exc)
                status = exc.status
        else:
            status = 422
    return render_template(
        "events/new.html", form=form, groups=groups, resources=resources, availability=availability
    ), status


@bp.route("/events/<id:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit(event_id: int):
    event = service.organised_event(current_user, event_id)
    groups = resource_groups(current_user)
    resources = _resource_map(groups)
    details = EventDetailsForm(prefix="details")
    if request.method == "GET":
        details.title.data, details.description.data = event.title, event.description
        details.visibility.data = event.visibility
        named = [u.email.lower() for u in event.co_organisers]
        named += [i.email for i in service.invitations(event) if i.email not in named]
        details.organisers.data = ", ".join(named)
    shift = EventShiftForm(prefix="shift")
    adding = EventItemsForm(prefix="add")
    availability: dict[int, dict[str, Any]] = {}
    failures: list[service.ItemConflict] = []
    status = 200
    if request.method == "POST":
        try:
            if details.save.data and details.validate():
                service.change_event(
                    current_user,
                    event.id,
                    now=clock.now(),
                    title=details.title.data,
                    description=details.description.data or "",
                    visibility=details.visibility.data,
                    organisers=_emails(details.organisers.data)
                    if current_user.id == event.organiser_id or current_user.role == "admin"
                    else None,
                )
                flash(_("Event details saved."), "success")
                return redirect(url_for("events.detail", event_id=event.id))
            if shift.move.data and shift.validate():
                days = int(shift.days.data)
                service.change_event(current_user, event.id, now=clock.now(), shift_days=days)
                flash(_("The whole event moved by %(num)d day(s).", num=days), "success")
                return redirect(url_for("events.detail", event_id=event.id))
            if adding.add_row.data:
                adding.items.append_entry()
            elif (adding.check.data or adding.book.data) and adding.validate():
                items, rows = _rows_to_items(adding.items, resources)
                if not items:
                    raise InvalidInput({"items": _("Fill in at least one row.")})

                def build(chosen, dry_run):
                    return service.change_event(current_user, event.id, now=clock.now(), add=chosen, dry_run=dry_run)

                availability, status, changed = _check_or_book(
                    build,
                    items,
                    rows,
                    check=bool(adding.check.data),
                    refused=_("Nothing was added: some items cannot be booked as asked (see below)."),
                    done=_("Items added to the event."),
                )
                if changed is not None:
                    return redirect(url_for("events.detail", event_id=event.id))
            elif request.method == "POST" and status == 200 and not adding.add_row.data:
                status = 422
        except service.EventConflict as exc:
            failures = exc.failures
            flash(_("Nothing changed: some items cannot move there (see below)."), "error")
            status = 409
        except InvalidInput as exc:
            flash_error(exc)
            status = 422
        except (Conflict, RateLimited) as exc:
            flash_error(exc)
            status = exc.status
        event = service.get_event(current_user, event_id)
    return render_template(
        "events/edit.html",
        event=event,
        details=details,
        shift=shift,
        adding=adding,
        groups=groups,
        resources=resources,
        availability=availability,
        failures={f.booking_id: f for f in failures},
        dates=service.event_dates(event),
    ), status


@bp.post("/events/<id:event_id>/items/<id:booking_id>/remove")
@login_required
def remove_item(event_id: int, booking_id: int):
    try:
        service.change_event(current_user, event_id, now=clock.now(), remove=[booking_id])
    except (InvalidInput, Conflict) as exc:
        flash_error(exc)
    else:
        flash(_("Item removed; its place is free again."), "success")
    return redirect(url_for("events.edit", event_id=event_id))


@bp.post("/events/<id:event_id>/cancel")
@login_required
def cancel(event_id: int):
    try:
        service.cancel_event(current_user, event_id, now=clock.now())
    except Conflict as exc:
        flash_error(exc)
    else:
        flash(_("Event cancelled: every item is released."), "success")
    return redirect(url_for("events.detail", event_id=event_id))


@bp.post("/events/<id:event_id>/accept")
@login_required
def accept(event_id: int):
    try:
        service.accept_invitation(current_user, event_id, now=clock.now())
    except Conflict as exc:
        flash_error(exc)
        return redirect(url_for("events.index"))
    flash(_("You are now a co-organiser of this event."), "success")
    return redirect(url_for("events.detail", event_id=event_id))


@bp.post("/events/<id:event_id>/decline")
@login_required
def decline(event_id: int):
    try:
        service.decline_invitation(current_user, event_id, now=clock.now())
    except Conflict as exc:
        flash_error(exc)
    else:
        flash(_("Invitation declined."), "success")
    return redirect(url_for("events.index"))
