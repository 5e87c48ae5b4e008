"""Check-in from 15 minutes before a session; sessions nobody checked in to are released."""

from datetime import UTC, datetime, timedelta

import pytest


@pytest.fixture
def court(make_resource):
    return make_resource("UVT", "sports", check_in_required=True, no_show_minutes=15)


def test_check_in_window(app, api, court):
    booking = api.book(court, "2026-11-10T18:00", "2026-11-10T19:00")  # 16:00Z
    path = f"/api/v1/bookings/{booking['id']}/check-in"
    app.config["CLOCK_NOW"] = datetime(2026, 11, 10, 15, 44, tzinfo=UTC)
    assert api.post(path).status_code == 409  # 16 minutes early
    app.config["CLOCK_NOW"] = datetime(2026, 11, 10, 15, 45, tzinfo=UTC)
    checked = api.post(path)
    assert checked.status_code == 200 and checked.get_json()["checked_in_at"].startswith("2026-11-10T15:45")
    app.config["CLOCK_NOW"] = datetime(2026, 11, 10, 17, 0, tzinfo=UTC)
    assert api.post(path).status_code == 409  # over


def test_no_show_is_released_and_the_court_is_free_again(app, runner, api, api_for, make_user, court):
    booking = api.book(court, "2026-11-10T18:00", "2026-11-10T19:00")
    app.config["CLOCK_NOW"] = datetime(2026, 11, 10, 16, 14, tzinfo=UTC)
    assert "0 session" in runner.invoke(args=["jobs", "run", "no-shows"]).output
    app.config["CLOCK_NOW"] = datetime(2026, 11, 10, 16, 15, tzinfo=UTC)
    assert "1 session" in runner.invoke(args=["jobs", "run", "no-shows"]).output
    assert api.get(f"/api/v1/bookings/{booking['id']}").get_json()["status"] == "cancelled"
    api_for(make_user("UVT")).book(court, "2026-11-10T18:30", "2026-11-10T19:00")  # free again


def test_checked_in_sessions_are_kept(app, runner, api, court):
    booking = api.book(court, "2026-11-10T18:00", "2026-11-10T19:00")
    app.config["CLOCK_NOW"] = datetime(2026, 11, 10, 16, 5, tzinfo=UTC)
    api.post(f"/api/v1/bookings/{booking['id']}/check-in")
    app.config["CLOCK_NOW"] += timedelta(minutes=30)
    assert "0 session" in runner.invoke(args=["jobs", "run", "no-shows"]).output


def test_resources_without_check_in(api, make_resource):
    booking = api.book(make_resource(), "2026-11-10T18:00", "2026-11-10T19:00")
    assert api.post(f"/api/v1/bookings/{booking['id']}/check-in").status_code == 422


def test_check_in_button_on_my_bookings(app, client, auth, make_user, api_for, court):
    from tests.conftest import ENGLISH

    user = make_user("UVT")
    booking = api_for(user).book(court, "2026-11-10T18:00", "2026-11-10T19:00")
    auth.login(user.email)
    assert ">Check in<" not in client.get("/bookings", headers=ENGLISH).text  # too early
    app.config["CLOCK_NOW"] = datetime(2026, 11, 10, 15, 50, tzinfo=UTC)
    assert ">Check in<" in client.get("/bookings", headers=ENGLISH).text
    client.post(f"/bookings/{booking['id']}/check-in", data={})
    assert "checked in" in client.get("/bookings", headers=ENGLISH).text


def test_authorisations_page_for_managers(client, auth, make_user, make_resource, api_for):
    from tests.conftest import ENGLISH

    sem = make_resource("UPT", "equipment", requires_authorization=True, name="SEM")
    trainee = make_user("UVT", email="trainee@uvt.example.org")
    auth.login(make_user("UPT", "manager").email)
    client.post(
        f"/resources/{sem.id}/authorizations", data={"email": "trainee@uvt.example.org", "expires": "2027-06-30"}
    )
    page = client.get(f"/resources/{sem.id}", headers=ENGLISH).text
    assert "trainee@uvt.example.org" in page and "Authorised users" in page
    api_for(trainee).book(sem, "2026-11-10T10:00", "2026-11-10T11:00")
    client.post(f"/resources/{sem.id}/authorizations", data={"email": "nobody@x.example.org"})
    assert (
        client.post(
            f"/resources/{sem.id}/authorizations", data={"email": "x@y.example.org", "expires": "junk"}
        ).status_code
        == 302
    )
