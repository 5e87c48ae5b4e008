"""Mail jobs run by the scheduler (and by `flask jobs run send-mail`)."""

from __future__ import annotations

from app import clock
from notifications.services import queue_reminders, send_due


def send_mail() -> str:
    sent, failed = send_due(now=clock.now())
    return f"{sent} sent, {failed} failed (will retry)"


def send_reminders() -> str:
    return f"{queue_reminders(now=clock.now())} reminder(s) queued"
