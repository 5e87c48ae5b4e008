"""Search results on /, the week calendar on a resource page, and the day timeline, in both languages."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape

import pytest

from tests.conftest import ENGLISH

D = "2026-11-10"  # a Tuesday; the test clock is Monday 2026-11-02 09:00 in Bucharest
HOURS = {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
ROMANIAN = {"Accept-Language": "ro"}


def links(page: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]+)"', page)]


# --- search on / ---------------------------------------------------------------------------------


def test_search_shows_free_resources_with_one_click_booking_and_next_free_times(
    client, api_for, make_user, make_resource
):
    free = make_resource("UVT", name="Laborator liber", name_en="Free lab", visibility="public", opening_hours=HOURS)
    taken = make_resource("UPT", name="Laborator ocupat", name_en="Busy lab", visibility="public", opening_hours=HOURS)
    make_resource("UMFT", name="Laborator UMFT", visibility="public")
    api_for(make_user("UPT")).book(taken, f"{D}T10:00", f"{D}T12:00")

    query = f"kind=lab&date={D}&start_time=10:00&end_time=12:00&institutions=UVT&institutions=UPT"
    page = client.get(f"/?{query}", headers=ENGLISH).text

    assert "1 resource is free then" in page
    assert "Free lab" in page and "Laborator UMFT" not in page
    assert f"/resources/{free.id}?date={D}&start=10:00&end=12:00#book" in links(page)
    assert "Taken then — free next" in page and "Busy lab" in page
    assert f"/timeline?date={D}&kind=lab" in links(page)
    assert f"/resources/{taken.id}?date={D}&start=12:00&end=14:00#book" in links(page)
    assert re.search(r"Tue 10 Nov, 12:00–14:00", page)
    # The ticked universities stay ticked.
    assert re.search(r'<input[^>]*checked[^>]*value="UPT"|<input[^>]*value="UPT"[^>]*checked', page)

    romanian = client.get(f"/?{query}", headers=ROMANIAN).text
    assert "1 resursă este liberă atunci" in romanian
    assert "Laborator liber" in romanian and "Ocupate atunci — libere apoi" in romanian


def test_search_by_nights_links_to_a_prefilled_stay(client, make_resource):
    room = make_resource("UVT", kind="dorm", name="Camera 7", visibility="public")
    page = client.get("/?date=2026-11-10&nights=3", headers=ENGLISH).text
    assert "Camera 7" in page
    assert f"/resources/{room.id}?date=2026-11-10&nights=3#book" in links(page)


@pytest.mark.parametrize(
    "query, message",
    [
        ("date=2026-11-10&start_time=10:00", "Give a date, a start and an end time together."),
        ("date=2026-11-10&nights=2&start_time=10:00&end_time=11:00", "Give either a time range or a number of nights."),
        ("nights=2", "Give the check-in date with the number of nights."),
        ("date=2026-11-10&nights=2&kind=lab", "Nights apply to dorm rooms."),
        ("date=2026-11-10&nights=500", "Number must be between 1 and 60."),
        ("date=2027-03-28&start_time=03:30&end_time=05:00", "does not exist"),
    ],
)
def test_search_explains_bad_input_on_the_form(client, make_resource, query, message):
    make_resource("UVT", visibility="public")
    response = client.get(f"/?{query}", headers=ENGLISH)
    assert response.status_code == 422
    assert 'class="field-error"' in response.text and message in response.text


def test_search_without_when_lists_matches(client, make_resource):
    make_resource("UVT", kind="sports", name="Teren de tenis", visibility="public")
    make_resource("UVT", kind="lab", name="Laborator", visibility="public")
    page = client.get("/?kind=sports", headers=ENGLISH).text
    assert "1 resource<" in page and "Teren de tenis" in page and "Laborator<" not in page


# --- prefilled booking form ------------------------------------------------------------------------


def test_resource_page_prefills_the_booking_form(client, auth, member, make_resource):
    lab = make_resource("UVT", visibility="public")
    room = make_resource("UVT", kind="dorm", visibility="public")
    auth.login(member.email)
    page = client.get(f"/resources/{lab.id}?date={D}&start=10:00&end=12:30", headers=ENGLISH).text
    assert f'id="date" name="date" required type="date" value="{D}"' in page
    assert re.search(r'id="start_time"[^>]*value="10:00"', page) and re.search(r'id="end_time"[^>]*value="12:30"', page)
    stay = client.get(f"/resources/{room.id}?date={D}&nights=3", headers=ENGLISH).text
    assert re.search(rf'id="check_in"[^>]*value="{D}"', stay) and re.search(
        r'id="check_out"[^>]*value="2026-11-13"', stay
    )
    ignored = client.get(f"/resources/{lab.id}?date=garbage&start=99:99&end=", headers=ENGLISH)
    assert ignored.status_code == 200 and not re.search(r'id="start_time"[^>]*value="\d', ignored.text)


# --- the week calendar -----------------------------------------------------------------------------


def test_week_calendar_lists_each_day_with_text_not_only_colours(
    client, auth, make_user, make_resource, make_booking, make_block
):
    lab = make_resource("UVT", name="Laborator", visibility="public", opening_hours=HOURS)
    alice, bob = make_user("UVT"), make_user("UVT")
    make_booking(lab, alice, datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 12), title="Alice seminar")
    make_booking(lab, bob, datetime(2026, 11, 10, 12), datetime(2026, 11, 10, 13), title="Bob secret")
    make_block(lab, datetime(2026, 11, 11, 9), datetime(2026, 11, 11, 10), reason="Revizie")
    auth.login(alice.email)

    page = client.get(f"/resources/{lab.id}?week={D}", headers=ENGLISH).text
    assert "Week of 9 November 2026" in page
    assert re.search(r"10:00–12:00</span> <span class=\"slot-label\">Yours: Alice seminar", page)
    assert re.search(r"12:00–13:00</span> <span class=\"slot-label\">Booked<", page)
    assert "Blocked: Revizie" in page and "Closed" in page
    assert "Bob secret" not in page
    assert f"/resources/{lab.id}?week=2026-11-02#week" in links(page)
    assert f"/resources/{lab.id}?week=2026-11-16#week" in links(page)
    # Free stretches are links to the form prefilled for their first hour.
    assert f"/resources/{lab.id}?date={D}&start=13:00&end=14:00#book" in links(page)
    # Public: the feed, also as webcal.
    assert f"http://localhost/calendars/resources/{lab.id}.ics" in links(page)
    assert f"webcal://localhost/calendars/resources/{lab.id}.ics" in links(page)

    romanian = client.get(f"/resources/{lab.id}?week={D}", headers=ROMANIAN).text
    assert "Săptămâna din 9 noiembrie 2026" in romanian
    assert "Rezervarea dvs.: Alice seminar" in romanian and "Ocupat" in romanian and "Închis" in romanian


def test_week_calendar_day_tabs_and_defaults(client, make_resource):
    lab = make_resource("UVT", visibility="public")
    page = client.get(f"/resources/{lab.id}", headers=ENGLISH).text
    assert "Week of 2 November 2026" in page
    assert re.search(r'class="week-day is-shown is-today"[^>]*data-day="2026-11-02"', page)
    chosen = client.get(f"/resources/{lab.id}?week={D}&day=2026-11-12", headers=ENGLISH).text
    assert re.search(r'class="week-day is-shown"[^>]*data-day="2026-11-12"', chosen)
    assert re.search(r'data-day="2026-11-12" aria-current="date"', chosen)
    # A bad week falls back to this week rather than failing.
    assert "Week of 2 November 2026" in client.get(f"/resources/{lab.id}?week=bad", headers=ENGLISH).text


def test_feed_link_only_for_public_resources(client, auth, member, make_resource):
    lab = make_resource("UVT", visibility="alliance")
    auth.login(member.email)
    page = client.get(f"/resources/{lab.id}", headers=ENGLISH).text
    assert ".ics" not in page and "webcal" not in page


# --- the day timeline ------------------------------------------------------------------------------


def test_timeline_page(client, auth, api_for, make_user, make_resource):
    lab = make_resource("UVT", name="Laborator A", visibility="public", opening_hours=HOURS)
    make_resource("UPT", kind="sports", name="Teren B", visibility="public")
    make_resource("UPT", name="Intern", visibility="institution")
    member = make_user("UVT")
    api_for(member).book(lab, f"{D}T10:00", f"{D}T11:00", title="Curs")
    auth.login(member.email)

    page = client.get(f"/timeline?date={D}", headers=ENGLISH).text
    assert "Timeline of Tuesday 10 November 2026" in page and "2 resources" in page
    assert "Laborator A" in page and "Teren B" in page and "Intern" not in page
    assert '10:00–11:00</span> <span class="slot-label">Yours: Curs' in page
    assert f"/resources/{lab.id}?date={D}&start=11:00&end=12:00#book" in links(page)
    assert "/timeline?date=2026-11-09" in links(page) and "/timeline?date=2026-11-11" in links(page)
    assert 'aria-current="page"' in page.split('href="/timeline"')[1][:40]

    sports = client.get(f"/timeline?date={D}&kind=sports", headers=ENGLISH).text
    assert "Teren B" in sports and "Laborator A" not in sports and "1 resource" in sports
    assert "/timeline?date=2026-11-11&kind=sports" in links(sports)

    romanian = client.get(f"/timeline?date={D}", headers=ROMANIAN).text
    assert "Cronologia zilei: marți 10 noiembrie 2026" in romanian and "Rezervarea dvs.: Curs" in romanian


@pytest.mark.parametrize("query", ["date=2026-02-30", "date=0001-01-01", "kind=castle", "institution=MIT"])
def test_timeline_bad_filters(client, query):
    response = client.get(f"/timeline?{query}", headers=ENGLISH)
    assert response.status_code == 422 and 'class="field-error"' in response.text


def test_timeline_caps_rows(client, make_resource):
    for index in range(42):
        make_resource("UVT", name=f"Sala {index:02d}", visibility="public")
    page = client.get(f"/timeline?date={D}", headers=ENGLISH).text
    assert "42 resources — showing the first 40" in page
    assert page.count('<th scope="row"') == 40


def test_a_refused_booking_shows_the_week_asked_for(client, auth, api_for, make_user, make_resource):
    lab = make_resource("UVT", opening_hours=HOURS)
    api_for(make_user("UVT")).book(lab, f"{D}T10:00", f"{D}T12:00")
    member = make_user("UVT")
    auth.login(member.email)
    response = client.post(
        f"/resources/{lab.id}/book",
        data={"title": "Clash", "date": D, "start_time": "11:00", "end_time": "12:00", "units": "1"},
        headers=ENGLISH,
    )
    assert response.status_code == 409
    assert "Week of 9 November 2026" in response.text
    assert re.search(r'class="week-day is-shown"[^>]*data-day="2026-11-10"', response.text)
