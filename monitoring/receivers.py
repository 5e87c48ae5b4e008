"""Bookings made and refused, counted for Prometheus from the booking signals (bookings/signals.py).

A booking is counted once its transaction commits: `booking_created` is sent inside the transaction, and a joint
event's dry run or refused item rolls the booking back with its savepoint, so the receiver only notes it and the
session's `after_commit` counts the notes whose booking is still in the session (a rolled-back insert is
expunged). A refusal is counted when it is announced: the refusal itself is the event, and its transaction is
rolled back by design. One refused request counts once, by its first clash's reason, as the reports count it.

The counters are process-wide (the default registry), or files shared by gunicorn's workers in multiprocess
mode (PROMETHEUS_MULTIPROC_DIR, app/observability.py).
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from prometheus_client import Counter
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.extensions import db
from bookings import signals
from bookings.models import Booking, Status
from resources.models import Resource

BOOKINGS_CREATED = Counter(
    "atu_bookings_created", "Bookings made (committed), by status: confirmed or pending approval", ["status"]
)
BOOKINGS_REFUSED = Counter(
    "atu_bookings_refused", "Requests to book or move a booking refused (409), by the first clash's reason", ["reason"]
)

_NOTED = "monitoring.created"  # Session.info key: (booking, status) announced in the session's transaction


def register_monitoring(app: Flask) -> None:
    """Connect the receivers (once per function, however many apps are made) and start each status at 0."""
    signals.booking_created.connect(booking_created)
    signals.booking_refused.connect(booking_refused)
    if not event.contains(Session, "after_commit", count_committed):
        event.listen(Session, "after_commit", count_committed)
    for status in (Status.CONFIRMED, Status.PENDING):
        BOOKINGS_CREATED.labels(status=status.value)


def booking_created(booking: Booking, **_: Any) -> None:
    db.session.info.setdefault(_NOTED, []).append((booking, str(booking.status)))


def booking_refused(resource: Resource, *, clashes: list[Any], **_: Any) -> None:
    if clashes:
        BOOKINGS_REFUSED.labels(reason=str(clashes[0].reason)[:40]).inc()


def count_committed(session: Session) -> None:
    for booking, status in session.info.pop(_NOTED, []):
        if inspect(booking).persistent:
            BOOKINGS_CREATED.labels(status=status).inc()
