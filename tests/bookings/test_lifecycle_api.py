"""Approval, cancellation, rescheduling, dorm nights, DST series, idempotency, listing, availability."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from bookings.models import AuditEntry, Booking
from tests.bookings.conftest import reasons

D = "2026-11-10"


@pytest.fixture
def umft_manager(make_user):
    return make_user("UMFT", "manager")


def test_partner_request_is_pending_and_holds_its_slot(api_for, make_user, umft_manager, make_resource):
    cytometer = make_resource("UMFT", "equipment", approval="partners", tariffs={"own": 0, "partner": 200})
    upt = api_for(make_user("UPT", "member"))
    pending = upt.book(cytometer, f"{D}T10:00", f"{D}T12:00")
    assert pending["status"] == "pending" and pending["price"]["amount"] == 400.0
    assert pending["requester_class"] == "partner"
    own = api_for(make_user("UMFT", "member"))
    clash = own.book(cytometer, f"{D}T11:00", f"{D}T13:00", expect=409)
    assert reasons(clash) == ["overlap"]
    assert clash["conflicts"][0]["with"] == [{"type": "booking"}]  # not the requester's: no details
    mine = own.book(cytometer, f"{D}T12:00", f"{D}T13:00")
    assert mine["status"] == "confirmed" and mine["price"]["amount"] == 0.0

    manager = api_for(umft_manager)
    queue = manager.get("/api/v1/approvals").get_json()["items"]
    assert [b["id"] for b in queue] == [pending["id"]]
    manager_view = manager.book(cytometer, f"{D}T11:00", f"{D}T11:30", expect=409)
    assert manager_view["conflicts"][0]["with"][0]["booking_id"] == pending["id"]  # managers see what clashes
    approved = manager.post(f"/api/v1/bookings/{pending['id']}/approve", {"reason": "OK"})
    assert approved.status_code == 200 and approved.get_json()["status"] == "confirmed"
    assert manager.get("/api/v1/approvals").get_json()["items"] == []
    assert manager.post(f"/api/v1/bookings/{pending['id']}/approve").status_code == 409  # already decided


def test_approval_all_and_rejection_frees_the_slot(api_for, make_user, umft_manager, make_resource):
    aula = make_resource("UMFT", "room", approval="all")
    requester = api_for(make_user("UMFT", "member"))
    request = requester.book(aula, f"{D}T10:00", f"{D}T12:00")
    assert request["status"] == "pending"
    assert requester.post(f"/api/v1/bookings/{request['id']}/approve").status_code == 403
    other_manager = api_for(make_user("UPT", "manager"))
    assert other_manager.post(f"/api/v1/bookings/{request['id']}/approve").status_code == 404
    assert other_manager.get("/api/v1/approvals").get_json()["items"] == []
    rejected = api_for(umft_manager).post(f"/api/v1/bookings/{request['id']}/reject", {"reason": "Sala e în renovare"})
    assert (
        rejected.get_json()["status"] == "rejected" and rejected.get_json()["decision_reason"] == "Sala e în renovare"
    )
    requester.book(aula, f"{D}T10:00", f"{D}T12:00")  # free again
    manager_own = api_for(umft_manager).book(aula, f"{D}T14:00", f"{D}T15:00")
    assert manager_own["status"] == "confirmed"  # managers do not approve themselves


def test_approvals_are_oldest_first_and_only_for_managers(api_for, make_user, umft_manager, make_resource):
    aula = make_resource("UMFT", "room", approval="all")
    first = api_for(make_user("UVT")).book(aula, "2026-11-12T10:00", "2026-11-12T11:00")
    second = api_for(make_user("UPT")).book(aula, f"{D}T10:00", f"{D}T11:00")
    queue = api_for(umft_manager).get("/api/v1/approvals").get_json()["items"]
    assert [b["id"] for b in queue] == [first["id"], second["id"]]
    assert api_for(make_user("UMFT")).get("/api/v1/approvals").status_code == 403


def test_cancel_frees_the_slot_at_once(api, make_resource):
    lab = make_resource()
    booking = api.book(lab, f"{D}T10:00", f"{D}T12:00")
    cancelled = api.delete(f"/api/v1/bookings/{booking['id']}")
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    api.book(lab, f"{D}T10:00", f"{D}T12:00")
    assert api.delete(f"/api/v1/bookings/{booking['id']}").status_code == 409


def test_cancel_one_occurrence_and_this_and_following(api, make_resource):
    lab = make_resource()
    series = api.book(lab, f"{D}T10:00", f"{D}T11:00", recurrence="FREQ=WEEKLY;COUNT=5")
    occurrences = series["occurrences"]
    one = api.delete(f"/api/v1/bookings/{series['id']}", query_string={"occurrence_id": occurrences[1]["id"]})
    assert [o["status"] for o in one.get_json()["occurrences"]] == ["active", "cancelled", "active", "active", "active"]
    api.book(lab, occurrences[1]["start"], occurrences[1]["end"])  # that week is free again
    rest = api.delete(
        f"/api/v1/bookings/{series['id']}", query_string={"occurrence_id": occurrences[3]["id"], "following": 1}
    )
    assert [o["status"] for o in rest.get_json()["occurrences"]] == [
        "active",
        "cancelled",
        "active",
        "cancelled",
        "cancelled",
    ]
    assert rest.get_json()["status"] == "confirmed"
    last = api.delete(
        f"/api/v1/bookings/{series['id']}", query_string={"occurrence_id": occurrences[0]["id"], "following": 1}
    )
    assert last.get_json()["status"] == "cancelled"
    missing = api.delete(f"/api/v1/bookings/{series['id']}", query_string={"occurrence_id": 999999})
    assert missing.status_code in (404, 409)


def test_reschedule_with_the_same_checks(api, make_resource):
    lab = make_resource()
    booking = api.book(lab, f"{D}T10:00", f"{D}T11:00")
    other = api.book(lab, f"{D}T14:00", f"{D}T15:00")
    moved = api.patch(f"/api/v1/bookings/{booking['id']}", {"start": f"{D}T10:30", "end": f"{D}T11:30"})
    assert (
        moved.status_code == 200 and moved.get_json()["start"] == f"{D}T10:30:00+02:00"
    )  # overlaps its old self: fine
    clash = api.patch(f"/api/v1/bookings/{booking['id']}", {"start": f"{D}T14:30", "end": f"{D}T15:30"})
    assert clash.status_code == 409 and reasons(clash.get_json()) == ["overlap"]
    unchanged = api.get(f"/api/v1/bookings/{booking['id']}").get_json()
    assert unchanged["start"] == f"{D}T10:30:00+02:00"
    renamed = api.patch(f"/api/v1/bookings/{other['id']}", {"title": "Alt titlu", "project_code": "PN-III-P4-2026"})
    assert renamed.get_json()["title"] == "Alt titlu" and renamed.get_json()["project_code"] == "PN-III-P4-2026"
    audit = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.booking_id == booking["id"]).order_by(AuditEntry.id)
    ).all()
    assert audit == ["created", "updated"]


def test_reschedule_one_occurrence_of_a_series(api, make_resource):
    lab = make_resource()
    series = api.book(lab, f"{D}T10:00", f"{D}T11:00", recurrence="FREQ=WEEKLY;COUNT=3")
    needs_which = api.patch(f"/api/v1/bookings/{series['id']}", {"start": f"{D}T12:00", "end": f"{D}T13:00"})
    assert needs_which.status_code == 422
    second = series["occurrences"][1]["id"]
    moved = api.patch(
        f"/api/v1/bookings/{series['id']}",
        {"occurrence_id": second, "start": "2026-11-18T10:00", "end": "2026-11-18T11:00"},
    )
    assert moved.status_code == 200
    assert [o["start"][:10] for o in moved.get_json()["occurrences"]] == ["2026-11-10", "2026-11-18", "2026-11-24"]


def test_dorm_nights(api_for, make_user, make_resource):
    room = make_resource("USVT", "dorm", units=2, capacity=2, tariffs={"own": 50, "partner": 80})
    guest = api_for(make_user("UPT", "member"))
    stay = guest.book(room, "2026-11-10", "2026-11-14", units=2)
    assert (stay["start"], stay["end"]) == ("2026-11-10T14:00:00+02:00", "2026-11-14T11:00:00+02:00")
    assert (stay["check_in"], stay["check_out"]) == ("2026-11-10", "2026-11-14")
    assert stay["price"]["amount"] == 4 * 80 * 2  # four nights, two beds
    guest.book(room, "2026-11-14", "2026-11-16", units=1)  # check-out day is the next check-in day
    guest.book(room, "2026-11-08", "2026-11-10", units=2)  # and the other way round
    first_night = guest.book(room, "2026-11-09", "2026-11-11", units=1, expect=409)
    assert reasons(first_night) == ["overlap"]
    last_night = guest.book(room, "2026-11-13", "2026-11-14", units=1, expect=409)
    assert reasons(last_night) == ["overlap"]
    guest.book(room, "2026-11-15", "2026-11-16", units=1)  # the second bed of the 14th-16th stay
    guest.book(room, "2026-11-12", "2026-11-10", expect=422)
    guest.book(room, "2026-11-12", "2026-11-12T11:00", expect=422)


def test_dates_only_for_dorms(api, make_resource):
    lab = make_resource()
    assert api.book(lab, "2026-11-10", "2026-11-11", expect=422)["errors"][0]["field"] == "start"


def test_weekly_series_keeps_local_hour_across_dst(api, make_resource):
    lab = make_resource(max_advance_days=365)
    series = api.book(lab, "2027-03-18T10:00", "2027-03-18T12:00", recurrence="FREQ=WEEKLY;COUNT=3")
    assert [o["start"] for o in series["occurrences"]] == [
        "2027-03-18T10:00:00+02:00",
        "2027-03-25T10:00:00+02:00",
        "2027-04-01T10:00:00+03:00",
    ]


def test_idempotency_key_never_books_twice(api, make_resource):
    lab = make_resource()
    first = api.book(lab, f"{D}T10:00", f"{D}T11:00", extra_headers={"Idempotency-Key": "abc-123"})
    again = api.book(lab, f"{D}T10:00", f"{D}T11:00", extra_headers={"Idempotency-Key": "abc-123"})
    assert first["id"] == again["id"]
    assert db.session.scalar(select(func.count(Booking.id))) == 1
    api.book(lab, f"{D}T10:00", f"{D}T11:00", extra_headers={"Idempotency-Key": "other"}, expect=409)


def test_listing_and_visibility_of_bookings(api_for, make_user, make_resource):
    lab = make_resource("UVT")
    alice, bob = make_user("UVT"), make_user("UPT")
    a = api_for(alice).book(lab, f"{D}T10:00", f"{D}T11:00")
    b = api_for(bob).book(lab, f"{D}T12:00", f"{D}T13:00")
    assert [x["id"] for x in api_for(alice).get("/api/v1/bookings?mine=1").get_json()["items"]] == [a["id"]]
    assert api_for(alice).get(f"/api/v1/bookings/{b['id']}").status_code == 404
    manager = api_for(make_user("UVT", "manager"))
    seen = {x["id"] for x in manager.get(f"/api/v1/bookings?resource_id={lab.id}").get_json()["items"]}
    assert seen == {a["id"], b["id"]}
    assert manager.get("/api/v1/bookings?mine=1").get_json()["items"] == []
    window = manager.get("/api/v1/bookings", query_string={"from": f"{D}T11:30", "to": f"{D}T14:00"}).get_json()[
        "items"
    ]
    assert [x["id"] for x in window] == [b["id"]]
    assert api_for(make_user("UPT", "manager")).get(f"/api/v1/bookings/{a['id']}").status_code == 404


def test_availability(api, api_for, admin, make_resource):
    lab = make_resource(visibility="public", units=1)
    api.book(lab, f"{D}T10:00", f"{D}T11:00")
    api_for(admin).post(f"/api/v1/resources/{lab.id}/blocks", {"start": f"{D}T11:00", "end": f"{D}T12:00"})
    body = api.client.get(
        f"/api/v1/resources/{lab.id}/availability", query_string={"from": f"{D}T08:00", "to": f"{D}T14:00"}
    ).get_json()
    assert body["busy"] == [{"start": f"{D}T10:00:00+02:00", "end": f"{D}T12:00:00+02:00", "reason": "booked"}]
    assert body["free"] == [
        {"start": f"{D}T08:00:00+02:00", "end": f"{D}T10:00:00+02:00"},
        {"start": f"{D}T12:00:00+02:00", "end": f"{D}T14:00:00+02:00"},
    ]
    assert api.client.get(f"/api/v1/resources/{lab.id}/availability?from={D}T14:00&to={D}T08:00").status_code == 422
    assert api.client.get(f"/api/v1/resources/{lab.id}/availability?from=yesterday&to={D}T08:00").status_code == 422


def test_multi_unit_availability_is_busy_only_when_full(api, make_resource):
    lanes = make_resource(kind="sports", units=2, visibility="public")
    api.book(lanes, f"{D}T10:00", f"{D}T12:00")
    api.book(lanes, f"{D}T11:00", f"{D}T13:00")
    body = api.client.get(
        f"/api/v1/resources/{lanes.id}/availability", query_string={"from": f"{D}T08:00", "to": f"{D}T14:00"}
    ).get_json()
    assert body["busy"] == [{"start": f"{D}T11:00:00+02:00", "end": f"{D}T12:00:00+02:00", "reason": "booked"}]


def test_conflict_suggests_slots_and_equivalent_resources(api, api_for, make_user, make_resource):
    lab = make_resource("UVT", capacity=20, opening_hours={"tue": [["08:00", "20:00"]]})
    twin = make_resource("UPT", capacity=25, visibility="alliance")
    make_resource("UPT", capacity=5)  # too small
    make_resource("UMFT", kind="room", capacity=50)  # another kind
    api_for(make_user("UVT")).book(lab, f"{D}T10:00", f"{D}T12:00")
    refused = api.book(lab, f"{D}T10:00", f"{D}T12:00", expect=409)
    slots = refused["suggestions"]["slots"]
    assert slots[0] == {"start": f"{D}T12:00:00+02:00", "end": f"{D}T14:00:00+02:00"}
    assert {"start": f"{D}T08:00:00+02:00", "end": f"{D}T10:00:00+02:00"} in slots
    assert [r["id"] for r in refused["suggestions"]["resources"]] == [twin.id]


def test_search_free_from_to_excludes_booked_resources(api, make_resource):
    booked = make_resource(name="Ocupat", visibility="public")
    make_resource(name="Liber", visibility="public")
    api.book(booked, f"{D}T10:00", f"{D}T12:00")
    items = api.client.get(
        "/api/v1/resources", query_string={"free_from": f"{D}T11:00", "free_to": f"{D}T13:00"}
    ).get_json()["items"]
    assert [r["name"] for r in items] == ["Liber"]
    later = api.client.get(
        "/api/v1/resources", query_string={"free_from": f"{D}T12:00", "free_to": f"{D}T13:00"}
    ).get_json()
    assert later["total"] == 2


def test_a_block_added_after_the_request_is_shown_and_stops_approval(
    api_for, make_user, umft_manager, make_resource, client, auth
):
    aula = make_resource("UMFT", "room", approval="all")
    request = api_for(make_user("UPT")).book(aula, f"{D}T10:00", f"{D}T12:00")
    manager = api_for(umft_manager)
    manager.post(
        f"/api/v1/resources/{aula.id}/blocks", {"start": f"{D}T11:00", "end": f"{D}T13:00", "reason": "Avarie"}
    )
    refused = manager.post(f"/api/v1/bookings/{request['id']}/approve")
    assert refused.status_code == 409 and refused.get_json()["conflicts"][0]["reason"] == "blocked"
    auth.login(umft_manager.email)
    page = client.get("/approvals", headers={"Accept-Language": "en"}).text
    assert "Clashes now" in page and "Avarie" in page
    assert (
        manager.post(f"/api/v1/bookings/{request['id']}/reject", {"reason": "Sala e în reparații"}).status_code == 200
    )


def test_listing_by_status(api, make_resource):
    lab, aula = make_resource(), make_resource(kind="room", approval="all")
    confirmed = api.book(lab, f"{D}T10:00", f"{D}T11:00")
    pending = api.book(aula, f"{D}T10:00", f"{D}T11:00")
    assert [b["id"] for b in api.get("/api/v1/bookings?status=pending").get_json()["items"]] == [pending["id"]]
    assert [b["id"] for b in api.get("/api/v1/bookings?status=confirmed").get_json()["items"]] == [confirmed["id"]]
