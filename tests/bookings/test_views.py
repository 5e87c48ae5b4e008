"""Booking pages through the test client (CSRF is checked in its own test class)."""

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from bookings.models import Booking
from tests.conftest import ENGLISH

D = "2026-11-10"


@pytest.fixture
def signed_in(client, auth, make_user):
    user = make_user("UPT", "member", full_name="Ioana Pop")
    auth.login(user.email)
    return user


def book(client, resource, **fields):
    data = {"title": "Laborator", "date": D, "start_time": "10:00", "end_time": "12:00", "units": "1", **fields}
    return client.post(f"/resources/{resource.id}/book", data=data, headers=ENGLISH)


def test_anonymous_is_sent_to_sign_in(client, make_resource):
    lab = make_resource(visibility="public")
    page = client.get(f"/resources/{lab.id}", headers=ENGLISH).text
    assert "Sign in to book" in page
    assert client.post(f"/resources/{lab.id}/book", data={}).status_code == 302


def test_page_states_price_and_approval_before_booking(client, signed_in, make_resource):
    lab = make_resource("UMFT", approval="partners", tariffs={"own": 0, "partner": 150})
    page = client.get(f"/resources/{lab.id}", headers=ENGLISH).text
    assert "Your price: 150.00 RON" in page and "need a manager" in page
    romanian = client.get(f"/resources/{lab.id}", headers={"Accept-Language": "ro"}).text
    assert "Prețul pentru dvs.: 150,00 RON" in romanian  # amounts in the page's number format


def test_book_and_see_it_in_my_bookings(client, signed_in, make_resource):
    lab = make_resource("UPT", name="Laborator de robotică")
    response = book(client, lab)
    assert response.status_code == 302 and response.headers["Location"] == "/bookings"
    mine = client.get("/bookings", headers=ENGLISH).text
    assert "Laborator de robotică" in mine and "confirmed" in mine and "10:00" in mine


def test_conflict_is_explained_with_one_click_alternatives(client, signed_in, make_resource):
    lab = make_resource("UPT", opening_hours={"tue": [["08:00", "20:00"]]})
    assert book(client, lab).status_code == 302
    refused = book(client, lab, title="Al doilea")
    assert refused.status_code == 409
    assert "already booked" in refused.text
    suggestions = refused.text.split('class="suggestions"', 1)[1]
    buttons = re.findall(r'name="start_time" value="(\d\d:\d\d)">', suggestions)
    assert buttons[0] == "12:00"
    accepted = book(client, lab, title="Al doilea", start_time="12:00", end_time="14:00")
    assert accepted.status_code == 302


def test_skip_the_clashing_dates_of_a_series(client, signed_in, make_resource, admin, api_auth):
    lab = make_resource("UPT")
    client.application.test_client().post(
        f"/api/v1/resources/{lab.id}/blocks",
        headers=api_auth.headers(admin),
        json={"start": "2026-11-17T00:00", "end": "2026-11-18T00:00"},
    )
    refused = book(client, lab, repeat="WEEKLY", count="3")
    assert refused.status_code == 409 and "blocked" in refused.text and "skip these" in refused.text
    accepted = book(client, lab, repeat="WEEKLY", count="3", skip_conflicts="1")
    assert accepted.status_code == 302
    booking = db.session.scalar(select(Booking))
    assert len(booking.occurrences) == 2


def test_form_errors_are_shown_on_the_form(client, signed_in, make_resource):
    lab = make_resource("UPT")
    response = book(client, lab, title="", date="")
    assert response.status_code == 422
    assert response.text.count('class="field-error"') >= 2


def test_dorm_form_takes_nights(client, signed_in, make_resource):
    room = make_resource("USVT", "dorm", units=2, capacity=2, tariffs={"partner": 80})
    page = client.get(f"/resources/{room.id}", headers=ENGLISH).text
    assert 'id="check_in"' in page and 'id="date"' not in page
    response = client.post(
        f"/resources/{room.id}/book",
        headers=ENGLISH,
        data={"title": "Conferință", "check_in": "2026-11-10", "check_out": "2026-11-12", "units": "1"},
    )
    assert response.status_code == 302
    assert float(db.session.scalar(select(Booking.price_amount))) == 160.0


def test_training_required_is_refused_on_the_form(client, signed_in, make_resource):
    sem = make_resource("UPT", "equipment", requires_authorization=True)
    response = book(client, sem)
    assert response.status_code == 403 and "training" in response.text


def test_cancel_one_occurrence_then_the_series(client, signed_in, make_resource):
    lab = make_resource("UPT")
    book(client, lab, repeat="WEEKLY", count="3")
    booking = db.session.scalar(select(Booking))
    first = booking.occurrences[0].id
    client.post(f"/bookings/{booking.id}/cancel", data={"occurrence_id": str(first)})
    db.session.expire_all()
    assert [o.active for o in db.session.get(Booking, booking.id).occurrences] == [False, True, True]
    client.post(f"/bookings/{booking.id}/cancel", data={})
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "cancelled"


def test_approvals_page(client, auth, make_user, make_resource):
    aula = make_resource("UMFT", "room", approval="all", name="Aula Magna")
    auth.login(make_user("UVT").email)
    book(client, aula, title="Simpozion")
    auth.logout()
    auth.login(make_user("UMFT", "manager").email)
    page = client.get("/approvals", headers=ENGLISH).text
    assert "Simpozion" in page and "1 request waits" in page
    booking = db.session.scalar(select(Booking))
    client.post(f"/approvals/{booking.id}", data={"reason": "Bine ați venit", "approve": "1"})
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "confirmed"
    assert "No requests wait" in client.get("/approvals", headers=ENGLISH).text


def test_members_have_no_approvals_page(client, signed_in):
    assert client.get("/approvals").status_code == 403


def test_upcoming_bookings_are_listed_by_date_not_by_when_they_were_made(client, signed_in, make_resource):
    lab = make_resource("UPT")
    for day, title in (("2026-11-20", "Mai tarziu"), ("2026-11-10", "Mai devreme"), ("2026-11-15", "La mijloc")):
        assert book(client, lab, title=title, date=day).status_code == 302
    page = client.get("/bookings", headers=ENGLISH).text
    upcoming = page.split("Mai devreme", 1)
    assert len(upcoming) == 2 and upcoming[1].index("La mijloc") < upcoming[1].index("Mai tarziu")
