"""Calendar jobs run by the scheduler (and by `flask jobs run NAME`)."""

from __future__ import annotations

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.transactions import ItemGuard
from calendars.imports import refresh_import
from calendars.models import FeedImport


def import_feeds() -> str:
    """Refresh every imported feed; each is committed on its own so one bad feed cannot undo the others."""
    ok = failed = 0
    guard = ItemGuard("import-feeds")
    for import_id in db.session.scalars(select(FeedImport.id).order_by(FeedImport.id)).all():
        with guard.item(import_id, commit=True):
            feed = db.session.get(FeedImport, import_id)
            if feed is None:
                continue
            if refresh_import(feed, now=clock.now()):
                ok += 1
            else:
                failed += 1
    return f"{ok} imported, {failed + guard.count} failed"
