"""Waitlist: when a taken slot frees, the first in line gets a two-hour hold and a mail."""

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from notifications.models import OutboxMessage

SLOT = {"start": "2026-11-10T18:00", "end": "2026-11-10T19:00"}


def test_first_in_line_gets_a_hold_and_accepts_it(app, runner, api_for, make_user, make_resource):
    court = make_resource("UVT", "sports")
    holder, first, second = (api_for(make_user("UVT")) for _ in range(3))
    taken = holder.book(court, **SLOT)
    first_entry = first.post("/api/v1/waitlist", {"resource_id": court.id, "title": "Tenis", **SLOT})
    assert first_entry.status_code == 201 and first_entry.get_json()["status"] == "waiting"
    second.post("/api/v1/waitlist", {"resource_id": court.id, "title": "Fotbal", **SLOT})
    assert "0 hold(s) offered" in runner.invoke(args=["jobs", "run", "waitlist"]).output  # still taken

    holder.delete(f"/api/v1/bookings/{taken['id']}")
    assert "1 hold(s) offered" in runner.invoke(args=["jobs", "run", "waitlist"]).output
    (entry,) = first.get("/api/v1/waitlist").get_json()["items"]
    assert entry["status"] == "offered"
    hold = first.get(f"/api/v1/bookings/{entry['hold_booking_id']}").get_json()
    assert hold["status"] == "pending" and hold["hold_until"]
    second.book(court, **SLOT, expect=409)  # the hold keeps the slot
    assert second.get("/api/v1/waitlist").get_json()["items"][0]["status"] == "waiting"
    kinds = db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.kind == "offered")).all()
    assert kinds == ["offered"]

    accepted = first.post(f"/api/v1/bookings/{hold['id']}/accept")
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "confirmed"
    assert first.get("/api/v1/waitlist").get_json()["items"][0]["status"] == "booked"
    assert first.post(f"/api/v1/bookings/{hold['id']}/accept").status_code == 409


def test_an_unaccepted_hold_lapses_and_goes_to_the_next(app, runner, api_for, make_user, make_resource):
    court = make_resource("UVT", "sports")
    holder, first, second = (api_for(make_user("UVT")) for _ in range(3))
    taken = holder.book(court, **SLOT)
    first.post("/api/v1/waitlist", {"resource_id": court.id, "title": "A", **SLOT})
    second.post("/api/v1/waitlist", {"resource_id": court.id, "title": "B", **SLOT})
    holder.delete(f"/api/v1/bookings/{taken['id']}")
    runner.invoke(args=["jobs", "run", "waitlist"])
    app.config["CLOCK_NOW"] += timedelta(hours=2)
    result = runner.invoke(args=["jobs", "run", "waitlist"])
    assert "1 hold(s) offered, 1 lapsed" in result.output
    assert first.get("/api/v1/waitlist").get_json()["items"][0]["status"] == "lapsed"
    (entry,) = second.get("/api/v1/waitlist").get_json()["items"]
    assert entry["status"] == "offered"
    lapsed_hold = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "offered")).all()
    assert len(lapsed_hold) == 2


def test_holds_are_not_manager_approvals_and_do_not_expire_as_requests(app, runner, api_for, make_user, make_resource):
    court = make_resource("UVT", "sports")
    holder, waiter = api_for(make_user("UVT")), api_for(make_user("UVT"))
    taken = holder.book(court, **SLOT)
    waiter.post("/api/v1/waitlist", {"resource_id": court.id, "title": "A", **SLOT})
    holder.delete(f"/api/v1/bookings/{taken['id']}")
    runner.invoke(args=["jobs", "run", "waitlist"])
    assert api_for(make_user("UVT", "manager")).get("/api/v1/approvals").get_json()["items"] == []


def test_leave_and_bad_input(api, make_resource):
    court = make_resource("UVT", "sports")
    entry = api.post("/api/v1/waitlist", {"resource_id": court.id, "title": "A", **SLOT}).get_json()
    assert api.delete(f"/api/v1/waitlist/{entry['id']}").status_code == 204
    assert api.get("/api/v1/waitlist").get_json()["items"][0]["status"] == "cancelled"
    assert (
        api.post(
            "/api/v1/waitlist",
            {"resource_id": court.id, "title": "A", "start": "2026-11-01T10:00", "end": "2026-11-01T11:00"},
        ).status_code
        == 422
    )  # already past
    assert (
        api.post("/api/v1/waitlist", {"resource_id": court.id, "title": "A", "start": "x", "end": "y"}).status_code
        == 422
    )


def test_waitlist_from_the_conflict_page(app, client, auth, make_user, api_for, make_resource, runner):
    from tests.conftest import ENGLISH

    court = make_resource("UVT", "sports")
    taken = api_for(make_user("UVT")).book(court, **SLOT)
    user = make_user("UVT")
    auth.login(user.email)
    data = {"title": "Tenis", "date": "2026-11-10", "start_time": "18:00", "end_time": "19:00", "units": "1"}
    refused = client.post(f"/resources/{court.id}/book", data=data, headers=ENGLISH)
    assert refused.status_code == 409 and "Join the waitlist" in refused.text
    client.post(f"/resources/{court.id}/waitlist", data=data)
    assert "waiting" in client.get("/bookings", headers=ENGLISH).text
    api_for(make_user("UVT", "admin")).delete(f"/api/v1/bookings/{taken['id']}")
    runner.invoke(args=["jobs", "run", "waitlist"])
    page = client.get("/bookings", headers=ENGLISH).text
    assert "Take this time" in page
    hold_id = db.session.scalar(select(OutboxMessage.booking_id).where(OutboxMessage.kind == "offered"))
    client.post(f"/bookings/{hold_id}/accept")
    assert "confirmed" in client.get("/bookings", headers=ENGLISH).text
