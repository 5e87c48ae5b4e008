"""Services raise messages made with lazy_gettext: pages show them in the visitor's language, the API in the
language of Accept-Language (English when none is asked for); machine-readable codes stay as they are."""

from datetime import datetime

from app import clock
from app.extensions import db
from bookings import services as bookings
from tests.conftest import ENGLISH

ROMANIAN = {"Accept-Language": "ro"}
D = "2026-11-10"


def test_missing_page_says_it_in_the_page_language_only(client):
    ro = client.get("/resources/999999", headers=ROMANIAN)
    assert ro.status_code == 404
    assert "Această pagină nu există." in ro.text and "Nu există resursa 999999." in ro.text
    assert "No resource" not in ro.text
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


def test_api_answers_in_the_language_asked_for_and_english_by_default(client, api_for, make_user, make_resource):
    lab = make_resource("UMFT", requires_authorization=True)
    api = api_for(make_user("UPT"))
    problem = api.book(lab, f"{D}T10:00", f"{D}T12:00", expect=403)
    assert problem["detail"] == "This resource needs training: ask its manager for an authorisation."
    api.headers = {**api.headers, **ROMANIAN}
    problem = api.book(lab, f"{D}T10:00", f"{D}T12:00", expect=403)
    assert problem["detail"] == "Această resursă necesită instruire: cereți o autorizare responsabilului ei."
    assert problem["title"] == "Forbidden"


def test_api_conflict_detail_is_translated_and_the_reason_code_is_not(client, api_for, make_user, make_resource):
    lab = make_resource("UMFT", visibility="public")
    api = api_for(make_user("UMFT"))
    api.book(lab, f"{D}T10:00", f"{D}T12:00")
    english = api.book(lab, f"{D}T11:00", f"{D}T13:00", expect=409)
    assert english["detail"] == "The requested time cannot be booked: already booked."
    assert [(c["reason"], c["detail"]) for c in english["conflicts"]] == [("overlap", "already booked")]
    api.headers = {**api.headers, **ROMANIAN}
    romanian = api.book(lab, f"{D}T11:00", f"{D}T13:00", expect=409)
    assert romanian["detail"] == "Intervalul cerut nu poate fi rezervat: deja rezervat."
    assert [(c["reason"], c["detail"]) for c in romanian["conflicts"]] == [("overlap", "deja rezervat")]
    assert romanian["title"] == english["title"] == "Booking conflict"


def test_api_field_errors_are_translated(client, api_for, make_user, make_resource):
    lab = make_resource("UMFT", visibility="public", min_notice_minutes=0)
    api = api_for(make_user("UMFT"))
    english = api.book(lab, f"{D}T12:00", f"{D}T10:00", expect=422)
    assert [(e["field"], e["detail"]) for e in english["errors"]] == [("end", "must be after start")]
    assert english["detail"] == "end: must be after start"
    api.headers = {**api.headers, **ROMANIAN}
    romanian = api.book(lab, f"{D}T12:00", f"{D}T10:00", expect=422)
    assert [(e["field"], e["detail"]) for e in romanian["errors"]] == [("end", "trebuie să fie după început")]
    assert romanian["detail"] == "end: trebuie să fie după început"


def test_a_language_cookie_does_not_change_the_api(client, api_for, make_user, make_resource):
    lab = make_resource("UMFT", requires_authorization=True)
    api = api_for(make_user("UPT"))
    client.get("/language/ro")
    problem = api.book(lab, f"{D}T10:00", f"{D}T12:00", expect=403)
    assert problem["detail"].startswith("This resource needs training")


def _request_decided(make_user, make_resource):
    aula = make_resource("UMFT", "room", approval="all")
    manager = make_user("UMFT", "manager")
    request, _ = bookings.create_booking(
        make_user("UPT"),
        resource_id=aula.id,
        start=datetime(2026, 11, 10, 10),
        end=datetime(2026, 11, 10, 12),
        title="Conferință",
        now=clock.now(),
    )
    bookings.decide_booking(manager, request.id, approve=True, now=clock.now())
    db.session.commit()
    return request, manager


def test_a_conflict_page_speaks_the_visitors_language(client, auth, make_user, make_resource):
    request, manager = _request_decided(make_user, make_resource)
    auth.login(manager.email)
    ro = client.post(f"/approvals/{request.id}", data={"approve": "1"}, headers=ROMANIAN)
    assert ro.status_code == 409
    assert "Această rezervare este confirmată, nu în așteptare." in ro.text and "not pending" not in ro.text
    en = client.post(f"/approvals/{request.id}", data={"approve": "1"}, headers=ENGLISH)
    assert en.status_code == 409
    assert "This booking is confirmed, not pending." in en.text


def test_a_booking_clash_page_speaks_the_visitors_language(client, auth, make_user, make_resource):
    lab = make_resource("UMFT", visibility="public", min_notice_minutes=0)
    user = make_user("UMFT")
    bookings.create_booking(
        user,
        resource_id=lab.id,
        start=datetime(2026, 11, 10, 10),
        end=datetime(2026, 11, 10, 12),
        title="Ocupat",
        now=clock.now(),
    )
    db.session.commit()
    auth.login(user.email)
    data = {"title": "Culturi", "date": D, "start_time": "11:00", "end_time": "13:00", "units": "1"}
    ro = client.post(f"/resources/{lab.id}/book", data=data, headers=ROMANIAN)
    assert ro.status_code == 409
    assert "este deja rezervat atunci" in ro.text and "already booked" not in ro.text
    en = client.post(f"/resources/{lab.id}/book", data=data, headers=ENGLISH)
    assert en.status_code == 409
    assert "it is already booked then" in en.text


def test_invalid_input_on_a_page_speaks_the_visitors_language(client, auth, make_user, make_resource):
    lab = make_resource("UMFT")
    auth.login(make_user("UMFT", "manager").email)
    data = {"start_date": D, "start_time": "12:00", "end_date": D, "end_time": "10:00", "reason": "Revizie"}
    ro = client.post(f"/manage/resources/{lab.id}/blocks", data=data, headers=ROMANIAN)
    assert ro.status_code == 422
    assert "trebuie să fie după început" in ro.text and "must be after start" not in ro.text
    en = client.post(f"/manage/resources/{lab.id}/blocks", data=data, headers=ENGLISH)
    assert en.status_code == 422
    assert "must be after start" in en.text


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
