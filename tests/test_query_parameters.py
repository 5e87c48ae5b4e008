"""Query and header parameters are parsed by the models the OpenAPI document describes: a bad value is a
422 problem naming the parameter (never a 500), a good one works, unknown parameters are ignored and an
empty value counts as absent (as for the other API queries)."""

from datetime import UTC, datetime

import pytest
from werkzeug.datastructures import MultiDict

from app.validation import parse_query
from resources.schemas import SearchQuery

D = "2026-11-10"


@pytest.fixture
def lab(make_resource):
    return make_resource()


def assert_names(response, field: str) -> None:
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json"
    assert field in {e["field"] for e in response.get_json()["errors"]}, response.get_json()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"mine": "perhaps"}, "mine"),
        ({"resource_id": "abc"}, "resource_id"),
        ({"resource_id": "0"}, "resource_id"),
        ({"resource_id": str(2**40)}, "resource_id"),
        ({"from": "never"}, "from"),
        ({"from": "2026-02-30T10:00"}, "from"),
        ({"to": "9999-12-31T23:59"}, "to"),  # parses, but out of range once converted
        ({"to": "2026-03-29T03:30"}, "to"),  # skipped by DST in Bucharest
        ({"status": "done"}, "status"),
    ],
)
def test_list_bookings_refuses_bad_parameters(api, query, field):
    assert_names(api.get("/api/v1/bookings", query_string=query), field)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def test_list_bookings_with_good_parameters(api, api_for, make_user, lab):
    mine = api.book(lab, f"{D}T10:00", f"{D}T11:00")
    api_for(make_user("UVT")).book(lab, f"{D}T12:00", f"{D}T13:00")
    query = {"mine": "1", "resource_id": str(lab.id), "from": f"{D}T09:00", "to": f"{D}T12:00"}
    assert ids(api.get("/api/v1/bookings", query_string=query)) == [mine["id"]]
    assert ids(api.get("/api/v1/bookings", query_string={"mine": "yes", "status": "confirmed"})) == [mine["id"]]
    assert ids(api.get("/api/v1/bookings", query_string={"status": "cancelled"})) == []
    # The SPEC's template, sent as written: empty values are absent; unknown parameters are ignored.
    assert ids(api.get("/api/v1/bookings?mine=1&resource_id=&from=&to=&colour=red")) == [mine["id"]]
    assert ids(api.get("/api/v1/bookings", query_string={"from": f"{D}T11:30", "mine": "true"})) == []
    assert ids(api.get("/api/v1/bookings", query_string={"from": D, "to": "2026-11-11", "mine": "1"})) == [mine["id"]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"occurrence_id": "-1"}, "occurrence_id"),
        ({"occurrence_id": "first"}, "occurrence_id"),
        ({"following": "maybe"}, "following"),
    ],
)
def test_cancel_refuses_bad_parameters(api, lab, query, field):
    booking = api.book(lab, f"{D}T10:00", f"{D}T11:00")
    assert_names(api.delete(f"/api/v1/bookings/{booking['id']}", query_string=query), field)
    assert api.get(f"/api/v1/bookings/{booking['id']}").get_json()["status"] == "confirmed"


def test_cancel_one_occurrence_and_the_following(api, lab):
    booking = api.book(lab, f"{D}T10:00", f"{D}T11:00", recurrence="FREQ=DAILY;COUNT=4")
    occurrences = [o["id"] for o in booking["occurrences"]]
    one = api.delete(f"/api/v1/bookings/{booking['id']}", query_string={"occurrence_id": str(occurrences[1])})
    assert one.status_code == 200, one.get_json()
    rest = api.delete(
        f"/api/v1/bookings/{booking['id']}", query_string={"occurrence_id": str(occurrences[2]), "following": "1"}
    )
    assert rest.status_code == 200, rest.get_json()
    active = [o["id"] for o in rest.get_json()["occurrences"] if o["status"] == "active"]
    assert active == [occurrences[0]]


@pytest.mark.parametrize("value", ["0", "x", str(2**31)])
def test_check_in_refuses_a_bad_occurrence_id(api, make_resource, value):
    court = make_resource("UVT", "sports", check_in_required=True, no_show_minutes=15)
    booking = api.book(court, f"{D}T18:00", f"{D}T19:00")
    response = api.client.post(
        f"/api/v1/bookings/{booking['id']}/check-in", query_string={"occurrence_id": value}, headers=api.headers
    )
    assert_names(response, "occurrence_id")


