"""Booking jobs run by the scheduler (and by `flask jobs run NAME`)."""

from __future__ import annotations

from app import clock
from bookings.services import expire_pending


def expire_pending_requests() -> str:
    expired = expire_pending(now=clock.now())
    return f"{len(expired)} pending request(s) expired"
