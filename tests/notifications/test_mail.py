"""Mail through a real SMTP server on loopback (aiosmtpd): the right people, the right language,
a valid .ics; with the server down nothing is lost and mail goes out once it is back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.extensions import db
from notifications.models import OutboxMessage
from tests.notifications.conftest import Inbox, by_recipient, calendar_of


def test_request_approval_and_cancellation_reach_the_right_people(inbox, runner, api_for, make_user, make_resource):
    guest_user = make_user("UPT", email="guest@upt.example.org")
    guest_user.locale = "en"
    manager_user = make_user("UMFT", "manager", email="boss@umft.example.org")  # Romanian by default
    db.session.commit()
    aula = make_resource("UMFT", "room", approval="all", name="Aula Magna", name_en="Great Hall")
    guest, manager = api_for(guest_user), api_for(manager_user)

    request = guest.book(aula, "2026-11-20T10:00", "2026-11-20T12:00", title="Simpozion")
    assert runner.invoke(args=["jobs", "run", "send-mail"]).output.strip().endswith("2 sent, 0 failed (will retry)")
    mails = by_recipient(inbox.messages)
    assert set(mails) == {"guest@upt.example.org", "boss@umft.example.org"}
    assert mails["guest@upt.example.org"]["Subject"] == "Booking request waiting for approval: Simpozion"
    assert "Great Hall" in mails["guest@upt.example.org"].get_body().get_content()
    assert mails["boss@umft.example.org"]["Subject"].startswith("Cerere de rezervare")
    assert "Aula Magna" in mails["boss@umft.example.org"].get_body().get_content()
    event = calendar_of(mails["guest@upt.example.org"])
    assert str(event["METHOD"]) == "REQUEST" and str(event.walk("VEVENT")[0]["STATUS"]) == "TENTATIVE"

    inbox.messages.clear()
    manager.post(f"/api/v1/bookings/{request['id']}/approve", {"reason": "Bine ați venit"})
    runner.invoke(args=["jobs", "run", "send-mail"])
    approved = by_recipient(inbox.messages)["guest@upt.example.org"]
    assert (
        approved["Subject"] == "Booking approved: Simpozion" and "Bine ați venit" in approved.get_body().get_content()
    )
    assert str(calendar_of(approved).walk("VEVENT")[0]["STATUS"]) == "CONFIRMED"

    inbox.messages.clear()
    guest.delete(f"/api/v1/bookings/{request['id']}")
    runner.invoke(args=["jobs", "run", "send-mail"])
    cancelled = by_recipient(inbox.messages)
    assert set(cancelled) == {"guest@upt.example.org", "boss@umft.example.org"}
    assert str(calendar_of(cancelled["guest@upt.example.org"])["METHOD"]) == "CANCEL"
    uids = {str(calendar_of(m).walk("VEVENT")[0]["UID"]) for m in cancelled.values()}
    assert len(uids) == 1  # the same event the client already has


def test_nothing_is_lost_while_the_mail_server_is_down(app, smtp_port, runner, api_for, make_user, make_resource):
    user = make_user("UVT", email="ana@uvt.example.org")
    api_for(user).book(make_resource("UVT"), "2026-11-20T10:00", "2026-11-20T11:00", title="Laborator")
    first = runner.invoke(args=["jobs", "run", "send-mail"])
    assert "0 sent, 1 failed" in first.output
    queued = db.session.scalar(select(OutboxMessage))
    assert queued.sent_at is None and queued.attempts == 1 and queued.last_error
    assert queued.next_attempt_at == app.config["CLOCK_NOW"] + timedelta(minutes=2)

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        assert "0 sent, 0 failed" in runner.invoke(args=["jobs", "run", "send-mail"]).output  # not due yet
        app.config["CLOCK_NOW"] += timedelta(minutes=2)
        assert "1 sent, 0 failed" in runner.invoke(args=["jobs", "run", "send-mail"]).output
        assert [m["To"] for m in handler.messages] == ["ana@uvt.example.org"]
        assert "0 sent, 0 failed" in runner.invoke(args=["jobs", "run", "send-mail"]).output  # sent once
    finally:
        controller.stop()


def test_mail_is_queued_in_the_same_transaction(api_for, make_user, make_resource):
    user = make_user("UVT")
    lab = make_resource("UVT")
    api_for(user).book(lab, "2026-11-20T10:00", "2026-11-20T11:00")
    refused = api_for(user).book(lab, "2026-11-20T10:30", "2026-11-20T11:30", expect=409)
    assert refused["status"] == 409
    db.session.expire_all()
    kinds = db.session.scalars(select(OutboxMessage.kind)).all()
    assert kinds == ["confirmed"]  # the refused request wrote nothing


def test_reminder_the_day_before_once(app, inbox, runner, api_for, make_user, make_resource):
    user = make_user("UVT", email="ion@uvt.example.org")
    api_for(user).book(make_resource("UVT"), "2026-11-03T10:00", "2026-11-03T11:00", title="Măsurători")
    runner.invoke(args=["jobs", "run", "send-mail"])
    inbox.messages.clear()
    app.config["CLOCK_NOW"] = datetime(2026, 11, 2, 7, 59, tzinfo=UTC)  # 24 h and 1 min before (10:00 local = 08:00Z)
    assert "0 reminder" in runner.invoke(args=["jobs", "run", "reminders"]).output
    app.config["CLOCK_NOW"] = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    assert "1 reminder" in runner.invoke(args=["jobs", "run", "reminders"]).output
    assert "0 reminder" in runner.invoke(args=["jobs", "run", "reminders"]).output  # never twice
    runner.invoke(args=["jobs", "run", "send-mail"])
    (mail,) = inbox.messages
    assert mail["To"] == "ion@uvt.example.org" and mail["Subject"] == "Memento: Măsurători"