def test_check_in_with_an_occurrence_id(app, api, make_resource):
    court = make_resource("UVT", "sports", check_in_required=True, no_show_minutes=15)
    booking = api.book(court, f"{D}T18:00", f"{D}T19:00")
    app.config["CLOCK_NOW"] = datetime(2026, 11, 10, 16, 0, tzinfo=UTC)
    response = api.client.post(
        f"/api/v1/bookings/{booking['id']}/check-in",
        query_string={"occurrence_id": str(booking["occurrence_id"])},
        headers=api.headers,
    )
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"to": f"{D}T14:00"}, "from"),  # missing
        ({"from": "", "to": f"{D}T14:00"}, "from"),  # empty is absent, so missing
        ({"from": "yesterday", "to": f"{D}T14:00"}, "from"),
        ({"from": f"{D}T08:00", "to": "25:00"}, "to"),
        ({"from": f"{D}T08:00", "to": "x" * 100}, "to"),
        ({"from": "2026-03-29T03:30", "to": "2026-03-29T05:00"}, "from"),  # skipped by DST
    ],
)
def test_availability_refuses_bad_parameters(api, lab, query, field):
    assert_names(api.get(f"/api/v1/resources/{lab.id}/availability", query_string=query), field)


def test_availability_reads_local_time_of_the_resource(api, make_resource):
    lisbon = make_resource("UVT", "lab", timezone="Europe/Lisbon")
    query = {"from": f"{D}T08:00", "to": f"{D}T10:00", "unknown": "ignored"}
    body = api.get(f"/api/v1/resources/{lisbon.id}/availability", query_string=query).get_json()
    assert body["free"][0]["start"].startswith(f"{D}T08:00") and body["free"][-1]["end"].startswith(f"{D}T10:00")
    with_offset = {"from": f"{D}T08:00+00:00", "to": f"{D}T10:00Z"}
    assert api.get(f"/api/v1/resources/{lisbon.id}/availability", query_string=with_offset).status_code == 200


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "soon", "2026-1", "2026-11-05", ""])
def test_statement_refuses_a_bad_month(api_for, make_user, month):
    assert_names(api_for(make_user("UPT", "manager")).get("/api/v1/statements", query_string={"month": month}), "month")


def test_statement_for_a_month(api_for, make_user):
    response = api_for(make_user("UPT", "manager")).get("/api/v1/statements", query_string={"month": "2026-11"})
    assert response.status_code == 200 and response.get_json() == {"month": "2026-11", "items": []}


@pytest.mark.parametrize("value", ["perhaps", "2"])
def test_events_refuse_a_bad_mine(client, value):
    assert_names(client.get("/api/v1/events", query_string={"mine": value}), "mine")


def test_events_mine_flag(api_for, make_user, make_event, lab):
    organiser = make_user("UVT")
    event = make_event(
        {"resource": lab, "start": datetime(2026, 11, 10, 10), "end": datetime(2026, 11, 10, 11)}, organiser=organiser
    )
    mine = api_for(organiser).get("/api/v1/events", query_string={"mine": "true"})
    assert [e["id"] for e in mine.get_json()["items"]] == [event.id]
    assert api_for(make_user("UPT")).get("/api/v1/events", query_string={"mine": "1"}).get_json()["items"] == []
    assert api_for(make_user("UPT")).get("/api/v1/events", query_string={"mine": "0"}).status_code == 200


@pytest.mark.parametrize("key", ["", "k" * 201])
def test_bad_idempotency_key(api, lab, key):
    response = api.client.post(
        "/api/v1/bookings",
        json={"resource_id": lab.id, "start": f"{D}T10:00", "end": f"{D}T11:00", "title": "x"},
        headers={**api.headers, "Idempotency-Key": key},
    )
    assert_names(response, "Idempotency-Key")


def test_idempotency_key_replays(api, lab):
    first = api.book(lab, f"{D}T10:00", f"{D}T11:00", extra_headers={"idempotency-key": "k" * 200})
    again = api.book(lab, f"{D}T10:00", f"{D}T11:00", extra_headers={"Idempotency-Key": "k" * 200})
    assert again["id"] == first["id"]


def test_parse_query_takes_every_value_of_a_repeated_list_parameter():
    args = MultiDict([("institution", "UVT"), ("institution", "UPT"), ("kind", ""), ("other", "x")])
    query = parse_query(SearchQuery, args)
    assert query.institution == ["UVT", "UPT"] and query.kind is None
