"""Changing a joint event: add and remove items, move it by whole days, co-organisers, notices.

Every change is one all-or-nothing step: a refused change leaves every item where it was.
"""

from sqlalchemy import select

from app.extensions import db
from bookings.models import Booking, Occurrence
from notifications.mails import compose
from notifications.models import OutboxMessage

D = "2026-11-10"  # a Tuesday
D1 = "2026-11-11"


def _item(resource, start, end, **extra):
    return {"resource_id": resource.id, "start": start, "end": end, **extra}


def _event(organiser, *items, **fields):
    response = organiser.post("/api/v1/events", {"title": "Simpozion ATU", "items": list(items), **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _spans(booking_id):
    db.session.expire_all()
    return [
        (o.start_at.isoformat(), o.end_at.isoformat(), o.active, o.sequence)
        for o in db.session.scalars(
            select(Occurrence).where(Occurrence.booking_id == booking_id).order_by(Occurrence.start_at)
        )
    ]


def test_add_and_remove_items_in_one_step(api_for, make_user, make_resource):
    aula, seminar, extra = make_resource("UPT", "room"), make_resource("UVT", "room"), make_resource("UMFT", "room")
    organiser = api_for(make_user("UVT"))
    event = _event(organiser, _item(aula, f"{D}T09:00", f"{D}T18:00"), _item(seminar, f"{D}T14:00", f"{D}T17:00"))
    seminar_booking = event["items"][1]["id"]
    response = organiser.patch(
        f"/api/v1/events/{event['id']}",
        {"remove": [seminar_booking], "add": [_item(extra, f"{D}T14:00", f"{D}T17:00", title="Atelier")]},
    )
    assert response.status_code == 200, response.get_json()
    changed = response.get_json()
    by_resource = {i["resource_id"]: i for i in changed["items"]}
    assert by_resource[seminar.id]["status"] == "cancelled"
    assert by_resource[extra.id]["status"] == "confirmed" and by_resource[extra.id]["title"] == "Atelier"
    # The removed room is free at once.
    api_for(make_user("UVT")).book(seminar, f"{D}T14:00", f"{D}T17:00")


def test_a_refused_addition_removes_nothing(api_for, make_user, make_resource):
    aula, seminar, taken = make_resource("UPT", "room"), make_resource("UVT", "room"), make_resource("UMFT", "room")
    api_for(make_user("UMFT")).book(taken, f"{D}T15:00", f"{D}T16:00")
    organiser = api_for(make_user("UVT"))
    event = _event(organiser, _item(aula, f"{D}T09:00", f"{D}T18:00"), _item(seminar, f"{D}T14:00", f"{D}T17:00"))
    before = {i["id"]: _spans(i["id"]) for i in event["items"]}
    response = organiser.patch(
        f"/api/v1/events/{event['id']}",
        {"remove": [event["items"][1]["id"]], "add": [_item(taken, f"{D}T14:00", f"{D}T17:00")]},
    )
    assert response.status_code == 409
    problem = response.get_json()
    assert [(i["index"], i["conflicts"][0]["reason"]) for i in problem["items"]] == [(0, "overlap")]
    assert problem["items"][0]["suggestions"]["slots"], "each failing item comes with alternatives"
    assert {i: _spans(i) for i in before} == before
    assert db.session.scalars(select(Booking.status).where(Booking.event_id == event["id"])).all() == [
        "confirmed",
        "confirmed",
    ]


def test_move_the_whole_event_by_a_day(api_for, make_user, make_resource):
    aula = make_resource("UPT", "room")
    beds = make_resource("USVT", "dorm", units=20, capacity=20, check_in_time="14:00", check_out_time="11:00")
    lab = make_resource("UMFT", "lab")
    organiser = api_for(make_user("UVT"))
    event = _event(
        organiser,
        _item(aula, f"{D}T09:00", f"{D}T18:00"),
        _item(beds, "2026-11-09", "2026-11-11", units=20),
        _item(lab, f"{D}T10:00", f"{D}T12:00", recurrence="FREQ=WEEKLY;COUNT=3;BYDAY=TU"),
    )
    response = organiser.patch(f"/api/v1/events/{event['id']}", {"shift_days": 1})
    assert response.status_code == 200, response.get_json()
    items = {i["resource_id"]: i for i in response.get_json()["items"]}
    assert (items[aula.id]["start"], items[aula.id]["end"]) == (f"{D1}T09:00:00+02:00", f"{D1}T18:00:00+02:00")
    assert (items[beds.id]["check_in"], items[beds.id]["check_out"]) == ("2026-11-10", "2026-11-12")
    assert [o["start"][:16] for o in items[lab.id]["occurrences"]] == [
        "2026-11-11T10:00",
        "2026-11-18T10:00",
        "2026-11-25T10:00",
    ]
    assert items[lab.id]["recurrence"] == "FREQ=WEEKLY;COUNT=3;BYDAY=WE"
    assert {s[3] for s in _spans(items[aula.id]["id"])} == {1}, "SEQUENCE bumped for calendar clients"
    # The old day is free again, the new one is taken.
    other = api_for(make_user("UPT"))
    other.book(aula, f"{D}T09:00", f"{D}T18:00")
    other.book(aula, f"{D1}T12:00", f"{D1}T13:00", expect=409)


def test_moving_keeps_local_time_across_daylight_saving(api_for, make_user, make_resource):
    # Europe/Bucharest goes from +02:00 to +03:00 on 28 March 2027.
    aula = make_resource("UPT", "room", max_advance_days=365)
    organiser = api_for(make_user("UVT"))
    event = _event(organiser, _item(aula, "2027-03-27T10:00", "2027-03-27T12:00"))
    moved = organiser.patch(f"/api/v1/events/{event['id']}", {"shift_days": 1}).get_json()
    assert (moved["items"][0]["start"], moved["items"][0]["end"]) == (
        "2027-03-28T10:00:00+03:00",
        "2027-03-28T12:00:00+03:00",
    )


def test_items_may_move_onto_each_others_old_places(api_for, make_user, make_resource):
    aula = make_resource("UPT", "room")
    organiser = api_for(make_user("UVT"))
    event = _event(organiser, _item(aula, f"{D}T09:00", f"{D}T11:00"), _item(aula, f"{D1}T09:00", f"{D1}T11:00"))
    response = organiser.patch(f"/api/v1/events/{event['id']}", {"shift_days": 1})
    assert response.status_code == 200, response.get_json()
    assert sorted(i["start"][:16] for i in response.get_json()["items"]) == ["2026-11-11T09:00", "2026-11-12T09:00"]


def test_a_clash_on_the_new_day_moves_nothing(api_for, make_user, make_resource):
    aula, seminar = make_resource("UPT", "room"), make_resource("UVT", "room")
    organiser = api_for(make_user("UVT"))
    event = _event(organiser, _item(aula, f"{D}T09:00", f"{D}T18:00"), _item(seminar, f"{D}T14:00", f"{D}T17:00"))
    api_for(make_user("UVT")).book(seminar, f"{D1}T16:00", f"{D1}T18:00")
    before = {i["id"]: _spans(i["id"]) for i in event["items"]}
    response = organiser.patch(f"/api/v1/events/{event['id']}", {"shift_days": 1})
    assert response.status_code == 409
    (failure,) = response.get_json()["items"]
    assert failure["booking_id"] == event["items"][1]["id"] and failure["conflicts"][0]["reason"] == "overlap"
    assert {i: _spans(i) for i in before} == before


def test_moving_into_the_past_is_refused(api_for, make_user, make_resource):
    aula = make_resource("UPT", "room")
    organiser = api_for(make_user("UVT"))
    event = _event(organiser, _item(aula, "2026-11-03T09:00", "2026-11-03T10:00"))
    response = organiser.patch(f"/api/v1/events/{event['id']}", {"shift_days": -2})
    assert response.status_code == 409 and response.get_json()["items"][0]["conflicts"][0]["reason"] == "past"


def test_dry_run_changes_nothing(api_for, make_user, make_resource):
    aula, extra = make_resource("UPT", "room"), make_resource("UVT", "room", approval="all")
    organiser = api_for(make_user("UMFT"))
    event = _event(organiser, _item(aula, f"{D}T09:00", f"{D}T18:00"))
    before = _spans(event["items"][0]["id"])
    response = organiser.patch(
        f"/api/v1/events/{event['id']}",
        {"shift_days": 1, "add": [_item(extra, f"{D1}T14:00", f"{D1}T15:00")], "dry_run": True},
    )
    assert response.status_code == 200
    preview = response.get_json()
    assert preview["dry_run"] is True
    assert [(i["resource_id"], i["status"], i["start"][:16]) for i in preview["items"]] == [
        (aula.id, "confirmed", "2026-11-11T09:00"),
        (extra.id, "pending", "2026-11-11T14:00"),
    ]
    assert _spans(event["items"][0]["id"]) == before
    assert db.session.scalar(select(Booking.id).where(Booking.resource_id == extra.id)) is None


def test_who_may_change_an_event(api_for, make_user, make_resource):
    aula = make_resource("UPT", "room")
    lead, co, stranger = make_user("UVT"), make_user("UPT"), make_user("UMFT")
    organiser = api_for(lead)
    event = _event(organiser, _item(aula, f"{D}T09:00", f"{D}T10:00"), organisers=[co.email])
    assert event["organisers"] == [lead.email]  # invited, not yet an organiser
    assert event["invitations"] == [{"email": co.email, "status": "pending"}]
    url = f"/api/v1/events/{event['id']}"
    outsider = api_for(stranger)
    assert outsider.get(url).status_code == 200  # alliance event: every member sees the programme
    assert "requester" not in outsider.get(url).get_json()["items"][0]
    assert outsider.patch(url, {"title": "Mine now"}).status_code == 403
    co_api = api_for(co)
    assert co_api.patch(url, {"title": "Simpozion ATU 2026"}).status_code == 403  # until accepted
    accepted = co_api.post(f"{url}/accept")
    assert accepted.status_code == 200 and accepted.get_json()["organisers"] == [lead.email, co.email]
    assert co_api.patch(url, {"title": "Simpozion ATU 2026"}).status_code == 200
    assert co_api.patch(url, {"organisers": []}).status_code == 403  # only the lead changes who organises
    assert organiser.patch(url, {"organisers": ["not an address"]}).status_code == 422
    assert organiser.patch(url, {"organisers": []}).get_json()["organisers"] == [lead.email]
    assert co_api.patch(url, {"title": "Again"}).status_code == 403


def test_bad_changes_are_refused_clearly(api_for, make_user, make_resource):
    aula, seminar = make_resource("UPT", "room"), make_resource("UVT", "room")
    organiser = api_for(make_user("UVT"))
    event = _event(organiser, _item(aula, f"{D}T09:00", f"{D}T10:00"), _item(seminar, f"{D}T11:00", f"{D}T12:00"))
    url = f"/api/v1/events/{event['id']}"
    ids = [i["id"] for i in event["items"]]
    for body, field in [
        ({"remove": [999_999]}, "remove"),
        ({"remove": ids}, "remove"),
        ({"shift_days": 1000}, "shift_days"),
        ({"colour": "red"}, "colour"),
        ({"add": [{"resource_id": aula.id}]}, "add"),
    ]:
        response = organiser.patch(url, body)
        assert response.status_code == 422, (body, response.get_json())
        assert response.content_type == "application/problem+json"
        assert field in str(response.get_json()), (field, response.get_json())
    assert organiser.patch("/api/v1/events/999999", {"title": "x"}).status_code == 404
    organiser.delete(url)
    assert organiser.patch(url, {"title": "x"}).status_code == 409


def test_changes_tell_the_people_concerned(api_for, make_user, make_resource):
    aula = make_resource("UPT", "room")
    upt_manager = make_user("UPT", "manager")
    lead, co = make_user("UVT"), make_user("UMFT")
    co.locale = "en"
    db.session.commit()
    organiser = api_for(lead)
    event = _event(organiser, _item(aula, f"{D}T09:00", f"{D}T10:00"), organisers=[co.email])
    url = f"/api/v1/events/{event['id']}"
    (invited,) = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "event_invitation")).all()
    assert invited.to_email == co.email and compose(invited).subject == "You are invited to co-organise: Simpozion ATU"
    assert api_for(co).post(f"{url}/accept").status_code == 200

    assert organiser.patch(url, {"shift_days": 1}).status_code == 200
    moved = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "rescheduled")).all()
    assert {m.to_email for m in moved} == {lead.email, upt_manager.email}
    assert all("2026-11-11 09:00" in compose(m).body and "BEGIN:VCALENDAR" in compose(m).ics for m in moved)
    (changed,) = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "event_changed")).all()
    assert changed.to_email == co.email and compose(changed).subject == "Event changed: Simpozion ATU"
    assert f"/events/{event['id']}" in compose(changed).body

    assert api_for(co).delete(url).status_code == 200
    (cancelled,) = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "event_cancelled")).all()
    assert cancelled.to_email == lead.email and cancelled.locale == "ro"
    assert compose(cancelled).subject.startswith("Eveniment anulat")


