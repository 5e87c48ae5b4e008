"""Who is told what when a booking changes, in their language, and sending the outbox by SMTP."""

from __future__ import annotations

import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from accounts.models import Role, User
from app.extensions import db
from bookings.models import Booking
from calendars.services import booking_ics
from calendars.zones import to_local
from notifications.models import OutboxMessage

MAX_BACKOFF = timedelta(hours=12)
EVENTS = (
    "requested",
    "confirmed",
    "approved",
    "rejected",
    "expired",
    "cancelled",
    "rescheduled",
    "reminder",
    "released",
    "offered",
)
REMINDER_AHEAD = timedelta(hours=24)


def _subject(event: str, title: str) -> str:
    subjects = {
        "requested": _("Booking request waiting for approval: %(title)s", title=title),
        "confirmed": _("Booking confirmed: %(title)s", title=title),
        "approved": _("Booking approved: %(title)s", title=title),
        "rejected": _("Booking rejected: %(title)s", title=title),
        "expired": _("Booking request expired: %(title)s", title=title),
        "cancelled": _("Booking cancelled: %(title)s", title=title),
        "rescheduled": _("Booking changed: %(title)s", title=title),
        "reminder": _("Reminder: %(title)s", title=title),
        "released": _("Released, nobody checked in: %(title)s", title=title),
        "offered": _("A slot you waited for is free, held for you for two hours: %(title)s", title=title),
    }
    return subjects[event]


def _body(booking: Booking, event: str, locale: str) -> str:
    resource = booking.resource
    name = resource.display_name(locale)
    tz = resource.timezone
    lines = [_subject(event, booking.title), "", f"{name} ({resource.institution.code})"]
    for occurrence in booking.occurrences:
        start, end = to_local(occurrence.start_at, tz), to_local(occurrence.end_at, tz)
        mark = "" if occurrence.active else " ×"
        lines.append(f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} ({tz}){mark}")
    if booking.decision_reason:
        lines += ["", _("Reason: %(reason)s", reason=booking.decision_reason)]
    lines += ["", _("Requested by %(who)s.", who=booking.requester.email), "", "ATU Facilities"]
    return "\n".join(lines)


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


def notify_booking(booking: Booking, event: str, *, now: datetime, only_requester: bool = False) -> list[OutboxMessage]:
    """Queue the mails for a change, in the transaction of the change itself."""
    if event not in EVENTS:
        raise ValueError(event)
    base = current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000/"
    ics = booking_ics(booking, base).decode()
    method = "CANCEL" if booking.status in ("cancelled", "rejected") else "REQUEST"
    messages = []
    for user in [booking.requester] if only_requester else recipients(booking):
        locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
        with force_locale(locale):
            message = OutboxMessage(
                kind=event,
                booking_id=booking.id,
                to_email=user.email,
                locale=locale,
                subject=_subject(event, booking.title),
                body=_body(booking, event, locale),
                ics=ics,
                ics_method=method,
                next_attempt_at=now,
            )
        db.session.add(message)
        messages.append(message)
    db.session.flush()
    return messages


EVENT_KINDS = ("event_created", "event_changed", "event_cancelled")


def _event_subject(kind: str, title: str) -> str:
    subjects = {
        "event_created": _("You are an organiser of: %(title)s", title=title),
        "event_changed": _("Event changed: %(title)s", title=title),
        "event_cancelled": _("Event cancelled: %(title)s", title=title),
    }
    return subjects[kind]


def notify_event(event, kind: str, changes: list[str], *, now: datetime, actor: User) -> list[OutboxMessage]:
    """Tell the event's other organisers what changed (each booking's own mails tell the requester
    and the managers of the resource); queued in the transaction of the change."""
    if kind not in EVENT_KINDS:
        raise ValueError(kind)
    base = current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000/"
    messages = []
    for user in event.organisers():
        if user.id == actor.id or not user.active:
            continue
        locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
        with force_locale(locale):
            lines = [_event_subject(kind, event.title), ""]
            if changes:
                lines += [*changes, ""]
            lines += [
                _("Changed by %(who)s.", who=actor.email),
                f"{base}events/{event.id}",
                "",
                "ATU Facilities",
            ]
            message = OutboxMessage(
                kind=kind,
                to_email=user.email,
                locale=locale,
                subject=_event_subject(kind, event.title),
                body="\n".join(lines),
                next_attempt_at=now,
            )
        db.session.add(message)
        messages.append(message)
    db.session.flush()
    return messages


def send_due(*, now: datetime, limit: int = 200) -> tuple[int, int]:
    """Send what is due; a failure is retried later with exponential backoff. Returns (sent, failed)."""
    config = current_app.config
    due = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    sent = failed = 0
    for message in due:
        try:
            with smtplib.SMTP(
                config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config.get("MAIL_TIMEOUT", 10)
            ) as smtp:
                smtp.send_message(_email(message, config.get("MAIL_SENDER", "noreply@atu-facilities.ro")))
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
        db.session.commit()  # each message on its own: one bad address cannot resend the others
    return sent, failed


def _email(message: OutboxMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_email
    email["Subject"] = message.subject
    email["Content-Language"] = message.locale
    email.set_content(message.body)
    if message.ics:
        email.add_attachment(
            message.ics.encode(),
            maintype="text",
            subtype="calendar",
            filename="booking.ics",
            params={"method": message.ics_method},
        )
    return email


def queue_reminders(*, now: datetime) -> int:
    """One reminder per confirmed occurrence starting within the next 24 hours (never twice)."""
    from bookings.models import Occurrence

    due = db.session.scalars(
        select(Occurrence)
        .join(Booking, Booking.id == Occurrence.booking_id)
        .where(
            Occurrence.active.is_(True),
            Occurrence.reminded_at.is_(None),
            Occurrence.start_at > now,
            Occurrence.start_at <= now + REMINDER_AHEAD,
            Booking.status == "confirmed",
        )
        .order_by(Occurrence.start_at)
    ).all()
    for occurrence in due:
        occurrence.reminded_at = now
        notify_booking(occurrence.booking, "reminder", now=now, only_requester=True)
    db.session.flush()
    return len(due)
