"""Jobs item by item: one bad item (any exception) is undone alone, logged with the job and its id, and
counted in the summary; the job goes on with the others."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete as sql_delete
from sqlalchemy import select

from app.extensions import db
from bookings import signals
from bookings.models import Booking, Occurrence
from calendars import tasks as calendar_tasks
from calendars.models import FeedImport
from notifications import tasks as mail_tasks
from notifications.models import JobRun, OutboxMessage

D = "2026-11-03"


def raising_for(booking_id: int):
    def receiver(sender, **kwargs):
        if sender.id == booking_id:
            raise RuntimeError(f"poisoned {booking_id}")

    return receiver


def kinds() -> list[tuple[str, int | None]]:
    return sorted(db.session.execute(select(OutboxMessage.kind, OutboxMessage.booking_id)).all())


def test_reminders_go_out_for_the_others_when_one_fails(app, runner, api_for, make_user, make_resource, caplog):
    api = api_for(make_user("UVT"))
    lab = make_resource("UVT")
    bad = api.book(lab, f"{D}T10:00", f"{D}T11:00")
    good = api.book(lab, f"{D}T12:00", f"{D}T13:00")
    db.session.execute(sql_delete(OutboxMessage))
    db.session.commit()
    app.config["CLOCK_NOW"] = datetime(2026, 11, 2, 11, 0, tzinfo=UTC)
    receiver = raising_for(bad["id"])
    with signals.reminder_due.connected_to(receiver), caplog.at_level(logging.ERROR, "app.jobs"):
        result = runner.invoke(args=["jobs", "run", "reminders"])
    assert result.exception is None and "1 reminder(s) queued, 1 failed" in result.output
    (occurrence_id,) = db.session.scalars(select(Occurrence.id).where(Occurrence.booking_id == bad["id"])).all()
    assert f"job reminders: item {occurrence_id} failed" in caplog.text and "poisoned" in caplog.text
    assert [tuple(row) for row in kinds()] == [("reminder", good["id"])]
    assert "1 reminder(s) queued" in runner.invoke(args=["jobs", "run", "reminders"]).output  # retried next run


def test_expire_pending_goes_on_past_one_failure(app, runner, api_for, make_user, make_resource):
    api = api_for(make_user("UVT"))
    lab = make_resource("UVT", approval="all")
    bad = api.book(lab, f"{D}T10:00", f"{D}T11:00")
    good = api.book(lab, f"{D}T12:00", f"{D}T13:00")
    app.config["CLOCK_NOW"] += timedelta(days=4)
    with signals.booking_rejected.connected_to(raising_for(bad["id"])):
        result = runner.invoke(args=["jobs", "run", "expire-pending"])
    assert result.exception is None and "1 pending request(s) expired, 1 failed" in result.output
    db.session.expire_all()
    assert db.session.get(Booking, bad["id"]).status == "pending"
    assert db.session.get(Booking, good["id"]).status == "rejected"


def test_no_shows_go_on_past_one_failure(app, runner, api_for, make_user, make_resource):
    court = make_resource("UVT", "sports", check_in_required=True, no_show_minutes=15, units=2)
    bad = api_for(make_user("UVT")).book(court, "2026-11-10T18:00", "2026-11-10T19:00")
    good = api_for(make_user("UVT")).book(court, "2026-11-10T18:00", "2026-11-10T19:00")
    app.config["CLOCK_NOW"] = datetime(2026, 11, 10, 16, 15, tzinfo=UTC)
    with signals.booking_released.connected_to(raising_for(bad["id"])):
        result = runner.invoke(args=["jobs", "run", "no-shows"])
    assert result.exception is None and "1 session(s) released, 1 failed" in result.output
    db.session.expire_all()
    assert db.session.get(Booking, bad["id"]).status == "confirmed"
    assert db.session.get(Booking, good["id"]).status == "cancelled"


def test_waitlist_offers_go_on_past_one_failure(app, runner, api_for, make_user, make_resource):
    slot = {"start": "2026-11-10T18:00", "end": "2026-11-10T19:00"}
    courts = [make_resource("UVT", "sports") for _ in range(2)]
    holder = api_for(make_user("UVT"))
    taken = [holder.book(court, **slot) for court in courts]
    waiters = [api_for(make_user("UVT")) for _ in courts]
    for waiter, court in zip(waiters, courts, strict=True):
        waiter.post("/api/v1/waitlist", {"resource_id": court.id, "title": "Tenis", **slot})
    for booking in taken:
        holder.delete(f"/api/v1/bookings/{booking['id']}")
    failures = []

    def first_offer_breaks(sender, **kwargs):
        if not failures:
            failures.append(sender.id)
            raise RuntimeError("poisoned offer")

    with signals.waitlist_offered.connected_to(first_offer_breaks):
        result = runner.invoke(args=["jobs", "run", "waitlist"])
    assert result.exception is None and "1 hold(s) offered, 0 lapsed, 1 failed" in result.output
    statuses = sorted(w.get("/api/v1/waitlist").get_json()["items"][0]["status"] for w in waiters)
    assert statuses == ["offered", "waiting"]  # the failed one waits for the next run
    assert "1 hold(s) offered" in runner.invoke(args=["jobs", "run", "waitlist"]).output


def test_import_feeds_go_on_past_one_failure(app, runner, make_resource, monkeypatch):
    lab = make_resource("UVT")
    feeds = [FeedImport(resource_id=lab.id, url=f"https://example.org/{i}.ics") for i in range(2)]
    db.session.add_all(feeds)
    db.session.commit()
    bad_id = feeds[0].id

    def refresh(feed, *, now):
        if feed.id == bad_id:
            raise RuntimeError("poisoned feed")
        feed.last_status = "ok"
        return True

    monkeypatch.setattr(calendar_tasks, "refresh_import", refresh)
    result = runner.invoke(args=["jobs", "run", "import-feeds"])
    assert result.exception is None and "1 imported, 1 failed" in result.output
    db.session.expire_all()
    assert [f.last_status for f in feeds] == ["new", "ok"]


def test_purge_goes_on_past_one_failure(app, runner, monkeypatch):
    now = app.config["CLOCK_NOW"]
    db.session.add_all(
        [
            OutboxMessage(kind="x", to_email="a@b.example.org", sent_at=now - timedelta(days=91)),
            JobRun(job="send-mail", slot=now - timedelta(days=31), holder="old"),
        ]
    )
    db.session.commit()

    def delete(table):
        if table is JobRun:
            raise RuntimeError("poisoned purge")
        return sql_delete(table)

    monkeypatch.setattr(mail_tasks, "delete", delete)
    result = runner.invoke(args=["jobs", "run", "purge"])
    assert (
        result.exception is None
        and "purged 1 sent mail(s), 0 job run(s), 0 revoked feed(s), 0 usage count(s), 0 feed render(s), 1 failed"
        in result.output
    )
    assert db.session.scalar(select(OutboxMessage.id)) is None and db.session.scalar(select(JobRun.id)) is not None
