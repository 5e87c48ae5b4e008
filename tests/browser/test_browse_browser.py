"""Search → one click → prefilled form → booked; the timeline's free stretches; the week calendar on desktop and phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from bookings.models import Booking
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import PASSWORD

# The live server answers from its own thread and connections: the data must be committed.
pytestmark = [pytest.mark.browser, pytest.mark.committed]

D = "2026-11-10"  # a Tuesday; the test clock is Monday 2026-11-02 09:00 in Bucharest
HOURS = {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
PHONE = {"width": 390, "height": 844}


def sign_in(page, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def no_horizontal_scroll(page) -> None:
    sizes = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth,"
        " client: document.documentElement.clientWidth})"
    )
    assert sizes["scroll"] <= sizes["client"] <= sizes["inner"], sizes


def test_search_then_one_click_to_a_prefilled_form_then_booked(make_user, make_resource, api_for, live_server, page):
    member = make_user("UVT", email="ana@uvt.example.org")
    free = make_resource("UPT", name="Laborator de robotică", name_en="Robotics lab", opening_hours=HOURS)
    taken = make_resource("UVT", name="Laborator de chimie", name_en="Chemistry lab", opening_hours=HOURS)
    make_resource("UMFT", name="Laborator UMFT", name_en="UMFT lab")
    api_for(make_user("UVT")).book(taken, f"{D}T10:00", f"{D}T12:00")
    sign_in(page, live_server, member.email)

    page.goto(f"{live_server}/")
    page.locator("select#kind").select_option("lab")
    page.locator("#date").fill(D)
    page.locator("#start_time").fill("10:00")
    page.locator("#end_time").fill("12:00")
    page.get_by_label("UVT").check()
    page.get_by_label("UPT").check()
    page.get_by_role("button", name="Search", exact=True).click()

    expect(page.locator("#result-count")).to_have_text("1 resource is free then")
    expect(page.locator("#results .card h3")).to_have_text(["Robotics lab"])
    expect(page.locator("#busy-results .card h3")).to_have_text(["Chemistry lab"])
    expect(page.locator("#busy-results .next-slots a").first).to_have_text("Tue 10 Nov, 12:00–14:00")

    page.get_by_role("link", name=re.compile(r"^Book this time\s*:\s*Robotics lab$")).click()

    assert page.url.endswith(f"/resources/{free.id}?date={D}&start=10:00&end=12:00#book")
    expect(page.locator("#date")).to_have_value(D)
    expect(page.locator("#start_time")).to_have_value("10:00")
    expect(page.locator("#end_time")).to_have_value("12:00")
    page.locator("#title").fill("Robot arm calibration")
    page.locator(".booking-form").get_by_role("button", name="Book").click()

    expect(page.locator(".flash-success")).to_have_text("Booked: Robot arm calibration.")
    db.session.expire_all()
    booking = db.session.scalar(select(Booking).where(Booking.title == "Robot arm calibration"))
    assert booking is not None and booking.resource_id == free.id and booking.requester_id == member.id
    assert booking.occurrences[0].start_at.isoformat() == f"{D}T08:00:00+00:00"

    # The taken lab's next free time is one click away too.
    page.goto(f"{live_server}/?kind=lab&date={D}&start_time=10:00&end_time=12:00&institutions=UVT")
    page.locator("#busy-results .next-slots a").first.click()
    expect(page.locator("#start_time")).to_have_value("12:00")
    expect(page.locator("#end_time")).to_have_value("14:00")


def test_timeline_free_stretch_opens_a_prefilled_form(make_user, make_resource, api_for, live_server, page):
    member = make_user("UVT", email="dan@uvt.example.org")
    lab = make_resource("UVT", name="Laborator A", name_en="Lab A", opening_hours=HOURS)
    make_resource("UPT", kind="sports", name="Teren B", name_en="Court B")
    api_for(member).book(lab, f"{D}T10:00", f"{D}T11:00", title="Curs")
    sign_in(page, live_server, member.email)

    page.get_by_role("link", name="Timeline").click()
    page.locator("#date").fill(D)
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Timeline of Tuesday 10 November 2026")
    expect(page.locator("#timeline-count")).to_have_text("2 resources")
    row = page.locator("tbody tr").filter(has_text="Lab A")
    expect(row.locator(".slot-own")).to_contain_text("Yours: Curs")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "timeline_desktop.png"), full_page=True)
    free = row.locator(".slot-free a").nth(1)  # 11:00–20:00; its first hour, as from the keyboard
    free.focus()
    free.press("Enter")

    assert page.url.endswith(f"/resources/{lab.id}?date={D}&start=11:00&end=12:00#book")
    expect(page.locator("#date")).to_have_value(D)
    expect(page.locator("#start_time")).to_have_value("11:00")
    expect(page.locator("#end_time")).to_have_value("12:00")
    # The calendar beside the form opens on that day's week.
    expect(page.locator("#week-heading")).to_have_text("Week of 9 November 2026")

    # With a pointer, the half hour under it: 14:40 on the 07:00–22:00 scale → 14:30.
    page.go_back()
    free = page.locator("tbody tr").filter(has_text="Lab A").locator(".slot-free a").nth(1)
    box = free.bounding_box()
    assert box is not None
    free.click(position={"x": box["width"] * (14 + 40 / 60 - 11) / 9, "y": 5})
    expect(page.locator("#start_time")).to_have_value("14:30")
    expect(page.locator("#end_time")).to_have_value("15:30")


def test_timeline_on_a_phone_scrolls_inside_its_box(make_resource, live_server, new_page):
    for index in range(3):
        make_resource("UVT", name=f"Sala cu un nume destul de lung {index}", visibility="public", opening_hours=HOURS)
    page = new_page(viewport=PHONE)
    page.goto(f"{live_server}/timeline?date={D}")
    expect(page.locator("tbody tr")).to_have_count(3)
    no_horizontal_scroll(page)
    box = page.evaluate(
        "() => { const b = document.querySelector('.timeline-scroll'); return [b.scrollWidth, b.clientWidth]; }"
    )
    assert box[0] > box[1]  # the hours scroll inside the region, not the page


def test_week_calendar_next_and_previous_week(make_user, make_resource, api_for, live_server, page):
    member = make_user("UVT", email="ion@uvt.example.org")
    lab = make_resource("UVT", name="Laborator", name_en="Lab", opening_hours=HOURS, visibility="public")
    api_for(member).book(lab, f"{D}T10:00", f"{D}T12:00", title="Seminar")
    sign_in(page, live_server, member.email)

    page.goto(f"{live_server}/resources/{lab.id}")
    expect(page.locator("#week-heading")).to_have_text("Week of 2 November 2026")
    expect(page.locator(".week-day")).to_have_count(7)
    for day in page.locator(".week-day").all():
        expect(day).to_be_visible()
    expect(page.locator(".day-tabs")).to_be_hidden()

    page.get_by_role("link", name="Next week").click()
    expect(page.locator("#week-heading")).to_have_text("Week of 9 November 2026")
    tuesday = page.locator('.week-day[data-day="2026-11-10"]')
    expect(tuesday.locator(".slot-own")).to_have_text("10:00–12:00 Yours: Seminar")
    expect(tuesday.locator(".slot-closed").first).to_have_text("00:00–08:00 Closed")
    # The booking is drawn where 10:00 is: two of the twelve drawn hours below the top.
    top = tuesday.locator(".slot-own").evaluate("e => e.offsetTop / e.parentElement.clientHeight")
    assert abs(top - 2 / 12) < 0.01

    # A pointer click on the free 12:00–20:00 stretch books the half hour under the pointer (16:15 → 16:00).
    stretch = tuesday.locator(".slot-free a").nth(1)
    box = stretch.bounding_box()
    assert box is not None
    stretch.click(position={"x": 10, "y": box["height"] * 4.25 / 8})
    expect(page.locator("#date")).to_have_value(D)
    expect(page.locator("#start_time")).to_have_value("16:00")
    expect(page.locator("#end_time")).to_have_value("17:00")

    page.get_by_role("link", name="Previous week").click()
    expect(page.locator("#week-heading")).to_have_text("Week of 2 November 2026")

    # From the keyboard a free stretch opens the booking form beside the calendar, prefilled for its first hour.
    page.locator('.week-day[data-day="2026-11-03"] .slot-free a').first.press("Enter")
    expect(page.locator("#date")).to_have_value("2026-11-03")
    expect(page.locator("#start_time")).to_have_value("08:00")
    expect(page.locator("#end_time")).to_have_value("09:00")


def test_week_calendar_is_a_day_view_on_a_phone(make_user, make_resource, api_for, live_server, new_page):
    member = make_user("UVT", email="eva@uvt.example.org")
    lab = make_resource("UVT", name="Laborator cu un nume lung de tot", opening_hours=HOURS, visibility="public")
    api_for(member).book(lab, f"{D}T10:00", f"{D}T12:00", title="Seminar")
    page = new_page(viewport=PHONE)
    sign_in(page, live_server, member.email)

    page.goto(f"{live_server}/resources/{lab.id}?week={D}")
    visible = page.locator(".week-day:visible")
    expect(visible).to_have_count(1)
    expect(visible.locator("h3")).to_have_text("Mon 9 Nov")
    expect(page.locator(".day-tabs")).to_be_visible()
    no_horizontal_scroll(page)

    page.locator(".day-tabs").get_by_role("link", name="Tue 10").click()
    page.wait_for_url("**day=2026-11-10*")
    page.wait_for_load_state()
    expect(page.locator(".week-day:visible")).to_have_count(1)
    expect(page.locator(".week-day:visible h3")).to_have_text("Tue 10 Nov")
    expect(page.locator(".day-tabs a[aria-current=date]")).to_have_text("Tue 10")
    expect(page.locator(".week-day:visible .slot-own")).to_have_text("10:00–12:00 Yours: Seminar")
    no_horizontal_scroll(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "week_calendar_phone_day_view.png"), full_page=True)

    page.goto(f"{live_server}/?date={D}&start_time=10:00&end_time=12:00")
    expect(page.locator("#results-heading")).to_be_visible()
    no_horizontal_scroll(page)
    expect(page.locator("#result-count")).to_have_text("0 resources are free then")
    expect(page.locator("#busy-results .next-slots a").first).to_have_text("Tue 10 Nov, 12:00–14:00")
