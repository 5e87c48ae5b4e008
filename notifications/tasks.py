"""Mail jobs run by the scheduler (and by `flask jobs run send-mail`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, or_

from accounts import budget
from app import clock
from app.extensions import db
from app.transactions import ItemGuard
from calendars.models import CalendarFeed
from calendars.services import purge_renders
from notifications.models import JobRun, OutboxMessage
from notifications.services import send_due


def send_mail() -> str:
    sent, failed, set_aside = send_due(now=clock.now())
    summary = f"{sent} sent, {failed} failed (will retry)"
    return f"{summary}, {set_aside} set aside (cannot be built or refused)" if set_aside else summary


def purge() -> str:
    """Housekeeping: sent (or set aside) mail and job claims past their use, and calendar feeds revoked long ago.

    Cancelled events leave the feeds by query once their 30-day grace ends, so no feed item is stored to purge.
    """

    def deleted(statement) -> int:
        return db.session.execute(statement).rowcount  # type: ignore[attr-defined]  # a CursorResult for DELETE

    now = clock.now()
    old = now - timedelta(days=90)
    counts = {"mail": 0, "runs": 0, "feeds": 0, "counters": 0, "renders": 0}
    guard = ItemGuard("purge")  # each kind on its own: one that fails leaves the others purged
    with guard.item("mail"):
        counts["mail"] = deleted(
            delete(OutboxMessage).where(or_(OutboxMessage.sent_at < old, OutboxMessage.set_aside_at < old))
        )
    with guard.item("job-runs"):
        counts["runs"] = deleted(delete(JobRun).where(JobRun.slot < now - timedelta(days=30)))
    with guard.item("feeds"):
        counts["feeds"] = deleted(delete(CalendarFeed).where(CalendarFeed.revoked_at < now - timedelta(days=90)))
    with guard.item("usage-counters"):
        counts["counters"] = budget.purge_counters(now)
    with guard.item("feed-renders"):
        counts["renders"] = purge_renders(now)
    return (
        f"purged {counts['mail']} sent mail(s), {counts['runs']} job run(s), {counts['feeds']} revoked feed(s), "
        f"{counts['counters']} usage count(s), {counts['renders']} feed render(s)" + guard.suffix()
    )
