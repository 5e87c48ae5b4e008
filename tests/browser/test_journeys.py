"""The main journeys end to end in a real Chromium, on the demo catalogue.

The business clock is pinned to Monday 2 November 2026, 09:00 in Timișoara (TestingConfig.CLOCK_NOW).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app import clock
from app.extensions import db
from bookings import services as bookings
from bookings.models import Booking
from calendars.zones import to_utc
from notifications.models import OutboxMessage
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

RESEARCHER = "mihai.popescu@upt.example.org"


def fresh(query):
    """Read what the browser's requests committed: a new transaction, ended at once (SQLite must not stay locked)."""
    db.session.rollback()
    try:
        return db.session.scalars(query).all()
    finally:
        db.session.rollback()


def sign_in_with_the_form(page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".flash-success")).to_contain_text("Welcome")


@pytest.fixture
def researcher(demo, make_user):
    return make_user("UPT", "member", email=RESEARCHER, full_name="Mihai Popescu", affiliation="researcher")


def test_researcher_requests_weekly_sessions_at_a_partner_lab(demo, researcher, live_server, page, assert_accessible):
    sim_centre = demo.ids["umft-sim-centre"]
    sign_in_with_the_form(page, live_server, RESEARCHER, PASSWORD)

    page.goto(f"{live_server}/resources/{sim_centre}")
    expect(page.locator("main h1")).to_have_text("Medical Simulation Centre")
    # Price and approval are stated before anything is sent.
    expect(page.locator(".policy")).to_contain_text("Your price: 150.00 RON per hour and unit.")
    expect(page.locator(".policy")).to_contain_text("Your request will need a manager's approval.")

    form = page.locator("form.booking-form")
    form.get_by_label("Purpose").fill("Simulare: curs de resuscitare")
    form.get_by_label("Date").fill("2026-11-10")
    form.get_by_label("From").fill("10:00")
    form.get_by_label("To").fill("12:00")
    form.get_by_label("Repeat").select_option(label="Every week")
    form.get_by_label("Number of sessions").fill("6")
    form.get_by_role("button", name="Book").click()

    expect(page).to_have_url(f"{live_server}/bookings")
    flash = page.locator(".flash-info")
    expect(flash).to_have_text("Your request is pending: a manager of UMFT will decide.")
    expect(flash).to_have_attribute("role", "status")
    card = page.locator(".booking-card", has_text="Medical Simulation Centre")
    expect(card.locator(".status")).to_have_text("pending")
    expect(card.locator(".occurrences > li")).to_have_count(6)
    expect(card.locator(".occurrences > li").first).to_contain_text("Tue 10 Nov 2026, 10:00")
    expect(card.locator(".occurrences > li").last).to_contain_text("Tue 15 Dec 2026, 10:00")
    assert_accessible(page)

    [booking] = fresh(select(Booking).where(Booking.requester_id == researcher.id))
    assert (booking.status, booking.recurrence, booking.resource_id) == ("pending", "FREQ=WEEKLY;COUNT=6", sim_centre)
    starts = [o.start_at for o in booking.occurrences]
    # 10:00 in Timișoara every Tuesday (UTC+2 all along: no DST change in this span).
    assert starts[0] == datetime(2026, 11, 10, 8, 0, tzinfo=UTC) and len(starts) == 6
    assert {(s.weekday(), s.hour) for s in starts} == {(1, 8)}


def test_manager_approves_and_the_researcher_sees_it_confirmed(demo, researcher, live_server, new_page):
    booking, _ = bookings.create_booking(
        researcher,
        resource_id=demo.ids["umft-sim-centre"],
        start=datetime(2026, 11, 10, 10),
        end=datetime(2026, 11, 10, 12),
        title="Simulare: curs de resuscitare",
        recurrence="FREQ=WEEKLY;COUNT=6",
        now=clock.now(),
    )
    db.session.commit()
    booking_id = booking.id

    manager = new_page()
    sign_in_with_the_form(manager, live_server, demo.users["manager.umft"], demo.password)
    manager.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    expect(manager.locator("main h1")).to_have_text("Approvals")
    request = manager.locator(".card", has_text="Simulare: curs de resuscitare")
    expect(request).to_contain_text("Mihai Popescu (UPT)")
    expect(request.locator(".occurrences > li")).to_have_count(6)
    request.get_by_label("Reason (optional)").fill("Bine ați venit!")
    request.get_by_role("button", name="Approve").click()
    expect(manager.locator(".flash-success")).to_have_text("Approved: Simulare: curs de resuscitare.")
    expect(manager.locator("main")).to_contain_text("No requests wait for a decision.")

    mails = fresh(select(OutboxMessage).where(OutboxMessage.booking_id == booking_id, OutboxMessage.kind == "approved"))
    assert RESEARCHER in {m.to_email for m in mails}
    mail = next(m for m in mails if m.to_email == RESEARCHER)
    assert mail.sent_at is None and "BEGIN:VCALENDAR" in mail.ics and "Bine ați venit!" in mail.body

    page = new_page()
    sign_in_with_the_form(page, live_server, RESEARCHER, PASSWORD)
    page.goto(f"{live_server}/bookings")
    card = page.locator(f"#booking-{booking_id}")
    expect(card.locator(".status")).to_have_text("confirmed")
    expect(card).to_contain_text("Bine ați venit!")
    [stored] = fresh(select(Booking).where(Booking.id == booking_id))
    assert stored.status == "confirmed" and all(o.active for o in stored.occurrences)


