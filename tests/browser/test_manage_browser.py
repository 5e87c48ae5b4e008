"""Manage pages in a real Chromium: a manager edits a resource on a phone, an admin changes a role,
a member reschedules a booking."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from accounts.models import User
from app.extensions import db
from bookings.models import Occurrence
from resources.models import Resource
from tests.conftest import PASSWORD

# The live server answers from its own thread and connections: the data must be committed.
pytestmark = [pytest.mark.browser, pytest.mark.committed]


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    expect(page.locator(".flash-success")).to_contain_text("Welcome")


def no_horizontal_scroll(page) -> None:
    sizes = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth,"
        " client: document.documentElement.clientWidth})"
    )
    assert sizes["scroll"] <= sizes["client"] <= sizes["inner"], sizes


def test_manager_edits_a_resource_on_a_phone(make_user, make_resource, live_server, new_page):
    manager = make_user("UPT", "manager", email="manager@upt.example.org")
    resource = make_resource("UPT", "lab", name="Laborator de robotică", capacity=12)
    page = new_page(viewport={"width": 390, "height": 844})
    sign_in(page, live_server, manager.email)

    # The Manage menu opens on a phone and leads to the resources the manager looks after.
    page.get_by_text("Manage", exact=True).click()
    page.get_by_role("link", name="My resources").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My resources")
    no_horizontal_scroll(page)
    page.get_by_role("link", name=re.compile(r"^Settings\W+Laborator de robotică$")).click()
    expect(page.locator("#name")).to_have_value("Laborator de robotică")
    no_horizontal_scroll(page)

    # A mistake is shown on its field, and nothing is saved.
    page.locator("#hours_mon").fill("9 to 5")
    page.locator("#always_open").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#hours_mon-error")).to_contain_text("Write the hours like")
    expect(page.locator("#hours_mon")).to_have_attribute("aria-invalid", "true")
    no_horizontal_scroll(page)

    page.locator("#hours_mon").fill("08:00-20:00")
    page.locator("#capacity").fill("16")
    page.locator("#name_en").fill("Robotics lab")
    page.get_by_label("Projector").check()
    page.locator("#approval").select_option("partners")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-success")).to_have_text("Settings saved.")
    expect(page.locator("#capacity")).to_have_value("16")
    expect(page.get_by_label("Projector")).to_be_checked()

    db.session.expire_all()
    saved = db.session.get(Resource, resource.id)
    assert (saved.capacity, saved.name_en, saved.approval) == (16, "Robotics lab", "partners")
    assert saved.opening_hours == {"mon": [["08:00", "20:00"]]} and saved.features == ["projector"]

    # The other manage pages are one tap away and fit the phone too.
    page.get_by_role("link", name="Blocked periods").click()
    page.locator("#start_date").fill("2026-12-23")
    page.locator("#start_time").fill("08:00")
    page.locator("#end_date").fill("2027-01-05")
    page.locator("#end_time").fill("08:00")
    page.locator("#reason").fill("Vacanța de iarnă")
    page.get_by_role("button", name="Block this period").click()
    expect(page.locator(".flash-success")).to_have_text("Blocked period added.")
    expect(page.locator(".block-list")).to_contain_text("Vacanța de iarnă")
    no_horizontal_scroll(page)


def test_admin_changes_a_role(make_user, live_server, page):
    admin = make_user("UVT", "admin", email="admin@uvt.example.org")
    make_user("UMFT", "member", email="ion.popescu@umft.example.org", full_name="Ion Popescu")
    make_user("UMFT", "member", email="maria@umft.example.org", full_name="Maria Ionescu")
    sign_in(page, live_server, admin.email)

    # The menu opens from the keyboard and Escape closes it again (once the small script has run).
    page.wait_for_load_state("load")
    summary = page.locator(".manage-menu summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Users")).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    expect(page.get_by_role("link", name="Users")).to_be_hidden()
    expect(summary).to_be_focused()
    page.get_by_text("Manage", exact=True).click()
    page.get_by_role("link", name="Users").click()
    page.locator("#q").fill("popescu")
    page.locator("#institution").select_option("UMFT")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".manage-table tbody tr")).to_have_count(1)
    page.get_by_role("link", name="ion.popescu@umft.example.org").click()

    page.locator("#role").select_option(label="Manager")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-success")).to_have_text("Saved the changes to ion.popescu@umft.example.org.")
    expect(page.locator("#role")).to_have_value("manager")
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == "ion.popescu@umft.example.org"))
    assert user.role == "manager"

    # An admin cannot lock themselves out.
    page.goto(f"{live_server}/admin/users/{admin.id}")
    page.locator("#role").select_option("member")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#role-error")).to_have_text(
        "You cannot remove your own admin role; ask another administrator."
    )
    db.session.expire_all()
    assert db.session.get(User, admin.id).role == "admin"


def test_member_reschedules_a_booking(make_user, make_resource, api_for, live_server, page):
    member = make_user("UPT", "member", email="ana@upt.example.org")
    other = make_user("UPT", "member")
    lab = make_resource("UPT", "lab", name="Laborator de chimie")
    api_for(other).book(lab, "2026-11-12T14:00", "2026-11-12T16:00")
    booking = api_for(member).book(lab, "2026-11-10T10:00", "2026-11-10T12:00", title="Titrare")
    sign_in(page, live_server, member.email)

    page.goto(f"{live_server}/bookings")
    page.get_by_role("link", name=re.compile(r"^Reschedule\W+Titrare$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reschedule: Titrare")

    # A taken time is explained, with free times to move to instead.
    page.locator("#date").fill("2026-11-12")
    page.locator("#start_time").fill("15:00")
    page.locator("#end_time").fill("17:00")
    page.get_by_role("button", name="Move the booking").click()
    expect(page.locator("#conflict")).to_contain_text("It cannot be moved there")
    expect(page.locator("#conflict")).to_contain_text("it is already booked then")

    page.locator("#conflict button.suggestion").first.click()
    expect(page.locator(".flash-success")).to_contain_text("Moved: Titrare.")
    db.session.expire_all()
    moved = db.session.scalar(select(Occurrence).where(Occurrence.booking_id == booking["id"]))
    assert moved.start_at.isoformat() != "2026-11-10T08:00:00+00:00"
    # /bookings shows the new time.
    card = page.locator(f"#booking-{booking['id']}")
    expect(card.locator(f'time[datetime="{moved.start_at.isoformat()}"]')).to_be_visible()
