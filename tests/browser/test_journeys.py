"""The main journeys end to end in a real Chromium, on the demo catalogue.

The business clock is pinned to Monday 2 November 2026, 09:00 in Timișoara (TestingConfig.CLOCK_NOW).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.zones import to_utc
from bookings import services as bookings
from bookings.models import Booking
from notifications.mails import compose
from notifications.models import OutboxMessage
from tests.conftest import PASSWORD

# The live server answers from its own thread and connections: the data must be committed.
pytestmark = [pytest.mark.browser, pytest.mark.committed]

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
    # Sent empty first: each missing field says so, tied to the field for screen readers.
    form.get_by_role("button", name="Book").click()
    purpose = form.get_by_label("Purpose")
    expect(purpose).to_have_attribute("aria-invalid", "true")
    expect(purpose).to_have_accessible_description("This field is required.")
    expect(form.get_by_label("Date")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)

    purpose.fill("Simulare: curs de resuscitare")
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
    nav = manager.get_by_role("navigation", name="Main")
    nav.get_by_text("Manage", exact=True).click()  # the managers' menu in the header
    nav.get_by_role("link", name="Approvals").click()
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
    try:
        unsent, text = mail.sent_at is None, compose(mail)  # rendered as the send-mail job will, from the row
    finally:
        db.session.rollback()  # end the read at once, as `fresh` does
    assert unsent and "BEGIN:VCALENDAR" in text.ics and "Bine ați venit!" in text.body

    page = new_page()
    sign_in_with_the_form(page, live_server, RESEARCHER, PASSWORD)
    page.goto(f"{live_server}/bookings")
    card = page.locator(f"#booking-{booking_id}")
    expect(card.locator(".status")).to_have_text("confirmed")
    expect(card).to_contain_text("Bine ați venit!")
    [stored] = fresh(select(Booking).where(Booking.id == booking_id))
    assert stored.status == "confirmed" and all(o.active for o in stored.occurrences)


def test_student_books_a_court_on_a_phone(demo, live_server, new_page, assert_accessible):
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
    assert_accessible(page)

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
    # The first suggestion is the nearest free hour.
    first = conflict.locator(".suggestions li").first
    date = first.locator("input[name=date]").input_value()
    start = first.locator("input[name=start_time]").input_value()
    end = first.locator("input[name=end_time]").input_value()
    local_start = datetime.fromisoformat(f"{date}T{start}")
    # Same day, same length (one hour), after the seminar and its 10-minute buffer.
    assert date == "2026-11-10" and start >= "12:10", (date, start)
    assert datetime.fromisoformat(f"{date}T{end}") - local_start == timedelta(hours=1)
    suggestions.first.click()

    expect(page).to_have_url(f"{live_server}/bookings")
    expect(page.locator(".flash-success")).to_have_text("Booked: Programare paralelă.")
    [booking] = fresh(select(Booking).where(Booking.requester_id == researcher.id))
    assert booking.status == "confirmed" and booking.title == "Programare paralelă"
    assert booking.occurrences[0].start_at == to_utc(local_start, "Europe/Bucharest")


def test_language_choice_switches_texts_and_sticks_across_pages(demo, researcher, live_server, new_page):
    page = new_page(locale="ro-RO")  # a Romanian browser
    html, h1 = page.locator("html"), page.locator("main h1")
    switch = page.get_by_role("navigation", name=re.compile("^(Limba|Language)$"))
    aula = f"{live_server}/resources/{demo.ids['umft-aula-magna']}"

    page.goto(aula)
    expect(html).to_have_attribute("lang", "ro")
    expect(h1).to_have_text("Aula Magna UMFT")
    expect(page.get_by_role("link", name="Salt la conținut")).to_be_attached()

    switch.get_by_role("link", name="English").click()
    expect(html).to_have_attribute("lang", "en")
    assert page.url == aula  # back on the same page
    expect(h1).to_have_text("UMFT Aula Magna")
    expect(page.locator("#facts-heading")).to_have_text("Details")
    # The choice beats the browser's language on every following page, signed in or not.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalogue").click()
    expect(html).to_have_attribute("lang", "en")
    expect(h1).to_have_text("Catalogue")
    sign_in_with_the_form(page, live_server, RESEARCHER, PASSWORD)
    expect(page.locator(".flash-success")).to_have_text("Welcome, Mihai Popescu.")
    page.get_by_role("link", name="My bookings").click()
    expect(html).to_have_attribute("lang", "en")
    expect(h1).to_have_text("My bookings")

    switch.get_by_role("link", name="Română").click()
    expect(html).to_have_attribute("lang", "ro")
    assert page.url == f"{live_server}/bookings"
    expect(h1).to_have_text("Rezervările mele")
    expect(switch.get_by_role("link", name="Română")).to_have_attribute("aria-current", "true")
    # A new tab of the same browser keeps it too.
    other = page.context.new_page()
    other.goto(f"{live_server}/resources")
    expect(other.locator("html")).to_have_attribute("lang", "ro")
    expect(other.locator("main h1")).to_have_text("Catalog")
    expect(other.get_by_role("navigation", name="Principal")).to_contain_text("Rezervările mele")
    other.close()


def test_flash_messages_are_announced_and_told_apart(demo, live_server, page):
    def look(locator):
        return locator.evaluate(
            "el => { const s = getComputedStyle(el), icon = getComputedStyle(el, '::before');"
            " return {background: s.backgroundColor, border: s.borderLeftColor, icon: icon.content}; }"
        )

    sign_in_with_the_form(page, live_server, demo.users["manager.umft"], demo.password)
    success = page.locator(".flash-success")
    expect(success).to_have_attribute("role", "status")  # polite: read when the reader is idle
    success_look = look(success)

    page.goto(f"{live_server}/statements?month=2020-13")
    error = page.locator(".flash")
    expect(error).to_have_class(re.compile(r"\bflash-error\b"))
    expect(error).to_have_attribute("role", "alert")  # assertive: read at once
    error_look = look(error)

    for key in ("background", "border", "icon"):
        assert error_look[key] != success_look[key], (key, error_look, success_look)
    assert "rgb(255, 255, 255)" not in (error_look["background"], success_look["background"])
    assert "none" not in (error_look["icon"], success_look["icon"])


FOCUSED = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
  const box = el.getBoundingClientRect();
  return {tag: el.tagName.toLowerCase(), id: el.id, type: el.type || '',
          text: (el.innerText || el.value || '').trim().slice(0, 80),
          visible: ring, inside: box.width > 0 && box.right > 0 && box.left < innerWidth};
}"""


