"""Mail for what the booking and event code announces (bookings/signals.py, events/signals.py): each receiver queues outbox rows
through `db.session`, so they are committed with the change or rolled back with it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask

from accounts.models import User
from bookings import signals
from bookings.models import Booking, Status
from events import signals as event_signals
from events.models import Event, EventInvitation
from notifications.services import queue_booking_mail, queue_event_mail, queue_invitation_mail


def register_notifications(app: Flask) -> None:
    """Connect the receivers. Blinker keeps one connection per function, so each app created (one per
    test) connects them again harmlessly; they are module functions, never collected."""
    signals.booking_created.connect(booking_created)
    signals.booking_confirmed.connect(booking_confirmed)
    signals.booking_rejected.connect(booking_rejected)
    signals.booking_cancelled.connect(booking_cancelled)
    signals.booking_rescheduled.connect(booking_rescheduled)
    signals.booking_released.connect(booking_released)
    signals.reminder_due.connect(reminder_due)
    signals.waitlist_offered.connect(waitlist_offered)
    event_signals.event_created.connect(event_created)
    event_signals.event_changed.connect(event_changed)
    event_signals.event_cancelled.connect(event_cancelled)
    event_signals.invitation_sent.connect(invitation_sent)


# Booking mails go to the requester and the owning university's managers, unless only the requester
# has anything to do (a reminder, a released session, a waitlist offer).


def booking_created(booking: Booking, *, now: datetime, **_: Any) -> None:
    queue_booking_mail(booking, "requested" if booking.status == Status.PENDING else "confirmed", now=now)


def booking_confirmed(booking: Booking, *, now: datetime, **_: Any) -> None:
    queue_booking_mail(booking, "approved", now=now)


def booking_rejected(booking: Booking, *, now: datetime, expired: bool = False, **_: Any) -> None:
    queue_booking_mail(booking, "expired" if expired else "rejected", now=now)


def booking_cancelled(booking: Booking, *, now: datetime, **_: Any) -> None:
    queue_booking_mail(booking, "cancelled", now=now)


def booking_rescheduled(booking: Booking, *, now: datetime, **_: Any) -> None:
    queue_booking_mail(booking, "rescheduled", now=now)


def booking_released(booking: Booking, *, now: datetime, **_: Any) -> None:
    queue_booking_mail(booking, "released", now=now, only_requester=True)


def reminder_due(booking: Booking, *, now: datetime, **_: Any) -> None:
    queue_booking_mail(booking, "reminder", now=now, only_requester=True)


def waitlist_offered(booking: Booking, *, now: datetime, **_: Any) -> None:
    queue_booking_mail(booking, "offered", now=now, only_requester=True)


# Event mails go to the other organisers; each booking's own mails tell its requester and managers.


def event_created(event: Event, *, now: datetime, actor: User, **_: Any) -> None:
    queue_event_mail(event, "event_created", [], now=now, actor=actor)


def event_changed(event: Event, *, now: datetime, actor: User, changes: list[str], **_: Any) -> None:
    queue_event_mail(event, "event_changed", changes, now=now, actor=actor)


def event_cancelled(event: Event, *, now: datetime, actor: User, **_: Any) -> None:
    queue_event_mail(event, "event_cancelled", [], now=now, actor=actor)


def invitation_sent(invitation: EventInvitation, *, now: datetime, actor: User, **_: Any) -> None:
    queue_invitation_mail(invitation, now=now, actor=actor)
