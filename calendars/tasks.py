"""Calendar jobs run by the scheduler (and by `flask jobs run NAME`)."""

from __future__ import annotations

from sqlalchemy import Select, select

from app import clock
from app.extensions import db
from app.transactions import ItemGuard
from calendars.imports import refresh_import
from calendars.models import FeedImport


def import_feeds() -> str:
    """Refresh every imported feed; each is committed on its own so one bad feed cannot undo the others."""
    return _refresh("import-feeds", select(FeedImport.id).order_by(FeedImport.id))


def import_pending() -> str:
    """Refresh the imports just added or whose refresh was asked for on the page or the API."""
    return _refresh(
        "import-pending",
        select(FeedImport.id).where(FeedImport.last_status.in_(("new", "pending"))).order_by(FeedImport.id),
    )


def _refresh(job: str, query: Select[int]) -> str:
    ok = failed = 0
    guard = ItemGuard(job)
    for import_id in db.session.scalars(query).all():
        with guard.item(import_id, commit=True):
            feed = db.session.get(FeedImport, import_id)
            if feed is None:
                continue
            if refresh_import(feed, now=clock.now()):
                ok += 1
            else:
                failed += 1
    return f"{ok} imported, {failed + guard.count} failed"
