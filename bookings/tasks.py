"""Booking jobs run by the scheduler (and by `flask jobs run NAME`)."""

from __future__ import annotations

from app import clock
from app.transactions import ItemGuard
from bookings.services import expire_pending, release_no_shows, remind_upcoming
from bookings.waitlist import offer_freed_slots


def expire_pending_requests() -> str:
    guard = ItemGuard("expire-pending")
    expired = expire_pending(now=clock.now(), guard=guard)
    return f"{len(expired)} pending request(s) expired{guard.suffix()}"


def release_no_show_sessions() -> str:
    guard = ItemGuard("no-shows")
    return f"{len(release_no_shows(now=clock.now(), guard=guard))} session(s) released{guard.suffix()}"


def send_reminders() -> str:
    guard = ItemGuard("reminders")
    return f"{remind_upcoming(now=clock.now(), guard=guard)} reminder(s) queued{guard.suffix()}"


def waitlist_offers() -> str:
    guard = ItemGuard("waitlist")
    offered, lapsed = offer_freed_slots(now=clock.now(), guard=guard)
    return f"{offered} hold(s) offered, {lapsed} lapsed{guard.suffix()}"
