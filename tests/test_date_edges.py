"""Datetimes before 1900 or after 2200 are a 422 naming the field, on every input that takes one
(API and pages); never a 500. The narrower bookable years (2000-2100) keep their own 422."""

import pytest

from tests.conftest import ENGLISH

FAR = ["0001-01-01T10:00", "1899-12-31T23:00", "2201-01-01T10:00", "9999-12-31T23:59"]


@pytest.fixture
def lab(make_resource):
    return make_resource()


@pytest.fixture
def manager_api(api_for, make_user):
    return api_for(make_user("UVT", "admin"))


def _refused(response, field):
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    assert response.content_type == "application/problem+json"
    assert field in {e["field"] for e in response.get_json()["errors"]}, response.get_json()


@pytest.mark.parametrize("when", FAR)
def test_booking_and_waitlist_and_event(api, lab, when):
    good = "2026-11-10T10:00"
    _refused(api.post("/api/v1/bookings", {"resource_id": lab.id, "start": when, "end": good, "title": "x"}), "start")
    _refused(api.post("/api/v1/bookings", {"resource_id": lab.id, "start": good, "end": when, "title": "x"}), "end")
    _refused(api.post("/api/v1/waitlist", {"resource_id": lab.id, "start": when, "end": good, "title": "x"}), "start")
    item = {"resource_id": lab.id, "start": when, "end": good}
    _refused(api.post("/api/v1/events", {"title": "E", "items": [item]}), "items.0.start")


@pytest.mark.parametrize("when", FAR)
def test_reschedule(api, lab, when):
    booking = api.book(lab, "2026-11-10T10:00", "2026-11-10T11:00")
    _refused(api.patch(f"/api/v1/bookings/{booking['id']}", {"start": when, "end": "2026-11-10T11:00"}), "start")


@pytest.mark.parametrize("when", FAR)
def test_queries(api, lab, when):
    _refused(api.get(f"/api/v1/resources/{lab.id}/availability?from={when}&to=2026-11-10T10:00"), "from")
    _refused(api.get(f"/api/v1/bookings?from={when}"), "from")
    _refused(api.get(f"/api/v1/search?date={when[:10]}&start=10:00&end=11:00"), "date")
    _refused(api.get(f"/api/v1/resources?free_from={when}&free_to=2026-11-10T10:00"), "free_from")
    _refused(api.get(f"/api/v1/timeline?date={when[:10]}"), "date")
    _refused(api.get(f"/api/v1/resources/{lab.id}/calendar?week={when[:10]}"), "week")


@pytest.mark.parametrize("when", FAR)
def test_blocks_and_authorisations(manager_api, lab, when):
    _refused(
        manager_api.post(f"/api/v1/resources/{lab.id}/blocks", {"start": when, "end": "2026-11-10T10:00"}), "start"
    )
    body = {"email": "someone@uvt.example.org", "expires": when}
    _refused(manager_api.post(f"/api/v1/resources/{lab.id}/authorizations", body), "expires")


@pytest.mark.parametrize("month", ["0001-01", "9999-12", "1899-12", "2201-01"])
def test_statement_months(manager_api, auth, make_user, month):
    _refused(manager_api.get(f"/api/v1/statements?month={month}"), "month")


def test_bookable_years_keep_their_own_message(api, lab):
    response = api.post(
        "/api/v1/bookings",
        {"resource_id": lab.id, "start": "1950-01-01T10:00", "end": "1950-01-01T11:00", "title": "x"},
    )
    assert response.status_code == 422
    assert "2000" in str(response.get_json()["errors"])


@pytest.mark.parametrize("month", ["٢٠٢٦-٠١", "２０２６-０１", "0001-01", "9999-12"])
def test_statement_pages_refuse_odd_months(client, auth, make_user, month):
    manager = make_user("UVT", "manager")
    auth.login(manager.email)
    assert client.get(f"/statements/{month}.csv").status_code in (400, 422)
    assert (
        client.get("/statements", query_string={"month": month}).status_code == 200
    )  # said at the top, this month shown


@pytest.mark.parametrize("when", ["0001-01-01T00:30+02:00", "9999-12-31T23:59-05:00"])
def test_far_instants_with_an_offset(api, manager_api, lab, when):
    good = "2026-11-10T10:00"
    _refused(api.post("/api/v1/bookings", {"resource_id": lab.id, "start": when, "end": good, "title": "x"}), "start")
    _refused(api.get(f"/api/v1/resources/{lab.id}/availability?from={when.replace('+', '%2B')}&to={good}"), "from")
    _refused(manager_api.post(f"/api/v1/resources/{lab.id}/blocks", {"start": when, "end": good}), "start")


# --- pages ----------------------------------------------------------------------------------------


@pytest.fixture
def signed_in_admin(client, auth, make_user):
    user = make_user("UVT", "admin")
    auth.login(user.email)
    return user


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "2201-01-01", "9999-12-31"])
def test_pages_refuse_far_dates(client, signed_in_admin, lab, day):
    booked = client.post(
        f"/resources/{lab.id}/book",
        data={"title": "x", "date": day, "start_time": "10:00", "end_time": "11:00", "units": "1"},
        headers=ENGLISH,
    )
    assert booked.status_code == 422 and "1900 and 2200" in booked.text
    block = {"start_date": day, "start_time": "10:00", "end_date": "2026-11-10", "end_time": "11:00"}
    blocked = client.post(f"/manage/resources/{lab.id}/blocks", data=block, headers=ENGLISH)
    assert blocked.status_code in (200, 422) and "1900 and 2200" in blocked.text
    granted = client.post(
        f"/resources/{lab.id}/authorizations", data={"email": signed_in_admin.email, "expires": day}, headers=ENGLISH
    )
    assert granted.status_code == 302
    assert "expiry" in client.get(granted.headers["Location"], headers=ENGLISH).text


def test_authorisation_page_refuses_a_nul(client, signed_in_admin, lab):
    granted = client.post(
        f"/resources/{lab.id}/authorizations", data={"email": "a\x00@uvt.example.org"}, headers=ENGLISH
    )
    assert granted.status_code == 302
    assert "Must be a single line" in client.get(granted.headers["Location"], headers=ENGLISH).text


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_pages_with_far_dates_in_the_address_answer(client, signed_in_admin, lab, day):
    for url in [
        f"/resources/{lab.id}?date={day}&start=10:00&end=11:00",
        f"/resources/{lab.id}?week={day}",
        f"/timeline?date={day}",
        f"/search?date={day}&start=10:00&end=11:00",
        f"/resources?free_from={day}T10:00&free_to={day}T11:00&date={day}",
        f"/events/new?date={day}&resource_id={lab.id}",
    ]:
        assert client.get(url, headers=ENGLISH).status_code < 500, url
