"""Decisions re-check the rules: approving, accepting a waitlist hold and rescheduling meet what a new booking meets."""

from __future__ import annotations

from datetime import timedelta

D = "2026-11-10"  # a Tuesday, a week after the business clock's now (2026-11-02 09:00 local)


def _reasons(body) -> list[str]:
    return [c["reason"] for c in body["conflicts"]]


def test_approval_over_a_block_added_later_is_a_409(api_for, make_user, make_resource):
    # The reported case: a day's notice (met when requested), a calibration block added over the
    # partner's pending request, then "approve" — it used to confirm the request inside the block.
    lab = make_resource("UMFT", approval="partners", min_notice_minutes=24 * 60)
    partner = api_for(make_user("UPT", "member"))
    request = partner.book(lab, f"{D}T10:00", f"{D}T12:00")
    assert request["status"] == "pending"
    manager = api_for(make_user("UMFT", "manager"))
    block = manager.post(
        f"/api/v1/resources/{lab.id}/blocks", {"start": f"{D}T11:00", "end": f"{D}T13:00", "reason": "Calibrare"}
    )
    assert block.status_code == 201
    refused = manager.post(f"/api/v1/bookings/{request['id']}/approve")
    assert refused.status_code == 409
    assert _reasons(refused.get_json()) == ["blocked"]
    assert manager.get(f"/api/v1/bookings/{request['id']}").get_json()["status"] == "pending"
    # Rejecting is still possible, and once the block is gone approval goes through.
    assert manager.post(f"/api/v1/bookings/{request['id']}/reject").status_code == 200


def test_approval_over_imported_busy_time_is_a_409(app, api_for, make_user, make_resource):
    from app.extensions import db
    from resources.models import Block

    lab = make_resource("UMFT", approval="all")
    member = api_for(make_user("UMFT", "member"))
    request = member.book(lab, f"{D}T10:00", f"{D}T11:00")
    start = app.config["CLOCK_NOW"] + timedelta(days=8)  # 2026-11-10 07:00 UTC = 09:00 local
    db.session.add(Block(resource_id=lab.id, start_at=start, end_at=start + timedelta(hours=3), source="import"))
    db.session.commit()
    refused = api_for(make_user("UMFT", "manager")).post(f"/api/v1/bookings/{request['id']}/approve")
    assert refused.status_code == 409 and _reasons(refused.get_json()) == ["imported"]


def test_approval_checks_as_of_the_request_so_a_met_notice_stays_met(api_for, make_user, make_resource):
    lab = make_resource("UMFT", approval="all", min_notice_minutes=60)
    request = api_for(make_user("UMFT", "member")).book(lab, "2026-11-02T11:00", "2026-11-02T12:00")
    # Approved later the same morning, with less than the notice left: the notice was met when asked.
    approved = api_for(make_user("UMFT", "manager")).post(f"/api/v1/bookings/{request['id']}/approve")
    assert approved.status_code == 200 and approved.get_json()["status"] == "confirmed"


def test_rescheduling_into_a_linked_buffer_is_refused_like_a_new_booking(api_for, make_user, make_resource):
    court = make_resource("UVT", kind="sports")
    hall = make_resource("UVT", kind="sports", buffer_minutes=30, linked_to=[court.id])
    manager = api_for(make_user("UVT", "manager"))
    manager.book(court, f"{D}T10:00", f"{D}T11:00")
    member = api_for(make_user("UVT", "member"))
    # Inside the hall's buffer after the court's booking: refused, and availability says why.
    assert _reasons(member.book(hall, f"{D}T11:15", f"{D}T12:00", expect=409)) == ["linked"]
    busy = member.get(
        f"/api/v1/resources/{hall.id}/availability", query_string={"from": f"{D}T09:00", "to": f"{D}T13:00"}
    ).get_json()["busy"]
    assert busy == [{"start": f"{D}T09:30:00+02:00", "end": f"{D}T11:30:00+02:00", "reason": "linked"}]
    booking = member.book(hall, f"{D}T12:00", f"{D}T13:00")
    moved = member.patch(f"/api/v1/bookings/{booking['id']}", {"start": f"{D}T11:15", "end": f"{D}T12:15"})
    assert moved.status_code == 409 and _reasons(moved.get_json()) == ["linked"]
    assert (
        member.patch(f"/api/v1/bookings/{booking['id']}", {"start": f"{D}T11:30", "end": f"{D}T12:30"}).status_code
        == 200
    )


def test_accepting_a_waitlist_hold_over_a_new_block_is_refused(app, api_for, make_user, make_resource, runner):
    from app.extensions import db
    from bookings import waitlist

    room = make_resource("UVT", kind="room")
    first = api_for(make_user("UVT", "member"))
    taken = first.book(room, f"{D}T10:00", f"{D}T11:00")
    second_user = make_user("UVT", "member")
    second = api_for(second_user)
    joined = second.post(
        "/api/v1/waitlist", {"resource_id": room.id, "start": f"{D}T10:00", "end": f"{D}T11:00", "title": "Seminar"}
    )
    assert joined.status_code == 201
    assert first.delete(f"/api/v1/bookings/{taken['id']}").status_code in (200, 204)
    now = app.config["CLOCK_NOW"]
    offered, _ = waitlist.offer_freed_slots(now=now)
    db.session.commit()
    assert offered == 1
    hold = next(b for b in second.get("/api/v1/bookings?mine=1").get_json()["items"] if b["status"] == "pending")
    manager = api_for(make_user("UVT", "manager"))
    assert (
        manager.post(f"/api/v1/resources/{room.id}/blocks", {"start": f"{D}T10:30", "end": f"{D}T12:00"}).status_code
        == 201
    )
    refused = second.post(f"/api/v1/bookings/{hold['id']}/accept")
    assert refused.status_code == 409 and _reasons(refused.get_json()) == ["blocked"]
