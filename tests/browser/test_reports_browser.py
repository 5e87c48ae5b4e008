"""The reports page in a real Chromium, on a phone: a manager filters the period, reads the occupancy
chart's table as a screen reader would (by its caption and headers), and downloads the figures."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_manage_browser import no_horizontal_scroll, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.committed]
ROOT = Path(__file__).resolve().parents[2]


def test_a_manager_reads_the_chart_table_and_downloads_it(
    make_user, make_resource, make_booking, live_server, new_page
):
    manager = make_user("UPT", "manager", email="manager@upt.example.org")
    lab = make_resource("UPT", "lab", name="Laborator de robotică", opening_hours={"tue": [["08:00", "16:00"]]})
    make_booking(lab, make_user("UVT"), datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 12))
    page = new_page(viewport={"width": 390, "height": 844})
    sign_in(page, live_server, manager.email)

    page.goto(f"{live_server}/reports")
    page.locator("#from").fill("2026-11-10")
    page.locator("#to").fill("2026-11-10")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("img", name="Occupancy from 2026-11-10 to 2026-11-10")).to_be_visible()
    no_horizontal_scroll(page)

    table = page.get_by_role("table", name="Utilisation from 2026-11-10 to 2026-11-10")
    row = table.get_by_role("row", name="Laborator de robotică")
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    cells = [c.strip() for c in row.locator("th, td").all_inner_texts()]
    figures = dict(zip(headers, cells, strict=True))
    # 8 open hours on Tuesday 10 November, 2 booked: 25 %.
    assert (figures["Open hours"], figures["Booked hours"], figures["Occupancy"]) == ("8.00", "2.00", "25.0 %")
    exchange = page.get_by_role("table", name="Who used whose facilities (confirmed sessions starting in the period)")
    expect(exchange.get_by_role("row", name="UVT UPT 1 2.00 0")).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").first.click()
    assert download.value.suggested_filename == "atu-utilisation-resource-2026-11-10-2026-11-10.csv"
    assert "Laborator de robotică,UPT,8.0,2.0,0.25" in Path(download.value.path()).read_text(encoding="utf-8")

    # The heat map's table, behind its summary: Tuesday 10:00 and 11:00 full, 08:00 open and idle.
    page.get_by_text("Table: occupancy by weekday and hour").click()
    heat = page.get_by_role("table", name="Occupancy (%) by weekday and hour; – where nothing was open")
    tuesday = [c.strip() for c in heat.get_by_role("row", name="Tuesday").locator("th, td").all_inner_texts()]
    assert tuesday[1 + 8 : 1 + 12] == ["0", "0", "100", "100"] and tuesday[1 + 16] == "–"
    trends = page.get_by_role("table", name="Hours booked week by week")
    expect(trends.get_by_role("row", name="2026-11-10 2.00 0.00")).to_be_visible()


def test_an_admin_sees_every_chart_with_its_caption(make_user, make_resource, make_booking, live_server, new_page):
    """The page as an alliance admin sees it on a desktop; ATU_SCREENSHOTS=1 saves it as docs/reports.png
    (the README's screenshot)."""
    admin = make_user("UVT", "admin", email="admin@uvt.example.org")
    hours = {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    courts = [make_resource(code, "sports", name=f"Teren {code}", opening_hours=hours) for code in ("UVT", "UPT")]
    lab = make_resource("UMFT", "lab", name="Microscop confocal", opening_hours=hours)
    people = {code: make_user(code) for code in ("UVT", "UPT", "UMFT", "USVT")}
    for day in range(9, 21):
        if datetime(2026, 11, day).weekday() < 5:
            make_booking(courts[0], people["UPT"], datetime(2026, 11, day, 16), datetime(2026, 11, day, 19))
            make_booking(courts[1], people["UPT"], datetime(2026, 11, day, 10), datetime(2026, 11, day, 12))
            make_booking(
                lab, people["USVT" if day % 2 else "UVT"], datetime(2026, 11, day, 9), datetime(2026, 11, day, 13)
            )
    page = new_page()
    sign_in(page, live_server, admin.email)
    page.goto(f"{live_server}/reports?from=2026-11-02&to=2026-11-22")
    for name in (
        "Occupancy from 2026-11-02",
        "Occupancy by local weekday and hour",
        "Hours used:",
        "Hours booked each week",
    ):
        expect(page.get_by_role("img", name=name)).to_be_visible()
    if os.environ.get("ATU_SCREENSHOTS"):
        page.screenshot(path=str(ROOT / "docs" / "reports.png"), full_page=True)
