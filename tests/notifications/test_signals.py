"""Bookings announce each change once by a signal; notifications subscribe and queue mail as data in the
change's own transaction; the send-mail job renders it, showing the booking as it was at the change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from bookings import signals
from bookings.models import Booking
from events.models import EventInvitation
from notifications.models import OutboxMessage
from tests.notifications.conftest import by_recipient, calendar_of

D = "2026-11-10"  # a Tuesday


def kinds(booking_id: int) -> list[str]:
    db.session.expire_all()
    return db.session.scalars(
        select(OutboxMessage.kind).where(OutboxMessage.booking_id == booking_id).order_by(OutboxMessage.id)
    ).all()


def outbox_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(OutboxMessage.id)))


def test_each_booking_change_is_announced_once_with_its_kind(app, announced, runner, api_for, make_user, make_resource):
    guest_user, manager_user = make_user("UPT"), make_user("UMFT", "manager")
    aula = make_resource("UMFT", "room", approval="all")
    guest, manager = api_for(guest_user), api_for(manager_user)

    request = guest.book(aula, f"{D}T10:00", f"{D}T12:00")
    assert manager.post(f"/api/v1/bookings/{request['id']}/approve").status_code == 200
    moved = guest.patch(f"/api/v1/bookings/{request['id']}", {"start": f"{D}T13:00", "end": f"{D}T15:00"})
    assert moved.status_code == 200
    assert guest.patch(f"/api/v1/bookings/{request['id']}", {"title": "Alt titlu"}).status_code == 200  # no signal
    assert guest.delete(f"/api/v1/bookings/{request['id']}").status_code == 200
    refused = guest.book(aula, f"{D}T16:00", f"{D}T17:00")
    assert manager.post(f"/api/v1/bookings/{refused['id']}/reject", {"reason": "Ocupat"}).status_code == 200
    forgotten = guest.book(aula, f"{D}T18:00", f"{D}T19:00")
    app.config["CLOCK_NOW"] += timedelta(days=4)  # past the 72-hour deadline
    assert "1 pending request(s) expired" in runner.invoke(args=["jobs", "run", "expire-pending"]).output

    assert [(name, sender) for name, sender, _ in announced] == [
        ("booking-created", request["id"]),
        ("booking-confirmed", request["id"]),
        ("booking-rescheduled", request["id"]),
        ("booking-cancelled", request["id"]),
        ("booking-created", refused["id"]),
        ("booking-rejected", refused["id"]),
        ("booking-created", forgotten["id"]),
        ("booking-rejected", forgotten["id"]),
    ]
    by_step = [kwargs for _, _, kwargs in announced]
    assert by_step[0]["actor"] == guest_user.id and by_step[1]["actor"] == manager_user.id
    assert by_step[2]["change"]["to"][0].startswith(f"{D}T11:00")  # 13:00 in Timișoara, in UTC
    assert by_step[3]["occurrences"] == [request["occurrence_id"]]
    assert not by_step[5].get("expired") and by_step[7]["expired"] and by_step[7]["actor"] is None
    assert all(kwargs["now"] is not None for kwargs in by_step)
    # Each announcement became one mail per person told (the requester and the UMFT manager).
    assert kinds(request["id"]) == [
        kind for kind in ("requested", "approved", "rescheduled", "cancelled") for _ in "ab"
    ]
    assert kinds(refused["id"]) == ["requested"] * 2 + ["rejected"] * 2
    assert kinds(forgotten["id"]) == ["requested"] * 2 + ["expired"] * 2


def test_event_changes_are_announced_for_the_event_and_each_item(announced, api_for, make_user, make_resource):
    lab, co = make_resource("UVT"), make_user("UPT")
    organiser = api_for(make_user("UVT"))
    created = organiser.post(
        "/api/v1/events",
        {
            "title": "Simpozion",
            "organisers": [co.email],
            "items": [{"resource_id": lab.id, "start": f"{D}T09:00", "end": f"{D}T10:00"}],
        },
    )
    assert created.status_code == 201, created.get_json()
    event = created.get_json()
    item = event["items"][0]["id"]
    invitation = db.session.scalar(select(EventInvitation.id).where(EventInvitation.event_id == event["id"]))
    assert organiser.patch(f"/api/v1/events/{event['id']}", {"shift_days": 1}).status_code == 200
    assert organiser.delete(f"/api/v1/events/{event['id']}").status_code == 200

    assert [(name, sender) for name, sender, _ in announced] == [
        ("booking-created", item),
        ("event-created", event["id"]),
        ("event-invitation", invitation),
        ("booking-rescheduled", item),
        ("event-changed", event["id"]),
        ("booking-cancelled", item),
        ("event-cancelled", event["id"]),
    ]
    assert announced[3][2]["change"] == {"days": 1} and announced[4][2]["changes"] == ["→ +1"]


def test_a_rolled_back_change_leaves_no_outbox_row(announced, api_for, make_user, make_resource):
    free, taken = make_resource("UVT"), make_resource("UVT")
    organiser = api_for(make_user("UVT"))
    organiser.book(taken, f"{D}T09:00", f"{D}T10:00")
    before = outbox_count()
    announced.clear()

    # The first item is booked (and its mail queued) before the second is refused: all of it is undone.
    items = [
        {"resource_id": free.id, "start": f"{D}T09:00", "end": f"{D}T10:00"},
        {"resource_id": taken.id, "start": f"{D}T09:00", "end": f"{D}T10:00"},
    ]
    assert organiser.post("/api/v1/events", {"title": "Simpozion", "items": items}).status_code == 409
    # A dry run books everything, announces it, and rolls it back.
    preview = organiser.post("/api/v1/events", {"title": "Simpozion", "items": items[:1], "dry_run": True})
    assert preview.status_code == 200, preview.get_json()

    # The receivers ran: the first item, the second's refusal (counted for the reports), the dry run.
    assert [name for name, _, _ in announced] == ["booking-created", "booking-refused", "booking-created"]
    assert outbox_count() == before
    assert db.session.scalar(select(func.count(Booking.id))) == 1


# Reads what really stayed after a failed request and a failed job: needs real commits and rollbacks.
@pytest.mark.committed
def test_a_receiver_that_raises_fails_the_change_and_queues_nothing(
    client, app, runner, api_for, make_user, make_resource
):
    """Receivers run in the change's transaction: a failing one is not swallowed (that would lose mail
    silently); the request answers 500 and rolls back, so neither the booking nor any mail is kept."""
    user = make_user("UVT")
    lab = make_resource("UVT", approval="all")
    api = api_for(user)
    pending = api.book(lab, f"{D}T09:00", f"{D}T10:00")
    before = outbox_count()

    def broken(sender, **kwargs):
        raise RuntimeError("subscriber broke")

    with signals.booking_created.connected_to(broken):  # connected after the mail receiver, so it runs second
        app.config["PROPAGATE_EXCEPTIONS"] = False
        response = api.book(lab, f"{D}T11:00", f"{D}T12:00", expect=None)
    assert response["status"] == 500
    assert outbox_count() == before
    assert db.session.scalar(select(func.count(Booking.id))) == 1

    # A job likewise, item by item: that request does not expire and nothing is queued for it (the
    # failure is logged and counted, the job goes on); the next run tries again.
    app.config["CLOCK_NOW"] += timedelta(days=4)
    with signals.booking_rejected.connected_to(broken):
        result = runner.invoke(args=["jobs", "run", "expire-pending"])
    assert result.exception is None and "0 pending request(s) expired, 1 failed" in result.output
    db.session.expire_all()
    assert db.session.get(Booking, pending["id"]).status == "pending" and outbox_count() == before
    assert "1 pending request(s) expired" in runner.invoke(args=["jobs", "run", "expire-pending"]).output
    assert outbox_count() == before + 1


def test_mail_shows_the_booking_as_at_the_change_and_is_rendered_when_sent(
    inbox, runner, api_for, make_user, make_resource
):
    guest_user = make_user("UPT", email="guest@upt.example.org")
    guest_user.locale = "en"
    manager_user = make_user("UMFT", "manager", email="boss@umft.example.org")
    db.session.commit()
    aula = make_resource("UMFT", "room", approval="all", name="Aula", name_en="Hall")
    guest, manager = api_for(guest_user), api_for(manager_user)

    request = guest.book(aula, f"{D}T10:00", f"{D}T12:00", title="Simpozion")
    assert manager.post(f"/api/v1/bookings/{request['id']}/approve").status_code == 200
    assert guest.patch(f"/api/v1/bookings/{request['id']}", {"title": "Conferință"}).status_code == 200
    assert guest.delete(f"/api/v1/bookings/{request['id']}").status_code == 200
    aula.name_en = "Great Hall"  # the catalogue changes after the mail was queued
    db.session.commit()
    assert "6 sent, 0 failed" in runner.invoke(args=["jobs", "run", "send-mail"]).output

    mails = {(m["To"], m["Subject"]): m for m in inbox.messages if m["To"] == "guest@upt.example.org"}
    approved = mails[("guest@upt.example.org", "Booking approved: Simpozion")]  # the title when approved
    assert str(calendar_of(approved)["METHOD"]) == "REQUEST"  # not the later cancellation
    assert str(calendar_of(approved).walk("VEVENT")[0]["SUMMARY"]) == "Simpozion"
    cancelled = mails[("guest@upt.example.org", "Booking cancelled: Conferință")]
    assert str(calendar_of(cancelled)["METHOD"]) == "CANCEL"
    assert str(calendar_of(cancelled).walk("VEVENT")[0]["SUMMARY"]) == "Conferință"
    # The resource is read when the mail is sent.
    assert all("Great Hall (UMFT)" in m.get_body().get_content() for m in mails.values())
    assert set(by_recipient(inbox.messages)) == {"guest@upt.example.org", "boss@umft.example.org"}


def test_a_mail_that_cannot_be_built_is_set_aside_and_the_others_go(
    app, inbox, runner, api_for, make_user, make_resource
):
    user = make_user("UVT", email="ana@uvt.example.org")
    api_for(user).book(make_resource("UVT"), f"{D}T10:00", f"{D}T11:00")
    now = app.config["CLOCK_NOW"]
    broken = OutboxMessage(
        kind="confirmed", to_email="x@uvt.example.org", snapshot={"booking": {"title": "?"}}, next_attempt_at=now
    )
    unknown = OutboxMessage(kind="no-such-kind", to_email="y@uvt.example.org", snapshot={}, next_attempt_at=now)
    db.session.add_all([broken, unknown])
    db.session.commit()

    output = runner.invoke(args=["jobs", "run", "send-mail"]).output
    assert "1 sent, 0 failed (will retry), 2 set aside (cannot be built or refused)" in output
    assert [m["To"] for m in inbox.messages] == ["ana@uvt.example.org"]
    db.session.expire_all()
    assert broken.set_aside_at == now and broken.sent_at is None
    assert "cannot be built" in broken.last_error and "no-such-kind" in unknown.last_error
    app.config["CLOCK_NOW"] += timedelta(hours=1)
    assert "0 sent, 0 failed" in runner.invoke(args=["jobs", "run", "send-mail"]).output  # not tried again


def test_mail_queued_before_rendering_moved_is_sent_as_written(app, inbox, runner):
    """Migration 0013 keeps the text of mail queued by the old code under snapshot["rendered"]."""
    ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//old//EN\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n"
    rendered = {"subject": "Rezervare anulată: Laborator", "body": "Textul vechi", "ics": ics, "ics_method": "CANCEL"}
    db.session.add(
        OutboxMessage(
            kind="cancelled",
            to_email="old@uvt.example.org",
            snapshot={"rendered": rendered},
            next_attempt_at=app.config["CLOCK_NOW"],
        )
    )
    db.session.commit()
    assert "1 sent, 0 failed" in runner.invoke(args=["jobs", "run", "send-mail"]).output
    (mail,) = inbox.messages
    assert mail["Subject"] == "Rezervare anulată: Laborator" and mail.get_body().get_content().strip() == "Textul vechi"
    assert str(calendar_of(mail)["METHOD"]) == "CANCEL"
