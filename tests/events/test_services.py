"""Joint events: every item booked, or none."""

from sqlalchemy import func, select

from app.extensions import db
from bookings.models import Booking

D = "2026-11-10"


def items(*pairs):
    return [
        {"resource_id": r.id, "start": s, "end": e, **extra}
        for r, s, e, *rest in pairs
        for extra in [rest[0] if rest else {}]
    ]


def test_all_items_booked_across_universities(api_for, make_user, make_resource):
    aula = make_resource("UPT", "room", name="Aula Magna UPT")
    seminar = make_resource("UVT", "room", name="Sala 201")
    beds = make_resource("USVT", "dorm", units=4, capacity=4, name="Camera 12")
    organiser = api_for(make_user("UVT"))
    body = {
        "title": "Simpozion ATU",
        "items": items(
            (aula, f"{D}T09:00", f"{D}T18:00"),
            (seminar, f"{D}T14:00", f"{D}T17:00"),
            (beds, "2026-11-09", "2026-11-11", {"units": 4}),
        ),
    }
    response = organiser.post("/api/v1/events", body)
    assert response.status_code == 201, response.get_json()
    event = response.get_json()
    assert [i["status"] for i in event["items"]] == ["confirmed", "confirmed", "confirmed"]
    assert organiser.get(f"/api/v1/events/{event['id']}").get_json()["title"] == "Simpozion ATU"


def test_one_clash_books_nothing_and_lists_the_item(api_for, make_user, make_resource):
    aula, seminar = make_resource("UPT", "room"), make_resource("UVT", "room", approval="all")
    api_for(make_user("UVT")).book(seminar, f"{D}T14:00", f"{D}T15:00")  # pending, holds the room
    before = db.session.scalar(select(func.count(Booking.id)))
    organiser = api_for(make_user("UMFT"))
    # The first item would be pending (approval), the second clashes: nothing is booked.
    other_seminar = make_resource("UMFT", "room", approval="all")
    response = organiser.post(
        "/api/v1/events",
        {
            "title": "Workshop",
            "items": items(
                (other_seminar, f"{D}T09:00", f"{D}T10:00"),
                (aula, f"{D}T09:00", f"{D}T12:00"),
                (seminar, f"{D}T14:30", f"{D}T16:00"),
            ),
        },
    )
    assert response.status_code == 409
    problem = response.get_json()
    assert [(i["index"], i["conflicts"][0]["reason"]) for i in problem["items"]] == [(2, "overlap")]
    assert "suggestions" in problem["items"][0]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Booking.id))) == before


def test_dry_run_books_nothing(api_for, make_user, make_resource):
    aula = make_resource("UPT", "room", approval="partners")
    organiser = api_for(make_user("UVT"))
    response = organiser.post(
        "/api/v1/events", {"title": "Test", "dry_run": True, "items": items((aula, f"{D}T09:00", f"{D}T10:00"))}
    )
    assert response.status_code == 200 and response.get_json() == {
        "dry_run": True,
        "items": [
            {
                "index": 0,
                "resource_id": aula.id,
                "title": "Test",
                "status": "pending",
                "price": 0.0,
                "currency": "RON",
                "start": f"{D}T09:00:00+02:00",
                "end": f"{D}T10:00:00+02:00",
                "occurrences": 1,
            }
        ],
    }
    assert db.session.scalar(select(func.count(Booking.id))) == 0


def test_items_of_one_event_clash_with_each_other(api_for, make_user, make_resource):
    aula = make_resource("UPT", "room")
    response = api_for(make_user("UVT")).post(
        "/api/v1/events",
        {"title": "Dublu", "items": items((aula, f"{D}T09:00", f"{D}T11:00"), (aula, f"{D}T10:00", f"{D}T12:00"))},
    )
    assert response.status_code == 409 and response.get_json()["items"][0]["index"] == 1


def test_cancel_releases_everything(api_for, make_user, make_resource):
    aula, seminar = make_resource("UPT", "room"), make_resource("UVT", "room")
    organiser = api_for(make_user("UVT"))
    event = organiser.post(
        "/api/v1/events",
        {
            "title": "Conferință",
            "items": items((aula, f"{D}T09:00", f"{D}T18:00"), (seminar, f"{D}T14:00", f"{D}T17:00")),
        },
    ).get_json()
    stranger = api_for(make_user("UPT"))
    # Any member may see an alliance event, only its organisers may cancel it.
    assert stranger.delete(f"/api/v1/events/{event['id']}").status_code == 403
    cancelled = organiser.delete(f"/api/v1/events/{event['id']}").get_json()
    assert cancelled["status"] == "cancelled" and {i["status"] for i in cancelled["items"]} == {"cancelled"}
    stranger.book(aula, f"{D}T09:00", f"{D}T18:00")
    assert organiser.delete(f"/api/v1/events/{event['id']}").status_code == 409


def test_bad_event_input(api, make_resource):
    lab = make_resource()
    assert api.post("/api/v1/events", {"title": "x", "items": []}).status_code == 422
    assert api.post("/api/v1/events", {"title": "x", "items": [{"resource_id": lab.id}]}).status_code == 422
    assert (
        api.post(
            "/api/v1/events",
            {"title": "x", "items": [{"resource_id": 999999, "start": f"{D}T09:00", "end": f"{D}T10:00"}]},
        ).status_code
        == 404
    )
    assert (
        api.post(
            "/api/v1/events", {"title": "x", "visibility": "secret", "items": items((lab, f"{D}T09:00", f"{D}T10:00"))}
        ).status_code
        == 422
    )


def test_alliance_events_are_hidden_from_anonymous_visitors(client, api_for, make_user, make_resource):
    organiser = api_for(make_user("UVT"))
    room = make_resource("UPT", "room")
    public = organiser.post(
        "/api/v1/events",
        {"title": "Deschis", "visibility": "public", "items": items((room, f"{D}T09:00", f"{D}T10:00"))},
    ).get_json()
    internal = organiser.post(
        "/api/v1/events", {"title": "Intern", "items": items((room, f"{D}T11:00", f"{D}T12:00"))}
    ).get_json()
    assert client.get(f"/api/v1/events/{public['id']}").status_code == 200
    assert client.get(f"/api/v1/events/{internal['id']}").status_code == 404
    assert organiser.get(f"/api/v1/events/{internal['id']}").status_code == 200
