"""Who is told what when a booking changes, queued as data in the change's transaction, and sending
the outbox by SMTP (rendering each mail as it goes: notifications/mails.py)."""

from __future__ import annotations

import smtplib
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Insert,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from accounts.models import Role, User
from app.database import UTCDateTime
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.extensions import db
from app.pagination import Page
from app.transactions import unit_of_work
from bookings.models import Booking
from events.models import Event, EventInvitation
from notifications.mails import (
    BOOKING_KINDS,
    EVENT_KINDS,
    booking_mail_snapshot,
    build_email,
    event_mail_snapshot,
)
from notifications.models import OutboxMessage

MAX_BACKOFF = timedelta(hours=12)


def recipients_clause(*, only_requester: bool = False) -> ColumnElement[bool]:
    """Who is told about a change of a booking (parameters `requester_id` and `institution_id`): the
    requester and the active managers of the owning university (each once: it is one condition on
    users), or the requester alone."""
    requester = User.id == bindparam("requester_id")
    if only_requester:
        return requester
    managers = and_(
        User.institution_id == bindparam("institution_id"), User.role == Role.MANAGER, User.active.is_(True)
    )
    return or_(requester, managers)


@cache
def _queue_statement(only_requester: bool, default_locale: str) -> Insert:
    """INSERT ... SELECT of one outbox row per recipient; built once (constructing it costs more than
    running it), the booking's values bound when it runs."""
    rows = select(
        bindparam("kind", type_=String),
        bindparam("booking_id", type_=Integer),
        User.email,
        func.coalesce(User.locale, default_locale),
        bindparam("snapshot", type_=OutboxMessage.snapshot.type),
        bindparam("now", type_=UTCDateTime),
        bindparam("now", type_=UTCDateTime),
        literal(0, Integer),
        literal("", Text),
    ).where(recipients_clause(only_requester=only_requester))
    columns = ["kind", "booking_id", "to_email", "locale", "snapshot", "created_at", "next_attempt_at"]
    table = OutboxMessage.__table__  # a Core insert: with parameters, an ORM one would be a bulk insert
    return insert(table).from_select([*columns, "attempts", "last_error"], rows, include_defaults=False)


def _locale(user: User) -> str:
    return user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]


def queue_booking_mail(booking: Booking, kind: str, *, now: datetime, only_requester: bool = False) -> int:
    """Queue the mails for a change, in the transaction of the change itself: who, in which language,
    and the booking as it is now; the text is written when the mail is sent. One INSERT ... SELECT
    over the recipients, so queueing costs one round trip however many managers there are."""
    if kind not in BOOKING_KINDS:
        raise ValueError(kind)
    statement = _queue_statement(only_requester, current_app.config["BABEL_DEFAULT_LOCALE"])
    values = {
        "kind": kind,
        "booking_id": booking.id,
        "snapshot": booking_mail_snapshot(booking),
        "now": now,
        "requester_id": booking.requester_id,
        "institution_id": booking.resource.institution_id,
    }
    result = db.session.execute(statement, values)
    return result.rowcount  # type: ignore[attr-defined]  # a CursorResult for INSERT


def queue_event_mail(event: Event, kind: str, changes: list[str], *, now: datetime, actor: User) -> list[OutboxMessage]:
    """Tell the event's other organisers what changed (each booking's own mails tell the requester
    and the managers of the resource); queued in the transaction of the change."""
    if kind not in EVENT_KINDS:
        raise ValueError(kind)
    snapshot = event_mail_snapshot(event, changes, actor)
    messages = [
        OutboxMessage(
            kind=kind,
            event_id=event.id,
            to_email=user.email,
            locale=_locale(user),
            snapshot=snapshot,
            next_attempt_at=now,
        )
        for user in event.organisers()
        if user.id != actor.id and user.active
    ]
    db.session.add_all(messages)
    db.session.flush()
    return messages


