"""Joint events in a real Chromium: an organiser builds a symposium across three universities, checks
availability per item, books it all at once, reads the programme, moves it by a day; the programme on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from events.models import Event
from resources import services as catalogue
from tests.conftest import PASSWORD

# The live server answers from its own thread and connections: the data must be committed.
pytestmark = [pytest.mark.browser, pytest.mark.committed]


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.fixture
def symposium_venues(admin, make_resource):
    site = catalogue.create_site(admin, institution="UPT", name="Rectorat UPT", address="Piața Victoriei 2")
    db.session.commit()
    aula = make_resource("UPT", "room", name="Aula Magna UPT", site_id=site.id, visibility="public")
    seminar = make_resource("UVT", "room", name="Sala 201 UVT", approval="all", visibility="public")
    beds = make_resource("USVT", "dorm", name="Cămin USVT, camera 12", units=20, capacity=20)
    return aula, seminar, beds


def test_organiser_builds_checks_books_and_moves_a_symposium(live_server, new_page, make_user, symposium_venues):
    aula, seminar, beds = symposium_venues
    organiser = make_user("UMFT", email="org@umft.example.org", full_name="Dana Org")
    page = new_page()
    sign_in(page, live_server, organiser.email)
    page.get_by_role("link", name="Events").click()
    page.get_by_role("link", name="Plan an event").click()

    page.locator("#title").fill("Simpozion ATU")
    page.locator("#visibility").select_option("public")
    page.locator("#items-0-resource_id").select_option(str(aula.id))
    page.locator("#items-0-title").fill("Deschidere")
    page.locator("#items-0-date").fill("2026-11-10")
    page.locator("#items-0-start_time").fill("09:00")
    page.locator("#items-0-end_time").fill("12:00")
    page.locator("#items-1-resource_id").select_option(str(seminar.id))
    page.locator("#items-1-date").fill("2026-11-10")
    page.locator("#items-1-start_time").fill("14:00")
    page.locator("#items-1-end_time").fill("17:00")
    page.locator("#items-2-resource_id").select_option(str(beds.id))
    page.locator("#items-2-date").fill("2026-11-09")
    page.locator("#items-2-nights").fill("2")
    page.locator("#items-2-units").fill("10")

    page.get_by_role("button", name="Check availability").click()
    statuses = page.locator(".item-status")
    expect(statuses).to_have_text(
        ["Free — confirmed at once", "Free — needs the manager's approval", "Free — confirmed at once"]
    )
    assert db.session.scalar(select(Event.id)) is None  # a check books nothing

    page.get_by_role("button", name="Book everything").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Simpozion ATU")
    expect(page.locator(".flash-success")).to_contain_text("every item is reserved")
    expect(page.locator(".programme-day")).to_have_text(["Tuesday, November 10, 2026"])
    expect(page.locator(".programme .session-what strong").first).to_have_text("Deschidere")
    expect(page.get_by_text("Piața Victoriei 2")).to_be_visible()
    expect(page.get_by_role("heading", name="Guest accommodation")).to_be_visible()

    page.get_by_role("link", name="Change this event").click()
    page.locator("#shift-days").select_option("1")
    page.get_by_role("button", name="Move the event").click()
    expect(page.locator(".flash-success")).to_contain_text("moved by 1 day")
    expect(page.locator(".programme-day")).to_have_text(["Wednesday, November 11, 2026"])


def test_programme_on_a_phone_in_romanian(live_server, new_page, api_for, make_user, symposium_venues):
    aula, seminar, _ = symposium_venues
    event = (
        api_for(make_user("UVT"))
        .post(
            "/api/v1/events",
            {
                "title": "Atelier ATU",
                "visibility": "public",
                "items": [
                    {
                        "resource_id": aula.id,
                        "start": "2026-11-10T09:00",
                        "end": "2026-11-10T12:00",
                        "title": "Deschidere",
                    },
                    {"resource_id": seminar.id, "start": "2026-11-11T14:00", "end": "2026-11-11T17:00"},
                ],
            },
        )
        .get_json()
    )
    page = new_page(locale="ro-RO", viewport={"width": 360, "height": 780}, is_mobile=True, has_touch=True)
    page.goto(f"{live_server}/events/{event['id']}")
    expect(page.locator("html")).to_have_attribute("lang", "ro")
    expect(page.locator(".programme-day")).to_have_text(["marți, 10 noiembrie 2026", "miercuri, 11 noiembrie 2026"])
    expect(page.get_by_role("link", name="Abonare (webcal)")).to_have_attribute(
        "href", f"webcal://{live_server.split('://')[1]}/calendars/events/{event['id']}.ics"
    )
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
