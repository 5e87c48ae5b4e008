"""Sign-in and sign-out pages."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from accounts import budget, services
from accounts.forms import (
    LoginForm,
    LogoutForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
)
from accounts.models import AFFILIATION_LABELS, ROLE_LABELS, User
from app.errors import InvalidInput
from app.extensions import db
from app.forms import apply_errors
from app.pagination import page_number
from app.urls import is_safe_next

bp = Blueprint("accounts", __name__)


@bp.app_context_processor
def account_labels():
    return {"role_labels": ROLE_LABELS, "affiliation_labels": AFFILIATION_LABELS}


def load_user(user_id: str) -> User | None:
    """Called on every request with the id in the session or remember-me cookie ("<id>:<version>").

    A cookie made before a password change, deactivation or sign-out names an older session
    version and no longer signs anyone in; nor does an id without a version (cookies from before)."""
    id_part, _, version = user_id.partition(":")
    if not id_part.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(id_part))
    # A deactivated account loses its open sessions too, not only future sign-ins.
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("resources.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        budget.check(form.email.data)
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            budget.record_failure(form.email.data)
            form.password.errors.append(_("Wrong email or password."))
        else:
            login_user(user, remember=form.remember.data)
            flash(_("Welcome, %(name)s.", name=user.full_name or user.email), "success")
            target = form.next.data
            return redirect(target if is_safe_next(target) else url_for("resources.index"))
    status = 422 if form.errors else 200
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        # Signing out ends every copy of this session and of the remember-me cookie, not only this one.
        services.end_sessions(current_user)
        logout_user()
        flash(_("You are signed out."), "info")
    return redirect(url_for("resources.index"))


# --- administration of users -------------------------------------------------------------------

USERS_PER_PAGE = 25


def _apply_errors(form, exc: InvalidInput) -> None:
    """Unknown fields go on the first one."""
    fallback = form.email if isinstance(form, UserCreateForm) else form.full_name
    apply_errors(form, exc, fallback=fallback)


@bp.get("/admin/users")
@login_required
def users():
    services.require_admin(current_user)
    form = UserFilterForm(request.args)
    page = page_number(request.args.get("page"))
    valid = form.validate()
    result = services.list_users(
        current_user,
        q=form.q.data if valid else None,
        institution=form.institution.data or None if valid else None,
        role=form.role.data or None if valid else None,
        active={"active": True, "deactivated": False}.get(form.status.data or "") if valid else None,
        page=page,
        per_page=USERS_PER_PAGE,
    )
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("accounts/users.html", form=form, result=result, args=args), 200 if valid else 422


@bp.route("/admin/users/new", methods=["GET", "POST"])
@login_required
def new_user():
    services.require_admin(current_user)
    form = UserCreateForm(data={"active": True, "institution": current_user.institution.code})
    if form.validate_on_submit():
        try:
            user = services.admin_create_user(current_user, form.values())
        except InvalidInput as exc:
            _apply_errors(form, exc)
        else:
            flash(_("User %(email)s created.", email=user.email), "success")
            return redirect(url_for("accounts.edit_user", user_id=user.id))
    status = 422 if form.errors else 200
    return render_template("accounts/user_form.html", form=form, user=None), status


@bp.route("/admin/users/<id:user_id>", methods=["GET", "POST"])
@login_required
def edit_user(user_id: int):
    user = services.get_user(current_user, user_id)
    form = UserEditForm(
        data={
            "full_name": user.full_name,
            "institution": user.institution.code,
            "role": user.role,
            "affiliation": user.affiliation,
            "locale": user.locale or "",
            "active": user.active,
        }
    )
    if form.validate_on_submit():
        try:
            services.update_user(current_user, user.id, form.values())
        except InvalidInput as exc:
            _apply_errors(form, exc)
        else:
            if user.id == current_user.id:
                # An admin changing their own password keeps this session (under the new version).
                login_user(user)
            flash(_("Saved the changes to %(email)s.", email=user.email), "success")
            return redirect(url_for("accounts.edit_user", user_id=user.id))
    status = 422 if form.errors else 200
    return render_template("accounts/user_form.html", form=form, user=user), status
