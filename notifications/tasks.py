"""Mail jobs run by the scheduler (and by `flask jobs run send-mail`)."""

from __future__ import annotations

from app import clock
from notifications.services import queue_reminders, send_due


def send_mail() -> str:
    sent, failed = send_due(now=clock.now())
    return f"{sent} sent, {failed} failed (will retry)"


def send_reminders() -> str:
    return f"{queue_reminders(now=clock.now())} reminder(s) queued"


def purge() -> str:
    """Housekeeping: sent mail and job claims past their use, and calendar feeds revoked long ago.

    Cancelled events leave the feeds by query once their 30-day grace ends, so no feed item is stored to purge.
    """
    from datetime import timedelta

    from sqlalchemy import delete

    from app.extensions import db
    from calendars.models import CalendarFeed
    from notifications.models import JobRun, OutboxMessage

    def deleted(statement) -> int:
        return db.session.execute(statement).rowcount  # type: ignore[attr-defined]  # a CursorResult for DELETE

    now = clock.now()
    mail = deleted(delete(OutboxMessage).where(OutboxMessage.sent_at < now - timedelta(days=90)))
    runs = deleted(delete(JobRun).where(JobRun.slot < now - timedelta(days=30)))
    feeds = deleted(delete(CalendarFeed).where(CalendarFeed.revoked_at < now - timedelta(days=90)))
    return f"purged {mail} sent mail(s), {runs} job run(s), {feeds} revoked feed(s)"
