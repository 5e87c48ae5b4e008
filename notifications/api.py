"""JSON API for the outbox, for admins: mail in each state (parked mail with its error) and a retry."""

from __future__ import annotations

from flask import Blueprint, request

from accounts.auth import require_api_user
from app import clock
from app.apidoc import operation
from app.validation import parse_query
from notifications import services
from notifications.schemas import MailOut, MailPage, MailQuery

bp = Blueprint("notifications_api", __name__)


@bp.get("/mail")
@operation(MailPage, query=MailQuery, errors=(403,), auth=True)
def list_mail():
    """Queued, sent or parked mail (admins)
    Parked mail was set aside because it cannot be built or the mail server refused it for good; its
    error is in `last_error`."""
    user = require_api_user()
    query = parse_query(MailQuery, request.args)
    result = services.list_mail(user, query.state, page=query.page, per_page=query.per_page)
    items = [MailOut.model_validate(m) for m in result.items]
    return MailPage(items=items, total=result.total, page=result.page, per_page=result.per_page)


@bp.post("/mail/<id:message_id>/retry")
@operation(MailOut, errors=(403, 404, 409), auth=True)
def retry_mail(message_id: int):
    """Put a parked mail back in the queue (admins)"""
    user = require_api_user()
    return MailOut.model_validate(services.retry_mail(user, message_id, now=clock.now()))
