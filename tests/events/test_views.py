"""Event pages through the test client: the organiser's builder with availability per item, the
programme page, and changes (move, remove, add, cancel), in both languages."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from bookings.models import Booking
from events.models import Event
from resources import services as catalogue
from tests.conftest import ENGLISH

D = "2026-11-10"  # a Tuesday


@pytest.fixture
def organiser(client, auth, make_user):
    user = make_user("UVT", "member", full_name="Ana Ionescu")
    auth.login(user.email)
    return user


@pytest.fixture
def venue(admin, make_resource):
    site = catalogue.create_site(
        admin, institution="UPT", name="Rectorat UPT", address="Piața Victoriei 2", latitude=45.75, longitude=21.22
    )
    db.session.commit()
    aula = make_resource("UPT", "room", name="Aula Magna", site_id=site.id, visibility="public")
    seminar = make_resource("UMFT", "room", name="Sala de seminar 3", approval="all")
    beds = make_resource("USVT", "dorm", name="Cămin 1, camera 12", units=10, capacity=10)
    return aula, seminar, beds


def rows(*items):
    data = {}
    for i, item in enumerate(items):
        for key, value in item.items():
            data[f"items-{i}-{key}"] = value
    return data


def form(**fields):
    return {"title": "Simpozion ATU", "visibility": "public", "description": "Două zile.", **fields}


def session(resource, start="09:00", end="12:00", day=D, **extra):
    return {"resource_id": str(resource.id), "date": day, "start_time": start, "end_time": end, "units": "1", **extra}


def bookings_count():
    db.session.expire_all()
    return db.session.scalar(select(func.count(Booking.id)))


def test_check_shows_each_item_and_books_nothing(client, organiser, venue):
    aula, seminar, beds = venue
    data = form(check="1") | rows(
        session(aula),
        session(seminar, "14:00", "17:00"),
        {"resource_id": str(beds.id), "date": "2026-11-09", "nights": "2", "units": "4"},
    )
    response = client.post("/events/new", data=data, headers=ENGLISH)
    assert response.status_code == 200
    page = response.text
    assert page.count("Free — confirmed at once") == 2 and page.count("Free — needs the manager") == 1
    assert bookings_count() == 0


def test_one_clash_and_one_approval_book_nothing_and_say_which(client, auth, organiser, venue, make_user, api_for):
    aula, seminar, _ = venue
    api_for(make_user("UPT")).book(aula, f"{D}T10:00", f"{D}T11:00")
    before = bookings_count()
    data = form(book="1") | rows(session(seminar, "14:00", "17:00"), session(aula))
    response = client.post("/events/new", data=data, headers=ENGLISH)
    assert response.status_code == 409
    page = response.text
    assert "Nothing was booked" in page
    assert "Cannot be booked as asked" in page and "already booked" in page.lower()
    assert "Free — needs the manager" in page  # the other item would have been a request
    assert "Free instead" in page  # alternatives for the clashing item
    assert bookings_count() == before and db.session.scalar(select(func.count(Event.id))) == 0


def test_book_everything_then_see_the_programme(client, organiser, venue):
    aula, seminar, beds = venue
    data = form(book="1") | rows(
        session(aula, title="Deschidere"),
        session(seminar, "14:00", "17:00", day="2026-11-11"),
        {"resource_id": str(beds.id), "date": "2026-11-09", "nights": "3", "units": "4"},
    )
    response = client.post("/events/new", data=data, headers=ENGLISH)
    assert response.status_code == 302, response.text
    event = db.session.scalar(select(Event))
    assert response.headers["Location"] == f"/events/{event.id}"
    assert {b.status for b in event.bookings} == {"confirmed", "pending"}
    stay = next(b for b in event.bookings if b.resource_id == beds.id)
    assert stay.units == 4 and stay.all_day
    page = client.get(f"/events/{event.id}", headers=ENGLISH).text
    assert "Tuesday, November 10, 2026" in page and "Wednesday, November 11, 2026" in page
    assert page.index("Deschidere") < page.index("Sala de seminar 3")
    assert "Piața Victoriei 2" in page and "openstreetmap.org" in page
    assert "Guest accommodation" in page and "4 beds" in page and "2026-11-09 → 2026-11-12" in page
    assert f"/calendars/events/{event.id}.ics" in page and "webcal://" in page
    romanian = client.get(f"/events/{event.id}", headers={"Accept-Language": "ro"}).text
    assert "marți, 10 noiembrie 2026" in romanian and "Programul" in romanian


def test_programme_page_visibility(client, auth, organiser, venue, make_user, api_for):
    aula, _, beds = venue
    owner = api_for(organiser)
    items = [
        {"resource_id": aula.id, "start": f"{D}T09:00", "end": f"{D}T10:00"},
        {"resource_id": beds.id, "start": "2026-11-09", "end": "2026-11-11", "units": 2},
    ]
    public = owner.post("/api/v1/events", {"title": "Deschis", "visibility": "public", "items": items}).get_json()
    internal = owner.post(
        "/api/v1/events", {"title": "Intern", "items": [{**items[0], "start": f"{D}T11:00", "end": f"{D}T12:00"}]}
    ).get_json()
    auth.logout()
    anonymous = client.get(f"/events/{public['id']}", headers=ENGLISH)
    assert anonymous.status_code == 200
    assert "Aula Magna" in anonymous.text and organiser.email not in anonymous.text
    assert "Guest accommodation" not in anonymous.text  # beds are the organisers' business
    assert client.get(f"/events/{internal['id']}", headers=ENGLISH).status_code == 404
    listing = client.get("/events", headers=ENGLISH).text
    assert "Deschis" in listing and "Intern" not in listing
    member = make_user("UPT")
    auth.login(member.email)
    assert client.get(f"/events/{internal['id']}", headers=ENGLISH).status_code == 200
    assert "Make my calendar link" in client.get(f"/events/{internal['id']}", headers=ENGLISH).text
    assert client.get(f"/events/{internal['id']}/edit", headers=ENGLISH).status_code == 403


def test_incomplete_row_is_explained(client, organiser, venue):
    aula, _, _ = venue
    data = form(book="1") | rows({"resource_id": str(aula.id), "date": D, "start_time": "09:00", "units": "1"})
    response = client.post("/events/new", data=data, headers=ENGLISH)
    assert response.status_code == 422 and 'aria-invalid="true"' in response.text
    assert bookings_count() == 0
    empty = client.post("/events/new", data=form(book="1"), headers=ENGLISH)
    assert empty.status_code == 422 and "Fill in at least one row" in empty.text


def test_add_a_row(client, organiser, venue):
    data = form(add_row="1") | rows({}, {}, {})
    page = client.post("/events/new", data=data, headers=ENGLISH).text
    assert "Item 4" in page


def _make(client, aula, seminar):
    data = form(book="1") | rows(session(aula), session(seminar, "14:00", "17:00"))
    assert client.post("/events/new", data=data, headers=ENGLISH).status_code == 302
    return db.session.scalar(select(Event))


def test_move_remove_add_and_cancel_from_the_edit_page(client, organiser, venue, make_resource):
    aula, seminar, _ = venue
    event = _make(client, aula, seminar)
    url = f"/events/{event.id}/edit"
    assert "Move the whole event" in client.get(url, headers=ENGLISH).text
    moved = client.post(url, data={"shift-days": "1", "shift-move": "1"}, headers=ENGLISH, follow_redirects=True)
    assert "moved by 1 day" in moved.text and "Wednesday, November 11, 2026" in moved.text

    seminar_booking = next(b for b in event.bookings if b.resource_id == seminar.id)
    removed = client.post(
        f"/events/{event.id}/items/{seminar_booking.id}/remove", headers=ENGLISH, follow_redirects=True
    )
    assert "Item removed" in removed.text
    db.session.expire_all()
    assert db.session.get(Booking, seminar_booking.id).status == "cancelled"

    extra = make_resource("USVT", "room", name="Sala Senatului")
    added = client.post(
        url,
        data={"add-book": "1"} | {f"add-{k}": v for k, v in rows(session(extra, day="2026-11-11")).items()},
        headers=ENGLISH,
    )
    assert added.status_code == 302
    assert "Sala Senatului" in client.get(f"/events/{event.id}", headers=ENGLISH).text

    details = client.post(
        url,
        data={"details-title": "Simpozion ATU 2026", "details-visibility": "alliance", "details-save": "1"},
        headers=ENGLISH,
    )
    assert details.status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, event.id).title == "Simpozion ATU 2026"

    cancelled = client.post(f"/events/{event.id}/cancel", headers=ENGLISH, follow_redirects=True)
    assert "every item is released" in cancelled.text
    db.session.expire_all()
    assert {b.status for b in db.session.get(Event, event.id).bookings} == {"cancelled"}


def test_a_refused_move_changes_nothing_and_says_why(client, organiser, venue, make_user, api_for):
    aula, seminar, _ = venue
    event = _make(client, aula, seminar)
    api_for(make_user("UPT")).book(aula, "2026-11-11T11:00", "2026-11-11T12:00")
    response = client.post(f"/events/{event.id}/edit", data={"shift-days": "1", "shift-move": "1"}, headers=ENGLISH)
    assert response.status_code == 409
    assert "Nothing changed" in response.text and "Cannot move there" in response.text
    db.session.expire_all()
    assert all(
        o.start_at.date().isoformat() == D for b in db.session.get(Event, event.id).bookings for o in b.occurrences
    )


def test_refusals_on_the_change_page_are_in_the_page_language(client, organiser, venue):
    aula, seminar, _ = venue
    event = _make(client, aula, seminar)
    only = next(b for b in event.bookings if b.resource_id == seminar.id)
    client.post(f"/events/{event.id}/items/{only.id}/remove", headers=ENGLISH)
    last = next(b for b in event.bookings if b.resource_id == aula.id)
    page = client.post(
        f"/events/{event.id}/items/{last.id}/remove", headers={"Accept-Language": "ro"}, follow_redirects=True
    ).text
    assert "anulați mai bine evenimentul" in page
    client.post(f"/events/{event.id}/cancel", headers=ENGLISH)
    again = client.post(f"/events/{event.id}/cancel", headers={"Accept-Language": "ro"}, follow_redirects=True)
    assert "Acest eveniment este anulat." in again.text