def test_list_events(client, api_for, make_user, make_resource):
    aula = make_resource("UPT", "room")
    lead = make_user("UVT")
    organiser = api_for(lead)
    public = _event(organiser, _item(aula, f"{D}T09:00", f"{D}T10:00"), visibility="public")
    internal = _event(organiser, _item(aula, f"{D}T11:00", f"{D}T12:00"))
    assert [e["id"] for e in client.get("/api/v1/events").get_json()["items"]] == [public["id"]]
    other = api_for(make_user("UMFT"))
    assert [e["id"] for e in other.get("/api/v1/events").get_json()["items"]] == [public["id"], internal["id"]]
    assert other.get("/api/v1/events?mine=1").get_json()["items"] == []
    organiser.delete(f"/api/v1/events/{internal['id']}")
    assert [e["id"] for e in other.get("/api/v1/events").get_json()["items"]] == [public["id"]]
    assert {e["id"] for e in organiser.get("/api/v1/events?mine=1").get_json()["items"]} == {
        public["id"],
        internal["id"],
    }


def test_listing_events_does_not_query_per_event(client, api_for, make_user, make_resource):
    from sqlalchemy import event as sa_event

    aula = make_resource("UPT", "room")
    organiser = api_for(make_user("UVT"))

    def listing_queries() -> int:
        statements: list[str] = []

        def count(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        sa_event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/api/v1/events").status_code == 200
            assert client.get("/events").status_code == 200
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    for hour in (9, 10):
        _event(organiser, _item(aula, f"{D}T{hour:02d}:00", f"{D}T{hour:02d}:30"), visibility="public")
    few = listing_queries()
    for hour in (11, 12, 13, 14):
        _event(organiser, _item(aula, f"{D}T{hour:02d}:00", f"{D}T{hour:02d}:30"), visibility="public")
    assert listing_queries() == few
