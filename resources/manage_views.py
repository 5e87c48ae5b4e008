"""Managers' pages for their resources: settings, blocked periods, imported calendars, authorisations.

The forms post to the same services as the API (`resources.services`, `calendars.imports`);
imports and authorisations reuse the existing POST endpoints and come back here.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from pydantic import ValidationError
from sqlalchemy import select, true

from accounts.models import Institution, Role
from app import clock
from app.errors import Conflict, InvalidInput, PermissionDenied
from app.extensions import db
from app.forms import apply_errors
from app.i18n import current_language
from app.pagination import page_number
from app.transactions import set_rollback
from app.validation import errors_from_pydantic, one_line
from availability.busy import bookings_during
from availability.intervals import overlaps
from bookings import schedule
from calendars.imports import list_imports
from resources import services
from resources.forms import BlockForm, ResourceForm
from resources.models import Resource
from resources.schemas import ResourceCreate, ResourceFields

bp = Blueprint("manage", __name__, url_prefix="/manage")
PER_PAGE = 50


def _require_manager_role() -> None:
    if current_user.role not in (Role.MANAGER, Role.ADMIN):
        raise PermissionDenied(_("Only managers and administrators may manage resources."))


def _institution_codes() -> list[str]:
    query = select(Institution.code).order_by(Institution.id)
    if current_user.role != Role.ADMIN:
        query = query.where(Institution.id == current_user.institution_id)
    return list(db.session.scalars(query))


def _form(resource: Resource | None, **kwargs) -> ResourceForm:
    codes = _institution_codes()
    sites = [s for s in services.list_sites() if s.institution.code in codes]
    linkable = list(
        db.session.scalars(
            select(Resource)
            .where(services.managed_clause(current_user))
            .where(Resource.institution_id == resource.institution_id if resource else true())
            .where(Resource.id != (resource.id if resource else 0))
            .order_by(Resource.institution_id, Resource.name)
        )
    )
    return ResourceForm(institutions=codes, sites=sites, linkable=linkable, lang=current_language(), **kwargs)


def _schema_errors(values: dict, creating: bool) -> list[dict[str, str]]:
    """The API's own validation of the same values, so pages and API refuse alike."""
    model = ResourceCreate if creating else ResourceFields
    try:
        model.model_validate(values)
    except ValidationError as exc:
        return errors_from_pydantic(exc)
    return []


def _show_errors(form: ResourceForm, errors: list[dict[str, str]]) -> None:
    apply_errors(form, InvalidInput(errors), fallback=form.name, name_unplaced=True)


def _save(form: ResourceForm, resource: Resource | None):
    """Create or update from a valid form; returns the resource, or None with errors on the fields."""
    values = form.values()
    errors = _schema_errors(values, creating=resource is None)
    if errors:
        _show_errors(form, errors)
        return None
    try:
        if resource is None:
            saved = services.create_resource(current_user, values)
        else:
            saved = services.update_resource(current_user, resource.id, values)
    except InvalidInput as exc:
        # Nothing is half-saved: the whole change is rolled back and the form shows why.
        _show_errors(form, exc.errors)
        return None
    return saved


@bp.get("/resources")
@login_required
def resources():
    _require_manager_role()
    q = one_line(request.args.get("q", ""))[:200]  # a search box: separators and NUL read as spaces
    page = page_number(request.args.get("page"))
    result = schedule.search_resources(current_user, q=q or None, managed=True, page=page, per_page=PER_PAGE)
    return render_template("manage/resources.html", result=result, q=q)


@bp.route("/resources/new", methods=["GET", "POST"])
@login_required
def new_resource():
    _require_manager_role()
    # Every other field starts at the schema's default (ResourceForm reads resources/schemas.py).
    form = _form(None, data={"institution": current_user.institution.code})
    if form.validate_on_submit():
        resource = _save(form, None)
        if resource is not None:
            flash(_("Resource created: %(name)s.", name=resource.display_name(current_language())), "success")
            return redirect(url_for("manage.edit_resource", resource_id=resource.id))
    status = 422 if form.errors else 200
    return render_template("manage/resource_form.html", form=form, resource=None), status


