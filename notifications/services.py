"""Who is told what when a booking changes, queued as data in the change's transaction, and sending
the outbox by SMTP (rendering each mail as it goes: notifications/mails.py)."""

from __future__ import annotations

import smtplib
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from accounts.models import Role, User
from app.extensions import db
from app.transactions import unit_of_work
from bookings.models import Booking
from events.models import Event, EventInvitation
from notifications.mails import (
    BOOKING_KINDS,
    EVENT_KINDS,
    CannotBuild,
    booking_mail_snapshot,
    build_email,
    event_mail_snapshot,
)
from notifications.models import OutboxMessage

MAX_BACKOFF = timedelta(hours=12)


def recipients(booking: Booking) -> list[User]:
    """The requester and the managers of the owning university, each once."""
    managers = db.session.scalars(
        select(User).where(
            User.institution_id == booking.resource.institution_id, User.role == Role.MANAGER, User.active.is_(True)
        )
    ).all()
    seen, result = set(), []
    for user in [booking.requester, *managers]:
        if user.id not in seen:
            seen.add(user.id)
            result.append(user)
    return result


def _locale(user: User) -> str:
    return user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]


def queue_booking_mail(
    booking: Booking, kind: str, *, now: datetime, only_requester: bool = False
) -> list[OutboxMessage]:
    """Queue the mails for a change, in the transaction of the change itself: who, in which language,
    and the booking as it is now; the text is written when the mail is sent."""
    if kind not in BOOKING_KINDS:
        raise ValueError(kind)
    snapshot = booking_mail_snapshot(booking)
    messages = [
        OutboxMessage(
            kind=kind,
            booking_id=booking.id,
            to_email=user.email,
            locale=_locale(user),
            snapshot=snapshot,
            next_attempt_at=now,
        )
        for user in ([booking.requester] if only_requester else recipients(booking))
    ]
    db.session.add_all(messages)
    db.session.flush()
    return messages


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


def send_due(*, now: datetime, limit: int = 200) -> tuple[int, int, int]:
    """Render and send what is due. A failure to send is retried later with exponential backoff; a mail
    that cannot be built is set aside with its error. Returns (sent, failed, set aside)."""
    config = current_app.config
    sender = config.get("MAIL_SENDER", "noreply@atu-facilities.ro")
    due = db.session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.set_aside_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    sent = failed = set_aside = 0
    for message in due:
        with unit_of_work():  # each message on its own: one bad address cannot resend the others
            try:
                email = build_email(message, sender)
            except (CannotBuild, ValueError) as exc:  # ValueError: a header the email package refuses
                message.set_aside_at = now
                message.last_error = f"cannot be built: {exc}"[:500]
                set_aside += 1
                continue
            try:
                with smtplib.SMTP(
                    config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config.get("MAIL_TIMEOUT", 10)
                ) as smtp:
                    smtp.send_message(email)
            except (OSError, smtplib.SMTPException) as exc:
                message.attempts += 1
                message.last_error = str(exc)[:500]
                message.next_attempt_at = now + min(timedelta(minutes=2**message.attempts), MAX_BACKOFF)
                failed += 1
            else:
                message.attempts += 1
                message.sent_at = now
                message.last_error = ""
                sent += 1
    return sent, failed, set_aside
