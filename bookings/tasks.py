"""Booking jobs run by the scheduler (and by `flask jobs run NAME`)."""

from __future__ import annotations

from app import clock
from bookings.services import expire_pending, release_no_shows, remind_upcoming
from bookings.waitlist import offer_freed_slots


def expire_pending_requests() -> str:
    expired = expire_pending(now=clock.now())
    return f"{len(expired)} pending request(s) expired"


def release_no_show_sessions() -> str:
    return f"{len(release_no_shows(now=clock.now()))} session(s) released"


def send_reminders() -> str:
    return f"{remind_upcoming(now=clock.now())} reminder(s) queued"


def waitlist_offers() -> str:
    offered, lapsed = offer_freed_slots(now=clock.now())
    return f"{offered} hold(s) offered, {lapsed} lapsed"
