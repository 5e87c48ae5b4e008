"""The reports page in a real Chromium, on a phone: a manager filters the period, reads the occupancy
chart's table as a screen reader would (by its caption and headers), and downloads the figures."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_manage_browser import no_horizontal_scroll, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.committed]


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