def focused(page) -> dict:
    return page.evaluate(FOCUSED)


def tab_to(page, wanted, key: str = "Tab", limit: int = 80) -> dict:
    """Press Tab (or Shift+Tab) until the focused element matches; every stop on the way must show its focus."""
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        state = focused(page)
        if state["tag"] not in ("body", "main"):
            assert state["visible"] and state["inside"], f"focus is not visible on {state}"
        if wanted(state):
            return state
        seen.append(f"{state['tag']}#{state['id']} {state['text'][:30]!r}")
    raise AssertionError(f"{key} never reached the element; visited: {seen}")


def test_booking_with_the_keyboard_only(demo, researcher, live_server, page):
    page.goto(live_server)
    # First Tab: the skip link appears on screen; Enter moves focus to the main content.
    skip = tab_to(page, lambda f: True)
    assert skip["text"] == "Skip to content" and skip["visible"] and skip["inside"], skip
    expect(page.get_by_role("link", name="Skip to content")).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    expect(page).to_have_url(re.compile("#main$"))

    # Back up into the header to sign in.
    tab_to(page, lambda f: f["text"] == "Sign in", key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.locator("main h1")).to_have_text("Sign in")
    tab_to(page, lambda f: f["id"] == "email")
    page.keyboard.type(RESEARCHER)
    tab_to(page, lambda f: f["id"] == "password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_have_text("Welcome, Mihai Popescu.")

    # Find the lab through the catalogue's text filter.
    tab_to(page, lambda f: f["text"] == "Catalogue")
    page.keyboard.press("Enter")
    expect(page.locator("main h1")).to_have_text("Catalogue")
    tab_to(page, lambda f: f["id"] == "q")
    page.keyboard.type("045C")
    page.keyboard.press("Enter")
    expect(page.locator("#result-count")).to_have_text("1 resource")
    tab_to(page, lambda f: f["text"] == "Computer Lab 045C")
    page.keyboard.press("Enter")
    expect(page.locator("main h1")).to_have_text("Computer Lab 045C")

    # The booking form: type into each field; date and time inputs take digits segment by segment.
    tab_to(page, lambda f: f["id"] == "title")
    page.keyboard.type("Consultații proiect")
    tab_to(page, lambda f: f["id"] == "date")
    page.keyboard.type("11102026")
    tab_to(page, lambda f: f["id"] == "start_time")
    page.keyboard.type("1000AM")
    tab_to(page, lambda f: f["id"] == "end_time")
    page.keyboard.type("1130AM")
    expect(page.locator("#date")).to_have_value("2026-11-10")
    expect(page.locator("#start_time")).to_have_value("10:00")
    expect(page.locator("#end_time")).to_have_value("11:30")
    tab_to(page, lambda f: f["type"] == "submit" and f["text"] == "Book")
    page.keyboard.press("Space")

    expect(page).to_have_url(f"{live_server}/bookings")
    expect(page.locator(".flash-success")).to_have_text("Booked: Consultații proiect.")
    card = page.locator(".booking-card", has_text="Consultații proiect")
    expect(card.locator(".status")).to_have_text("confirmed")
    expect(card.locator(".occurrences")).to_contain_text("Tue 10 Nov 2026, 10:00 – Tue 10 Nov 2026, 11:30")
    [booking] = fresh(select(Booking).where(Booking.requester_id == researcher.id))
    assert booking.status == "confirmed" and booking.resource_id == demo.ids["uvt-lab-computers"]
    assert booking.occurrences[0].start_at == to_utc(datetime(2026, 11, 10, 10), "Europe/Bucharest")
    assert booking.occurrences[0].end_at == to_utc(datetime(2026, 11, 10, 11, 30), "Europe/Bucharest")
