"""Rescheduling from /bookings: a one-off, one session of a series, a dorm stay; conflicts explained
on the form with free alternatives; what else /bookings offers."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from bookings.models import Booking, Occurrence
from tests.conftest import ENGLISH


@pytest.fixture
def booker(client, auth, make_user):
    user = make_user("UPT", "member", email="ana@upt.example.org")
    auth.login(user.email)
    return user


def occurrences(booking_id: int) -> list[tuple[str, str, bool]]:
    db.session.expire_all()
    rows = db.session.scalars(select(Occurrence).where(Occurrence.booking_id == booking_id).order_by(Occurrence.id))
    return [(o.start_at.isoformat(), o.end_at.isoformat(), o.active) for o in rows]


def test_reschedule_a_one_off(client, booker, api_for, make_resource):
    lab = make_resource("UPT")
    booking = api_for(booker).book(lab, "2026-11-10T10:00", "2026-11-10T12:00", title="Măsurători")
    mine = client.get("/bookings", headers=ENGLISH).text
    assert f'href="/bookings/{booking["id"]}/reschedule"' in mine
    form = client.get(f"/bookings/{booking['id']}/reschedule", headers=ENGLISH).text
    assert 'value="2026-11-10"' in form and 'value="10:00"' in form and 'value="12:00"' in form
    moved = client.post(
        f"/bookings/{booking['id']}/reschedule",
        data={"date": "2026-11-12", "start_time": "14:00", "end_time": "15:30"},
        headers=ENGLISH,
        follow_redirects=True,
    )
    assert "Moved: Măsurători." in moved.text
    assert occurrences(booking["id"]) == [("2026-11-12T12:00:00+00:00", "2026-11-12T13:30:00+00:00", True)]


def test_reschedule_one_session_of_a_series(client, booker, api_for, make_resource):
    lab = make_resource("UPT")
    booking = api_for(booker).book(lab, "2026-11-10T10:00", "2026-11-10T11:00", recurrence="FREQ=WEEKLY;COUNT=3")
    second = booking["occurrences"][1]["id"]
    mine = client.get("/bookings", headers=ENGLISH).text
    assert f"/bookings/{booking['id']}/reschedule?occurrence_id={second}" in mine
    assert "Reschedule this one" in mine
    response = client.post(
        f"/bookings/{booking['id']}/reschedule",
        data={"occurrence_id": str(second), "date": "2026-11-18", "start_time": "16:00", "end_time": "17:00"},
        headers=ENGLISH,
    )
    assert response.status_code == 302
    rows = occurrences(booking["id"])
    assert rows[0][0] == "2026-11-10T08:00:00+00:00" and rows[2][0] == "2026-11-24T08:00:00+00:00"
    assert rows[1] == ("2026-11-18T14:00:00+00:00", "2026-11-18T15:00:00+00:00", True)


def test_series_without_a_chosen_session_is_sent_back(client, booker, api_for, make_resource):
    lab = make_resource("UPT")
    booking = api_for(booker).book(lab, "2026-11-10T10:00", "2026-11-10T11:00", recurrence="FREQ=DAILY;COUNT=2")
    response = client.get(f"/bookings/{booking['id']}/reschedule", headers=ENGLISH, follow_redirects=True)
    assert "Choose which session of the series to move." in response.text


@pytest.mark.parametrize("lang, heading", [("en", "It cannot be moved there"), ("ro", "Nu poate fi mutată acolo")])
def test_conflict_is_explained_with_free_alternatives(client, booker, api_for, make_user, make_resource, lang, heading):
    lab = make_resource("UPT")
    other = make_user("UPT", "member")
    api_for(other).book(lab, "2026-11-12T14:00", "2026-11-12T16:00")
    booking = api_for(booker).book(lab, "2026-11-10T10:00", "2026-11-10T12:00")
    response = client.post(
        f"/bookings/{booking['id']}/reschedule",
        data={"date": "2026-11-12", "start_time": "15:00", "end_time": "17:00"},
        headers={"Accept-Language": lang},
    )
    assert response.status_code == 409
    assert heading in response.text and 'role="alert"' in response.text
    if lang == "en":
        assert "it is already booked then" in response.text
        assert re.search(r'<button type="submit" class="button suggestion">Move to ', response.text)
    # The old time is kept.
    assert occurrences(booking["id"]) == [("2026-11-10T08:00:00+00:00", "2026-11-10T10:00:00+00:00", True)]


def test_field_errors_and_rule_errors(client, booker, api_for, make_resource):
    lab = make_resource("UPT", max_duration_minutes=60)
    booking = api_for(booker).book(lab, "2026-11-10T10:00", "2026-11-10T11:00")
    empty = client.post(f"/bookings/{booking['id']}/reschedule", data={"date": "", "start_time": ""}, headers=ENGLISH)
    assert empty.status_code == 422 and 'id="date-error"' in empty.text and 'id="start_time-error"' in empty.text
    too_long = client.post(
        f"/bookings/{booking['id']}/reschedule",
        data={"date": "2026-11-11", "start_time": "10:00", "end_time": "13:00"},
        headers=ENGLISH,
    )
    assert too_long.status_code == 409 and "it is longer than the maximum duration" in too_long.text
    skipped_hour = client.post(
        f"/bookings/{booking['id']}/reschedule",
        data={"date": "2027-03-28", "start_time": "03:15", "end_time": "04:00"},
        headers=ENGLISH,
    )
    assert skipped_hour.status_code == 422 and 'class="field-error"' in skipped_hour.text


def test_dorm_stay_is_moved_by_days(client, booker, api_for, make_resource):
    dorm = make_resource("UPT", "dorm", units=2)
    booking = api_for(booker).book(dorm, "2026-11-10", "2026-11-12")
    form = client.get(f"/bookings/{booking['id']}/reschedule", headers=ENGLISH).text
    assert 'name="check_in"' in form and 'name="start_time"' not in form
    response = client.post(
        f"/bookings/{booking['id']}/reschedule", data={"check_in": "2026-11-20", "check_out": "2026-11-23"}
    )
    assert response.status_code == 302
    start, end, _ = occurrences(booking["id"])[0]
    assert start.startswith("2026-11-20T12:00") and end.startswith("2026-11-23T09:00")  # 14:00 and 11:00 local


def test_someone_elses_booking_is_404(client, booker, api_for, make_user, make_resource):
    lab = make_resource("UPT")
    theirs = api_for(make_user("UPT", "member")).book(lab, "2026-11-10T10:00", "2026-11-10T11:00")
    assert client.get(f"/bookings/{theirs['id']}/reschedule").status_code == 404
    assert (
        client.post(
            f"/bookings/{theirs['id']}/reschedule",
            data={"date": "2026-11-11", "start_time": "10:00", "end_time": "11:00"},
        ).status_code
        == 404
    )


def test_cancelled_booking_cannot_be_moved(client, booker, api_for, make_resource):
    lab = make_resource("UPT")
    api = api_for(booker)
    booking = api.book(lab, "2026-11-10T10:00", "2026-11-10T11:00")
    api.delete(f"/api/v1/bookings/{booking['id']}")
    response = client.get(f"/bookings/{booking['id']}/reschedule", headers=ENGLISH, follow_redirects=True)
    assert "Choose which session" in response.text  # nothing active left to move
    assert db.session.get(Booking, booking["id"]).status == "cancelled"


def test_my_bookings_offers_every_action(client, booker, api_for, make_resource):
    lab = make_resource("UPT", check_in_required=True)
    api = api_for(booker)
    series = api.book(lab, "2026-11-02T09:10", "2026-11-02T10:00", recurrence="FREQ=DAILY;COUNT=3")
    client.post("/bookings/feeds", data={"scope": "mine"})
    page = client.get("/bookings", headers=ENGLISH).text
    for text in (
        "Cancel this one",
        "Cancel this and the following",
        "Cancel the whole series",
        "Check in",
        "Add to my calendar (.ics)",
        "Reschedule this one",
        'data-copy="feed-',
        "Make a new link",
    ):
        assert text in page, text
    assert f"/bookings/{series['id']}.ics" in page


def test_cancelling_twice_is_explained_not_an_error_page(client, booker, api_for, make_resource):
    lab = make_resource("UPT")
    booking = api_for(booker).book(lab, "2026-11-10T10:00", "2026-11-10T11:00")
    first = client.post(f"/bookings/{booking['id']}/cancel", headers=ENGLISH, follow_redirects=True)
    assert "Cancelled. The time is free again." in first.text
    again = client.post(f"/bookings/{booking['id']}/cancel", headers=ENGLISH, follow_redirects=True)
    assert again.status_code == 200 and "This was already cancelled." in again.text
