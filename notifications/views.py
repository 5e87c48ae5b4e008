"""The admins' mail page: parked mail with its error and a retry, and what waits or went out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app import clock
from app.errors import Conflict, NotFound
from app.forms import flash_error
from app.pagination import page_number
from notifications import services
from notifications.forms import RetryForm

bp = Blueprint("notifications", __name__)

MAIL_PER_PAGE = 25
STATE_LABELS = {"parked": _l("Parked"), "queued": _l("Queued"), "sent": _l("Sent")}


@bp.get("/admin/mail")
@login_required
def mail():
    state = request.args.get("state", "parked")
    if state not in STATE_LABELS:
        state = "parked"
    result = services.list_mail(current_user, state, page=page_number(request.args.get("page")), per_page=MAIL_PER_PAGE)
    return render_template("notifications/mail.html", result=result, state=state, states=STATE_LABELS, form=RetryForm())


@bp.post("/admin/mail/<id:message_id>/retry")
@login_required
def retry(message_id: int):
    services.require_mail_admin(current_user)
    form = RetryForm()
    if form.validate_on_submit():
        try:
            message = services.retry_mail(current_user, message_id, now=clock.now())
        except (Conflict, NotFound) as exc:
            flash_error(exc)
        else:
            flash(_("The mail to %(email)s is queued again.", email=message.to_email), "success")
    return redirect(url_for("notifications.mail", state="parked"))
