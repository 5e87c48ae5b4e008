"""GET /api/v1/search, /api/v1/timeline and /api/v1/resources/{id}/calendar."""

from __future__ import annotations

import pytest

D = "2026-11-10"  # a Tuesday; the test clock is Monday 2026-11-02 09:00 in Bucharest
HOURS = {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def test_search_answers_free_and_next_free_with_booking_links(client, api_for, make_user, make_resource):
    free = make_resource("UVT", name="Free lab", visibility="public", opening_hours=HOURS)
    taken = make_resource("UPT", name="Taken lab", visibility="public", opening_hours=HOURS)
    make_resource("UMFT", name="Elsewhere", visibility="public")
    api_for(make_user("UPT")).book(taken, f"{D}T10:00", f"{D}T12:00")

    body = client.get(
        "/api/v1/search",
        query_string=[
            ("date", D),
            ("start", "10:00"),
            ("end", "12:00"),
            ("institution", "UVT"),
            ("institution", "UPT"),
        ],
    ).get_json()

    assert body["free_total"] == 1 and body["busy_total"] == 1
    (item,) = body["free"]
    assert item["resource"]["id"] == free.id and item["resource"]["institution"] == "UVT"
    assert (item["start"], item["end"]) == (f"{D}T10:00:00+02:00", f"{D}T12:00:00+02:00")
    assert item["book_url"] == f"/resources/{free.id}?date={D}&start=10:00&end=12:00#book"
    (busy,) = body["busy"]
    assert busy["resource"]["name"] == "Taken lab"
    assert [s["start"] for s in busy["next_free"]] == [
        f"{D}T12:00:00+02:00",
        f"{D}T12:30:00+02:00",
        f"{D}T13:00:00+02:00",
    ]
    assert busy["next_free"][0]["book_url"] == f"/resources/{taken.id}?date={D}&start=12:00&end=14:00#book"


def test_search_without_a_date_lists_matches(client, make_resource):
    make_resource("UVT", kind="sports", name="Court", visibility="public")
    make_resource("UVT", kind="lab", name="Lab", visibility="public")
    body = client.get("/api/v1/search?kind=sports").get_json()
    assert [i["resource"]["name"] for i in body["free"]] == ["Court"] and body["busy"] == []
    assert "start" not in body["free"][0]


def test_search_by_nights(client, api, make_resource):
    room = make_resource("UVT", kind="dorm", visibility="public", name="Camera 3")
    api.book(room, "2026-11-10", "2026-11-11")
    body = client.get("/api/v1/search", query_string={"date": "2026-11-10", "nights": "2"}).get_json()
    assert body["free"] == [] and body["busy"][0]["resource"]["id"] == room.id
    first = body["busy"][0]["next_free"][0]
    assert (first["start"], first["end"]) == ("2026-11-11T14:00:00+02:00", "2026-11-13T11:00:00+02:00")
    assert first["book_url"] == f"/resources/{room.id}?date=2026-11-11&nights=2#book"


@pytest.mark.parametrize(
    "query, field",
    [
        ("date=2026-13-01&start=10:00&end=11:00", "date"),
        ("date=yesterday", "date"),
        ("date=2026-11-10&start=25:00&end=26:00", "start"),
        ("date=2026-11-10&start=12:00&end=10:00", "end"),
        ("date=2026-11-10&nights=0", "nights"),
        ("date=2026-11-10&nights=3&start=10:00&end=11:00", "nights"),
        ("start=10:00&end=11:00", "date"),
        ("date=2026-11-10&start=10:00&end=11:00&institution=MIT", "institution.0"),
        ("date=2026-11-10&start=10:00&end=11:00&kind=castle", "kind"),
    ],
)
def test_search_validation_errors_are_problem_json(client, make_resource, query, field):
    make_resource("UVT", visibility="public")
    response = client.get(f"/api/v1/search?{query}")
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in [e["field"] for e in response.get_json()["errors"]], response.get_json()


def test_timeline_rows_with_busy_closed_and_free(client, api_for, make_user, make_resource):
    lab = make_resource("UVT", name="Lab", opening_hours=HOURS)
    make_resource("UPT", kind="sports", name="Court")
    make_resource("UVT", name="Private", visibility="institution")
    member = make_user("UVT")
    api_for(member).book(lab, f"{D}T10:00", f"{D}T11:00", title="Own title")
    api_for(make_user("UVT")).book(lab, f"{D}T11:00", f"{D}T12:00", title="Someone else's")

    partner = api_for(make_user("UPT"))
    body = partner.get(f"/api/v1/timeline?date={D}&institution=UVT").get_json()
    assert body["date"] == D and body["total"] == 1 and body["hours"] == {"from": "07:00", "to": "22:00"}
    (row,) = body["items"]
    assert row["resource"]["name"] == "Lab"
    assert row["busy"] == [
        {"start": f"{D}T10:00:00+02:00", "end": f"{D}T11:00:00+02:00", "kind": "booking"},
        {"start": f"{D}T11:00:00+02:00", "end": f"{D}T12:00:00+02:00", "kind": "booking"},
    ]
    assert [c["start"] for c in row["closed"]] == [f"{D}T00:00:00+02:00", f"{D}T20:00:00+02:00"]
    assert [(f["start"], f["end"]) for f in row["free"]] == [
        (f"{D}T08:00:00+02:00", f"{D}T10:00:00+02:00"),
        (f"{D}T12:00:00+02:00", f"{D}T20:00:00+02:00"),
    ]
    assert row["free"][1]["book_url"] == f"/resources/{lab.id}?date={D}&start=12:00&end=13:00#book"

    mine = api_for(member).get(f"/api/v1/timeline?date={D}").get_json()
    assert mine["total"] == 3
    own = next(i for i in mine["items"] if i["resource"]["name"] == "Lab")["busy"]
    assert own[0]["kind"] == "own" and own[0]["title"] == "Own title" and "title" not in own[1]
    assert client.get(f"/api/v1/timeline?date={D}").get_json()["total"] == 0  # nothing public


@pytest.mark.parametrize("query", ["date=2026-02-30", "date=0001-01-01", "kind=castle", "institution=XYZ", "limit=0"])
def test_timeline_validation(client, query):
    response = client.get(f"/api/v1/timeline?{query}")
    assert response.status_code == 422 and response.content_type == "application/problem+json"


def test_calendar_week_in_local_time(api, api_for, make_user, make_resource, client):
    lab = make_resource("UVT", visibility="public", opening_hours=HOURS)
    api.book(lab, f"{D}T10:00", f"{D}T12:00", title="Mine")
    body = api.get(f"/api/v1/resources/{lab.id}/calendar?week={D}").get_json()
    assert (body["week"], body["previous"], body["next"]) == ("2026-11-09", "2026-11-02", "2026-11-16")
    assert body["timezone"] == "Europe/Bucharest" and len(body["days"]) == 7
    tuesday = body["days"][1]
    assert tuesday["date"] == D
    assert {"start": f"{D}T10:00:00+02:00", "end": f"{D}T12:00:00+02:00", "kind": "own", "title": "Mine"} == {
        k: v for k, v in tuesday["slots"][2].items() if k != "booking_id"
    }
    anonymous = client.get(f"/api/v1/resources/{lab.id}/calendar?week={D}").get_json()
    assert anonymous["days"][1]["slots"][2] == {
        "start": f"{D}T10:00:00+02:00",
        "end": f"{D}T12:00:00+02:00",
        "kind": "booking",
    }
    default = client.get(f"/api/v1/resources/{lab.id}/calendar").get_json()
    assert default["week"] == "2026-11-02"


def test_calendar_errors(client, api_for, make_user, make_resource):
    private = make_resource("UPT", visibility="institution")
    assert api_for(make_user("UVT")).get(f"/api/v1/resources/{private.id}/calendar").status_code == 404
    assert api_for(make_user("UPT")).get(f"/api/v1/resources/{private.id}/calendar").status_code == 200
    public = make_resource("UVT", visibility="public")
    response = client.get(f"/api/v1/resources/{public.id}/calendar?week=not-a-date")
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    assert response.get_json()["errors"][0]["field"] == "week"
