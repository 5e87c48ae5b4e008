"""Messages the services raise in English reach pages in the visitor's language (the API keeps them as raised)."""

from datetime import datetime

from app.extensions import db
from tests.conftest import ENGLISH

ROMANIAN = {"Accept-Language": "ro"}
D = "2026-11-10"


def test_missing_page_says_it_in_the_page_language_only(client):
    ro = client.get("/resources/999999", headers=ROMANIAN)
    assert ro.status_code == 404
    assert "Această pagină nu există." in ro.text and "No resource" not in ro.text
    en = client.get("/resources/999999", headers=ENGLISH)
    assert "This page does not exist." in en.text and "No resource 999999." in en.text


def test_a_refused_page_explains_in_romanian(client, auth, make_user):
    member = make_user("UPT")
    auth.login(member.email)
    page = client.get("/statements", headers=ROMANIAN)
    assert page.status_code == 403
    assert "Situațiile de decontare sunt pentru responsabili și administratori." in page.text


def test_booking_form_refusal_in_romanian(client, auth, make_user, make_resource):
    lab = make_resource("UMFT", requires_authorization=True)
    auth.login(make_user("UPT").email)
    data = {"title": "Culturi", "date": D, "start_time": "10:00", "end_time": "12:00", "units": "1"}
    page = client.post(f"/resources/{lab.id}/book", data=data, headers=ROMANIAN)
    assert page.status_code == 403
    assert "Această resursă necesită instruire: cereți o autorizare responsabilului ei." in page.text


def test_api_keeps_the_message_as_raised(client, api_for, make_user, make_resource):
    lab = make_resource("UMFT", requires_authorization=True)
    api = api_for(make_user("UPT"))
    api.headers = {**api.headers, **ROMANIAN}
    problem = api.book(lab, f"{D}T10:00", f"{D}T12:00", expect=403)
    assert problem["detail"] == "This resource needs training: ask its manager for an authorisation."


def test_bad_month_is_flashed_in_romanian(client, auth, make_user):
    auth.login(make_user("UMFT", "manager").email)
    page = client.get("/statements?month=2020-13", headers=ROMANIAN)
    assert "indicați o lună în forma AAAA-LL, între 2000 și 2099" in page.text
    assert 'class="flash flash-error" role="alert"' in page.text


def test_approval_over_a_clash_names_the_reason_in_the_page_language(
    client, auth, make_user, make_resource, make_booking, make_block
):
    aula = make_resource("UMFT", "room", approval="all")
    manager = make_user("UMFT", "manager")
    request = make_booking(aula, make_user("UPT"), datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 12))
    make_block(aula, datetime(2026, 11, 10, 11), datetime(2026, 11, 10, 13), by=manager)
    auth.login(manager.email)
    page = client.post(f"/approvals/{request.id}", data={"approve": "1"}, headers=ROMANIAN, follow_redirects=True)
    assert '<p class="flash flash-error" role="alert">Neaprobat: resursa este blocată atunci</p>' in page.text
    assert "cannot be booked" not in page.text


def test_feed_scopes_are_named_in_the_page_language(client, auth, make_user, make_resource):
    from calendars import services as calendars

    member, lab = make_user("UPT"), make_resource("UPT", visibility="public")
    calendars.create_feed(member, "mine")
    calendars.create_feed(member, f"resource:{lab.id}")
    db.session.commit()
    auth.login(member.email)
    page = client.get("/bookings", headers=ROMANIAN).text
    assert f"<strong>Resursa nr. {lab.id}</strong>" in page and "<strong>Rezervările mele</strong>" in page
    assert f"Resource no. {lab.id}" in client.get("/bookings", headers=ENGLISH).text


def test_booking_window_agrees_with_its_number_in_romanian(client, make_resource):
    far = make_resource(visibility="public", max_advance_days=90)
    near = make_resource(visibility="public", max_advance_days=10)
    assert "cu cel mult 90 de zile înainte" in client.get(f"/resources/{far.id}", headers=ROMANIAN).text
    assert "cu cel mult 10 zile înainte" in client.get(f"/resources/{near.id}", headers=ROMANIAN).text
    assert "up to 90 days ahead" in client.get(f"/resources/{far.id}", headers=ENGLISH).text