def test_student_books_a_court_on_a_phone(demo, live_server, new_page):
    # A touch phone with a Romanian browser.
    page = new_page(locale="ro-RO", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    student = demo.users["member.uvt"]

    page.goto(live_server)
    expect(page.locator("html")).to_have_attribute("lang", "ro")
    page.get_by_role("link", name="Autentificare").tap()
    page.get_by_label("E-mail").tap()
    page.get_by_label("E-mail").fill(student)
    page.get_by_label("Parolă").fill(demo.password)
    page.get_by_role("button", name="Autentificare").tap()
    expect(page.locator(".flash-success")).to_contain_text("Bun venit")

    page.get_by_role("link", name="Bază sportivă").tap()
    expect(page).to_have_url(re.compile(r"/resources\?kind=sports$"))
    page.get_by_role("link", name="Sala de sport UVT – terenul 1").tap()
    expect(page.locator("main h1")).to_have_text("Sala de sport UVT – terenul 1")
    expect(page.locator(".policy")).to_contain_text("Pentru dvs. este gratuit.")

    form = page.locator("form.booking-form")
    form.get_by_label("Scop").fill("Baschet cu colegii")
    form.get_by_label("Data").fill("2026-11-03")
    form.get_by_label("De la").fill("18:00")
    form.get_by_label("Până la").fill("19:00")
    form.get_by_role("button", name="Rezervă").tap()

    expect(page).to_have_url(f"{live_server}/bookings")
    expect(page.locator(".flash-success")).to_have_text("Rezervare confirmată: Baschet cu colegii.")
    card = page.locator(".booking-card", has_text="Baschet cu colegii")
    expect(card.locator(".status")).to_have_text("confirmată")
    expect(card.locator(".occurrences")).to_contain_text("18:00")
    [booking] = fresh(select(Booking).where(Booking.title == "Baschet cu colegii"))
    assert booking.status == "confirmed" and booking.resource_id == demo.ids["uvt-court-1"]
    assert booking.occurrences[0].start_at == to_utc(datetime(2026, 11, 3, 18), "Europe/Bucharest")


def test_a_clash_is_explained_and_a_suggested_slot_is_booked_in_one_click(
    demo, researcher, live_server, page, assert_accessible
):
    lab = demo.ids["uvt-lab-computers"]
    bookings.create_booking(
        demo.user("member.uvt"),
        resource_id=lab,
        start=datetime(2026, 11, 10, 10),
        end=datetime(2026, 11, 10, 12),
        title="Seminar",
        now=clock.now(),
    )
    db.session.commit()
    sign_in_with_the_form(page, live_server, RESEARCHER, PASSWORD)

    page.goto(f"{live_server}/resources/{lab}")
    form = page.locator("form.booking-form")
    form.get_by_label("Purpose").fill("Programare paralelă")
    form.get_by_label("Date").fill("2026-11-10")
    form.get_by_label("From").fill("11:00")
    form.get_by_label("To").fill("12:00")
    form.get_by_role("button", name="Book").click()

    conflict = page.get_by_role("alert")
    expect(conflict).to_contain_text("This cannot be booked as asked")
    expect(conflict).to_contain_text("Tue 10 Nov 2026, 11:00 – Tue 10 Nov 2026, 12:00: it is already booked then")
    suggestions = conflict.locator(".suggestions button.suggestion")
    expect(suggestions.first).to_be_visible()
    assert_accessible(page)
    # The first suggestion is the nearest free hour: after the seminar and its 10-minute buffer.
    first = conflict.locator(".suggestions li").first
    date = first.locator("input[name=date]").input_value()
    start = first.locator("input[name=start_time]").input_value()
    end = first.locator("input[name=end_time]").input_value()
    assert (date, end) == (
        "2026-11-10",
        (datetime.strptime(start, "%H:%M").replace(hour=int(start[:2]) + 1)).strftime("%H:%M"),
    )
    assert start >= "12:10"
    suggestions.first.click()

    expect(page).to_have_url(f"{live_server}/bookings")
    expect(page.locator(".flash-success")).to_have_text("Booked: Programare paralelă.")
    [booking] = fresh(select(Booking).where(Booking.requester_id == researcher.id))
    assert booking.status == "confirmed" and booking.title == "Programare paralelă"
    local_start = datetime.fromisoformat(f"{date}T{start}")
    assert booking.occurrences[0].start_at == to_utc(local_start, "Europe/Bucharest")
