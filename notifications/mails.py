"""What a queued mail says, rendered when it is sent: subject, body and `.ics` from the outbox row.

A booking mail reports the booking as it was at the change (the row's snapshot: title, status,
occurrences, reason), so a "cancelled" mail still shows what was cancelled and an "approved" mail
never carries a later cancellation; the resource's name, zone and place, the translations and the
public URL are read when sending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from accounts.models import User
from app.extensions import db
from app.validation import one_line
from app.zones import to_local
from bookings.models import Booking
from calendars.services import booking_snapshot, snapshot_ics, snapshot_method
from events.models import Event
from notifications.models import OutboxMessage
from resources.models import Resource

BOOKING_KINDS = (
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
EVENT_KINDS = ("event_created", "event_changed", "event_cancelled", "event_invitation")


class CannotBuild(Exception):
    """The row does not hold what its mail needs (it is set aside, not retried)."""


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str
    ics: str = ""
    ics_method: str = ""


# --- what a row keeps, taken at the change --------------------------------------------------------


def booking_mail_snapshot(booking: Booking) -> dict[str, Any]:
    return {"booking": booking_snapshot(booking), "reason": booking.decision_reason}


def event_mail_snapshot(event: Event, changes: list[str], actor: User) -> dict[str, Any]:
    return {"title": event.title, "changes": list(changes), "actor": actor.email}


# --- rendering, when sent -------------------------------------------------------------------------


def _subject(kind: str, title: str) -> str:
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
        "event_created": _("You are an organiser of: %(title)s", title=title),
        "event_changed": _("Event changed: %(title)s", title=title),
        "event_cancelled": _("Event cancelled: %(title)s", title=title),
        "event_invitation": _("You are invited to co-organise: %(title)s", title=title),
    }
    return subjects[kind]


def _booking_mail(kind: str, snapshot: dict[str, Any], locale: str, base_url: str) -> Mail:
    booking = snapshot["booking"]
    resource = db.session.get(Resource, booking["resource_id"])
    if resource is None:
        raise CannotBuild(f"resource {booking['resource_id']} no longer exists")
    tz = resource.timezone
    lines = [_subject(kind, booking["title"]), "", f"{resource.display_name(locale)} ({resource.institution.code})"]
    for occurrence in booking["occurrences"]:
        start = to_local(datetime.fromisoformat(occurrence["start"]), tz)
        end = to_local(datetime.fromisoformat(occurrence["end"]), tz)
        mark = "" if occurrence["active"] else " ×"
        lines.append(f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} ({tz}){mark}")
    if snapshot.get("reason"):
        lines += ["", _("Reason: %(reason)s", reason=snapshot["reason"])]
    lines += ["", _("Requested by %(who)s.", who=booking["requester"]), "", "ATU Facilities"]
    cancel = kind in ("cancelled", "released")  # sessions cancelled in a series that goes on: a CANCEL of them
    ics = snapshot_ics(booking, resource, base_url, cancel=cancel).decode()
    method = snapshot_method(booking, cancel=cancel)
    return Mail(_subject(kind, booking["title"]), "\n".join(lines), ics, method)


def _event_mail(message: OutboxMessage, snapshot: dict[str, Any], base_url: str) -> Mail:
    lines = [_subject(message.kind, snapshot["title"]), ""]
    if snapshot["changes"]:
        lines += [*snapshot["changes"], ""]
    if message.kind == "event_invitation":
        said = _("%(who)s invites you; accept or decline on the events page.", who=snapshot["actor"])
    else:
        said = _("Changed by %(who)s.", who=snapshot["actor"])
    lines += [
        said,
        f"{base_url}events/{message.event_id}",
        "",
        "ATU Facilities",
    ]
    return Mail(_subject(message.kind, snapshot["title"]), "\n".join(lines))


def compose(message: OutboxMessage) -> Mail:
    """The mail of an outbox row, in the recipient's language; CannotBuild when the row is unusable."""
    snapshot = message.snapshot or {}
    if "rendered" in snapshot:  # queued before mail was rendered when sent (migration 0013)
        return Mail(**snapshot["rendered"])
    base_url = current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000/"
    try:
        with force_locale(message.locale):
            if message.kind in BOOKING_KINDS:
                return _booking_mail(message.kind, snapshot, message.locale, base_url)
            if message.kind in EVENT_KINDS:
                return _event_mail(message, snapshot, base_url)
    except CannotBuild:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise CannotBuild(f"{type(exc).__name__}: {exc}") from exc
    raise CannotBuild(f"unknown kind {message.kind!r}")


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    mail = compose(message)
    email = EmailMessage()
    email["From"] = sender
    email["To"] = one_line(message.to_email)
    email["Subject"] = one_line(mail.subject)  # a title stored before the text policy may hold a line break
    email["Content-Language"] = message.locale
    email.set_content(mail.body)
    if mail.ics:
        email.add_attachment(
            mail.ics.encode(),
            maintype="text",
            subtype="calendar",
            filename="booking.ics",
            params={"method": mail.ics_method, "charset": "utf-8"},
        )
    return email