def queue_invitation_mail(invitation: EventInvitation, *, now: datetime, actor: User) -> list[OutboxMessage]:
    """The invitation to co-organise, to the account with that address; an address without an active
    account gets nothing (the inviter is told the same either way)."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == invitation.email, User.active.is_(True)))
    if user is None:
        return []
    message = OutboxMessage(
        kind="event_invitation",
        event_id=invitation.event_id,
        to_email=user.email,
        locale=_locale(user),
        snapshot=event_mail_snapshot(invitation.event, [], actor),
        next_attempt_at=now,
    )
    db.session.add(message)
    db.session.flush()
    return [message]


CLAIM_FOR = timedelta(minutes=10)


def _claim(*, now: datetime, limit: int, token: str) -> list[int]:
    """Claim up to `limit` due rows for this run, committed before anything is sent. PostgreSQL skips
    the rows another sender holds locked (FOR UPDATE SKIP LOCKED); on both databases the UPDATE only
    takes rows still unclaimed (or whose claim expired), re-checked under the row lock, so two
    senders never claim the same row. Returns the ids claimed."""
    free = or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now)
    due = (
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.set_aside_at.is_(None),
        OutboxMessage.next_attempt_at <= now,
        free,
    )
    with unit_of_work():
        candidates = db.session.scalars(
            select(OutboxMessage.id)
            .where(*due)
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if candidates:
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(candidates), *due)
                .values(claimed_by=token, claimed_until=now + CLAIM_FOR)
                .execution_options(synchronize_session=False)
            )
    return list(
        db.session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.claimed_by == token).order_by(OutboxMessage.id)
        ).all()
    )


def _refused_for_good(exc: smtplib.SMTPException) -> bool:
    """A 5xx answer, or a feature the mail needs that the server lacks (SMTPUTF8): it will never take
    this mail as it is."""
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(code >= 500 for code, _msg in exc.recipients.values())
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and code >= 500


def _release(message: OutboxMessage) -> None:
    message.claimed_by = None
    message.claimed_until = None


def _park(message: OutboxMessage, now: datetime, error: str) -> None:
    message.set_aside_at = now
    message.last_error = error[:500]
    _release(message)


def _retry_later(message: OutboxMessage, now: datetime, error: str) -> None:
    message.attempts += 1
    message.last_error = error[:500]
    message.next_attempt_at = now + min(timedelta(minutes=2**message.attempts), MAX_BACKOFF)
    _release(message)


def _batches(*, now: datetime, limit: int, batch: int, token: str) -> Iterator[int]:
    """The ids this run claims, a batch at a time (so concurrent runs share the work), at most `limit`;
    a row is yielded once even if its claim could not be released."""
    seen: set[int] = set()
    while len(seen) < limit:
        fresh = [i for i in _claim(now=now, limit=min(batch, limit - len(seen)), token=token) if i not in seen]
        if not fresh:
            return
        seen.update(fresh)
        yield from fresh


def send_due(*, now: datetime, limit: int = 1000) -> tuple[int, int, int]:
    """Claim what is due, render it and send it over one SMTP connection. A transient failure (4xx,
    connection refused or lost) is retried later with exponential backoff; a mail that cannot be
    built, or that the server refuses for good (5xx), is set aside (parked) with its error, and the
    others go on. Each row is committed on its own. Returns (sent, failed, set aside)."""
    config = current_app.config
    sender = config.get("MAIL_SENDER", "noreply@atu-facilities.ro")
    token = uuid.uuid4().hex
    sent = failed = set_aside = 0
    smtp: smtplib.SMTP | None = None
    down = ""  # why the server could not be reached in this run: the rest wait for the next one
    try:
        batch = max(1, int(config.get("MAIL_BATCH", 50)))
        for message_id in _batches(now=now, limit=limit, batch=batch, token=token):
            with unit_of_work():  # each message on its own: one bad mail cannot undo or resend the others
                message = db.session.get(OutboxMessage, message_id)
                if message is None or message.claimed_by != token or message.sent_at is not None:
                    continue
                try:
                    email = build_email(message, sender)
                    email.as_bytes()  # a header or body the email package cannot serialise fails here, not mid-send
                except Exception as exc:  # whatever the row holds, it must not stop the run
                    _park(message, now, f"cannot be built: {type(exc).__name__}: {exc}")
                    set_aside += 1
                    continue
                if down:
                    _retry_later(message, now, down)
                    failed += 1
                    continue
                if smtp is None:
                    try:  # one connection per run, opened for the first mail that can be sent
                        smtp = smtplib.SMTP(
                            config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config.get("MAIL_TIMEOUT", 10)
                        )
                    except (OSError, smtplib.SMTPException) as exc:  # refused, timed out, or a greeting error
                        down = str(exc) or type(exc).__name__
                        _retry_later(message, now, down)
                        failed += 1
                        continue
                try:
                    smtp.send_message(email)
                except smtplib.SMTPServerDisconnected as exc:
                    smtp = None
                    down = str(exc) or "the mail server closed the connection"
                    _retry_later(message, now, down)
                    failed += 1
                except smtplib.SMTPException as exc:
                    if _refused_for_good(exc):
                        _park(message, now, f"refused: {exc}")
                        set_aside += 1
                    else:
                        _retry_later(message, now, str(exc))
                        failed += 1
                except OSError as exc:  # connection refused, timed out, reset
                    _close(smtp)
                    smtp = None
                    down = str(exc) or type(exc).__name__
                    _retry_later(message, now, down)
                    failed += 1
                except Exception as exc:  # anything else about this one mail: parked, the others go on
                    _close(smtp)
                    smtp = None  # the conversation may be half-way: the next mail gets a fresh connection
                    _park(message, now, f"cannot be sent: {type(exc).__name__}: {exc}")
                    set_aside += 1
                else:
                    message.attempts += 1
                    message.sent_at = now
                    message.last_error = ""
                    _release(message)
                    sent += 1
    finally:
        _close(smtp)
    return sent, failed, set_aside


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


# --- parked mail, for admins ----------------------------------------------------------------------

MAIL_STATES = ("parked", "queued", "sent")


def require_mail_admin(actor: User | None) -> None:
    if actor is None or actor.role != Role.ADMIN:
        raise PermissionDenied(_l("Only an administrator may see and retry queued mail."))


def list_mail(actor: User | None, state: str, *, page: int = 1, per_page: int = 25) -> Page[OutboxMessage]:
    """Outbox rows in one state, for admins: parked (set aside with its error, newest first), queued
    (waiting to be sent or retried, next due first) or sent (newest first)."""
    require_mail_admin(actor)
    order: list[ColumnElement[Any]]
    if state == "parked":
        where = [OutboxMessage.set_aside_at.is_not(None)]
        order = [OutboxMessage.set_aside_at.desc(), OutboxMessage.id.desc()]
    elif state == "queued":
        where = [OutboxMessage.sent_at.is_(None), OutboxMessage.set_aside_at.is_(None)]
        order = [OutboxMessage.next_attempt_at.asc(), OutboxMessage.id.asc()]
    elif state == "sent":
        where = [OutboxMessage.sent_at.is_not(None)]
        order = [OutboxMessage.sent_at.desc(), OutboxMessage.id.desc()]
    else:
        raise InvalidInput(_l("Unknown mail state."))
    total = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(*where)) or 0
    rows = db.session.scalars(
        select(OutboxMessage).where(*where).order_by(*order).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(list(rows), total, page, per_page)


def retry_mail(actor: User | None, message_id: int, *, now: datetime) -> OutboxMessage:
    """Put a parked mail back in the queue, due now, with fresh attempts (its last error is kept until
    the next attempt replaces or clears it)."""
    require_mail_admin(actor)
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(_l("No such mail."))
    if message.set_aside_at is None:
        raise Conflict(_l("Only a parked mail can be retried."))
    message.set_aside_at = None
    message.next_attempt_at = now
    message.attempts = 0
    _release(message)
    db.session.flush()
    return message
