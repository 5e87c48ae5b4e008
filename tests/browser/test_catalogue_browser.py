"""The catalogue in a real Chromium: filters, diacritics-insensitive search, language switch, sign-in, phone layout."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

# The live server answers from its own thread and connections: the data must be committed.
pytestmark = [pytest.mark.browser, pytest.mark.committed]

RO_CATALOG = Path(__file__).resolve().parents[2] / "translations" / "ro" / "LC_MESSAGES" / "messages.mo"


def result_names(page):
    return page.locator("#results .card h3")


def test_filters_by_kind_institution_and_capacity(make_resource, live_server, page):
    rows = [  # kind, institution, name, English name, capacity, visibility
        ("equipment", "UMFT", "Microscop confocal", "Confocal microscope", 4, "public"),
        ("equipment", "UMFT", "Spectrometru de masă", "Mass spectrometer", 8, "public"),
        ("equipment", "UMFT", "Microscop electronic", "Electron microscope", 2, "public"),  # too small
        ("lab", "UMFT", "Laborator de culturi celulare", "Cell culture lab", 10, "public"),  # other kind
        ("equipment", "UPT", "Imprimantă 3D", "3D printer", 6, "public"),  # other university
        ("equipment", "UMFT", "Citometru", "Flow cytometer", 5, "institution"),  # hidden from visitors
    ]
    for kind, institution, name, name_en, capacity, visibility in rows:
        make_resource(institution, kind, name=name, name_en=name_en, capacity=capacity, visibility=visibility)

    page.goto(f"{live_server}/resources")
    expect(page.locator("#result-count")).to_have_text("5 resources")

    page.locator("select#kind").select_option(label="Research equipment")
    page.locator("select#institution").select_option("UMFT")
    page.locator("#min_capacity").fill("3")
    page.get_by_role("button", name="Apply filters").click()

    expect(result_names(page)).to_have_text(["Confocal microscope", "Mass spectrometer"])
    expect(page.locator("#result-count")).to_have_text("2 resources")
    query = parse_qs(urlsplit(page.url).query)
    assert query["kind"] == ["equipment"] and query["institution"] == ["UMFT"] and query["min_capacity"] == ["3"]
    # The form keeps the chosen filters after the reload.
    expect(page.locator("select#kind")).to_have_value("equipment")
    expect(page.locator("select#institution")).to_have_value("UMFT")
    expect(page.locator("#min_capacity")).to_have_value("3")


def test_text_search_ignores_diacritics(make_resource, live_server, page):
    make_resource("UVT", "lab", name="Laborator de științe", capacity=20, visibility="public")
    make_resource("UVT", "sports", name="Sala de sport", capacity=40, visibility="public")

    page.goto(f"{live_server}/resources")
    page.locator("#q").fill("stiinte")
    page.get_by_role("button", name="Apply filters").click()

    expect(result_names(page)).to_have_text(["Laborator de științe"])
    expect(page.locator("#result-count")).to_have_text("1 resource")
    expect(page.locator("#q")).to_have_value("stiinte")


def test_language_switch_round_trip(make_resource, live_server, page):
    make_resource("UVT", "lab", name="Laborator de chimie", visibility="public")
    page.goto(f"{live_server}/resources?kind=lab")
    html = page.locator("html")
    ro_link = page.locator("nav.lang-switch a[data-lang=ro]")
    en_link = page.locator("nav.lang-switch a[data-lang=en]")

    expect(html).to_have_attribute("lang", "en")
    expect(page.locator("nav.main-nav")).to_contain_text("Catalogue")
    expect(en_link).to_have_attribute("aria-current", "true")
    expect(ro_link).not_to_have_attribute("aria-current", re.compile(".*"))

    page.get_by_role("link", name="Română").click()

    expect(html).to_have_attribute("lang", "ro")
    expect(ro_link).to_have_attribute("aria-current", "true")
    expect(en_link).not_to_have_attribute("aria-current", re.compile(".*"))
    # Redirected back to the same page, filters included.
    assert urlsplit(page.url).path == "/resources"
    assert parse_qs(urlsplit(page.url).query) == {"kind": ["lab"]}
    expect(page.locator("select#kind")).to_have_value("lab")
    if RO_CATALOG.exists():
        expect(page.locator("main h1")).to_have_text("Catalog")

    page.get_by_role("link", name="English").click()

    expect(html).to_have_attribute("lang", "en")
    expect(en_link).to_have_attribute("aria-current", "true")
    expect(page.locator("main h1")).to_have_text("Catalogue")
    assert urlsplit(page.url).path == "/resources"


def test_sign_in_with_the_keyboard_reveals_institution_resources(make_user, make_resource, live_server, page):
    make_user("UPT", "member", email="ana@upt.example.org")
    make_resource("UPT", "lab", name="Laborator de robotică", name_en="Robotics lab", visibility="institution")
    make_resource("UPT", "room", name="Aula Magna", visibility="public")

    page.goto(f"{live_server}/resources")
    expect(result_names(page)).to_have_text(["Aula Magna"])

    page.goto(f"{live_server}/login")
    page.locator("#email").fill("ana@upt.example.org")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")

    expect(page.locator("header .user-name")).to_have_text(re.compile(r"ana@upt\.example\.org · UPT"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.locator(".flash-success")).to_have_text("Welcome, ana@upt.example.org.")

    page.goto(f"{live_server}/resources")
    # Ordered by institution, then kind: the lab comes before the event room.
    expect(result_names(page)).to_have_text(["Robotics lab", "Aula Magna"])
    expect(page.locator("#result-count")).to_have_text("2 resources")


def test_catalogue_fits_a_phone_without_horizontal_scroll(make_resource, live_server, new_page):
    long_name = "Cămin studențesc nr. 1 cu o denumire foarte lungă pentru un ecran îngust"
    make_resource("USVT", "dorm", name=long_name, capacity=3, visibility="public")
    make_resource("UVT", "sports", name="Bază sportivă", capacity=200, visibility="public")
    # A plain 390x844 viewport, not is_mobile: Chromium's mobile emulation widens the layout viewport
    # to fit overflowing content, so window.innerWidth would grow with the overflow and hide it.
    page = new_page(viewport={"width": 390, "height": 844})

    page.goto(f"{live_server}/resources")
    expect(result_names(page)).to_have_count(2)

    sizes = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth,"
        " client: document.documentElement.clientWidth})"
    )
    assert sizes["inner"] == 390, sizes
    assert sizes["scroll"] <= sizes["inner"], sizes
    assert sizes["scroll"] <= sizes["client"], sizes