@bp.route("/resources/<id:resource_id>/edit", methods=["GET", "POST"])
@login_required
def edit_resource(resource_id: int):
    resource = services.managed_resource(current_user, resource_id)
    form = _form(resource, data=ResourceForm.data_from(resource))
    if form.validate_on_submit():
        if _save(form, resource) is not None:
            flash(_("Settings saved."), "success")
            return redirect(url_for("manage.edit_resource", resource_id=resource_id))
        resource = services.managed_resource(current_user, resource_id)
    status = 422 if form.errors else 200
    return render_template("manage/resource_form.html", form=form, resource=resource), status


# --- blocked periods ---------------------------------------------------------------------------


def _overlaps_message(resource: Resource, occurrences) -> str:
    tz = resource.timezone

    localtime = current_app.jinja_env.filters["localtime"]
    listed = "; ".join(
        f"{o.booking.title} ({o.booking.requester.email}, {localtime(o.start_at, tz)})" for o in occurrences[:10]
    )
    more = len(occurrences) - 10
    return _(
        "This block overlaps %(num)d booking(s), which are not cancelled: %(list)s%(more)s. "
        "Contact the requesters or cancel them.",
        num=len(occurrences),
        list=listed,
        more=_(" and %(num)d more", num=more) if more > 0 else "",
    )


@bp.route("/resources/<id:resource_id>/blocks", methods=["GET", "POST"])
@login_required
def blocks(resource_id: int):
    resource = services.managed_resource(current_user, resource_id)
    form = BlockForm()
    if form.validate_on_submit():
        try:
            block = services.create_block(
                current_user,
                resource.id,
                start=datetime.combine(form.start_date.data, form.start_time.data),
                end=datetime.combine(form.end_date.data, form.end_time.data),
                reason=(form.reason.data or "").strip(),
            )
            overlapping = bookings_during(resource, block.start_at, block.end_at)
        except InvalidInput as exc:
            apply_errors(form, exc, fields={"start": form.start_date, "end": form.end_date}, fallback=form.reason)
        else:
            flash(_("Blocked period added."), "success")
            if overlapping:
                flash(_overlaps_message(resource, overlapping), "error")
            return redirect(url_for("manage.blocks", resource_id=resource.id))
        resource = services.managed_resource(current_user, resource_id)
    now = clock.now()
    upcoming = services.list_blocks(current_user, resource.id, start=now)
    manual = [b for b in upcoming if b.source == "manual"]
    # One read over all the manual blocks, shared out in Python (not one query per block).
    during = (
        bookings_during(resource, min(b.start_at for b in manual), max(b.end_at for b in manual), limit=None)
        if manual
        else []
    )
    affected = {b.id: [o for o in during if overlaps(o.start_at, o.end_at, b.start_at, b.end_at)] for b in manual}
    status = 422 if form.errors else 200
    return (
        render_template("manage/blocks.html", resource=resource, form=form, blocks=upcoming, affected=affected),
        status,
    )


@bp.post("/resources/<id:resource_id>/blocks/<id:block_id>/delete")
@login_required
def delete_block(resource_id: int, block_id: int):
    try:
        services.delete_block(current_user, resource_id, block_id)
    except Conflict:
        set_rollback()
        flash(_("Imported busy time is removed with its import, not one by one."), "error")
        return redirect(url_for("manage.blocks", resource_id=resource_id))
    flash(_("Blocked period removed; the time is bookable again."), "success")
    return redirect(url_for("manage.blocks", resource_id=resource_id))


# --- imported calendars and authorisations (the forms post to the existing endpoints) ---------


@bp.get("/resources/<id:resource_id>/imports")
@login_required
def imports(resource_id: int):
    resource = services.managed_resource(current_user, resource_id)
    return render_template("manage/imports.html", resource=resource, imports=list_imports(current_user, resource.id))


@bp.get("/resources/<id:resource_id>/authorisations")
@login_required
def authorisations(resource_id: int):
    resource = services.managed_resource(current_user, resource_id)
    grants = services.list_authorizations(current_user, resource.id)
    return render_template("manage/authorisations.html", resource=resource, authorizations=grants, now=clock.now())
