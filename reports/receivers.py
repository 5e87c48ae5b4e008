"""The reports listen for refused requests (bookings/signals.booking_refused) and count them, by resource,
day and reason, in a transaction of their own: the refusal's rollback must not undo the count."""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from typing import Any

from flask import Flask

from app.database import upsert
from app.extensions import db
from app.transactions import keep
from app.zones import to_local
from bookings import signals
from bookings.statements import ZONE
from reports.models import RefusalCount
from resources.models import Resource


def register_reports(app: Flask) -> None:
    signals.booking_refused.connect(booking_refused)


def booking_refused(resource: Resource, *, clashes: list[Any], now: datetime, **_: Any) -> None:
    if clashes:
        keep(partial(count_refusal, resource.id, to_local(now, ZONE).date(), clashes[0].reason[:40]))


def count_refusal(resource_id: int, day: date, reason: str) -> None:
    """One refused request, counted by one upsert (concurrent refusals add up, none is lost)."""
    statement = upsert(RefusalCount, db.session).values(resource_id=resource_id, day=day, reason=reason, count=1)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["resource_id", "day", "reason"], set_={"count": RefusalCount.count + 1}
        )
    )
