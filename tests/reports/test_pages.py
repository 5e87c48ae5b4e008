"""The /reports page: the same figures as the API, a chart with its table, filters, permissions."""

from __future__ import annotations

import re
from datetime import datetime

from tests.conftest import ENGLISH


def test_a_manager_sees_their_university_with_a_chart_and_its_table(
    client, auth, make_user, make_resource, make_booking
):
    lab = make_resource(institution="UPT", name="Laborator de chimie", units=1)
    make_resource(institution="UVT", name="Sala de sport UVT")
    make_booking(lab, make_user(), datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 16))
    manager = make_user("UPT", "manager")
    auth.login(manager.email)
    page = client.get("/reports?from=2026-11-10&to=2026-11-10", headers=ENGLISH)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'role="img"' in html and "<figcaption" in html
    assert "Laborator de chimie" in html and "Sala de sport UVT" not in html
    # 6 booked hours of 24 open: 25 %, in the table and as the bar's label.
    assert "<td>24.00</td><td>6.00</td>" in html and "25.0 %" in html


def test_members_get_403_and_a_bad_period_is_a_message_at_the_field(client, auth, make_user):
    member = make_user()
    auth.login(member.email)
    assert client.get("/reports", headers=ENGLISH).status_code == 403
    auth.logout()
    auth.login(make_user("UVT", "admin").email)
    page = client.get("/reports?from=2026-11-10&to=2026-11-01", headers=ENGLISH)
    assert page.status_code == 422
    assert "must not be before from" in page.get_data(as_text=True)


def test_admins_group_by_university_and_see_the_exchange(client, auth, make_user, make_resource, make_booking):
    lab = make_resource(institution="UVT", tariffs={"own": 0, "partner": 40, "external": 90})
    make_booking(lab, make_user("UMFT"), datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 12))
    auth.login(make_user("UVT", "admin").email)
    html = client.get("/reports?from=2026-11-10&to=2026-11-10&group_by=institution", headers=ENGLISH).get_data(
        as_text=True
    )
    assert "Exchange between universities" in html
    assert "<td>UMFT</td><td>UVT</td><td>1</td><td>2.00</td>" in html


def test_the_page_downloads_its_figures_as_files(client, auth, make_user, make_resource, make_booking):
    lab = make_resource(institution="UPT", name="Laborator de fizică")
    make_booking(lab, make_user(), datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 16))
    auth.login(make_user("UPT", "manager").email)
    page = client.get("/reports?from=2026-11-10&to=2026-11-10", headers=ENGLISH).get_data(as_text=True)
    assert "/reports/utilisation.csv?" in page and "/reports/utilisation.xlsx?" in page
    csv_file = client.get("/reports/utilisation.csv?from=2026-11-10&to=2026-11-10", headers=ENGLISH)
    assert csv_file.mimetype == "text/csv"
    assert f"{lab.id},Laborator de fizică,UPT,24.0,6.0,0.25" in csv_file.get_data(as_text=True)
    xlsx = client.get("/reports/exchange.xlsx?from=2026-11-10&to=2026-11-10", headers=ENGLISH)
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert client.get("/reports/utilisation.csv?from=2026-11-10", headers=ENGLISH).status_code == 422
    # The heat map and the weekly trends download from the page with the page's filters, as the API's rows.
    assert "/reports/heatmap.csv?" in page and "/reports/trends.xlsx?" in page
    heat = client.get(f"/reports/heatmap.csv?from=2026-11-10&to=2026-11-10&resource={lab.id}", headers=ENGLISH)
    assert heat.mimetype == "text/csv"
    assert "2026-11-10,2026-11-10,2,12,1.0,1.0,1.0" in heat.get_data(as_text=True)  # Tuesday 12:00, full
    trends = client.get("/reports/trends.xlsx?from=2026-11-10&to=2026-11-10", headers=ENGLISH)
    assert trends.status_code == 200 and trends.data[:2] == b"PK"
    other = make_resource(institution="UVT")
    refused = client.get(f"/reports/heatmap.csv?from=2026-11-10&to=2026-11-10&resource={other.id}", headers=ENGLISH)
    assert refused.status_code == 422  # another university's resource is not among a manager's choices


def test_findings_name_bottlenecks_the_least_used_and_the_unused(client, auth, make_user, make_resource, make_booking):
    """Three labs open 10:00–12:00 on Tuesday 10 Nov: one booked for both hours (100 %), one for one (50 %),
    one not at all."""
    hours = {"tue": [["10:00", "12:00"]]}
    full = make_resource(institution="UPT", name="Plin", opening_hours=hours)
    half = make_resource(institution="UPT", name="Pe jumătate", opening_hours=hours)
    make_resource(institution="UPT", name="Gol", opening_hours=hours)
    make_booking(full, make_user(), datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 12))
    make_booking(half, make_user(), datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 11))
    auth.login(make_user("UPT", "manager").email)
    html = client.get("/reports?from=2026-11-10&to=2026-11-10", headers=ENGLISH).get_data(as_text=True)
    findings = html.split('id="findings-title"', 1)[1].split('id="exchange-title"', 1)[0]
    bottlenecks, least, unused, _, _ = findings.split("<section")[1:]
    assert "Plin — 100 %" in bottlenecks and "Pe jumătate" not in bottlenecks
    assert least.index("Pe jumătate") < least.index("Plin")
    assert "Gol" in unused and "Plin" not in unused


def test_the_exchange_is_drawn_as_a_matrix_of_hours(client, auth, make_user, make_resource, make_booking):
    """UMFT members used 2 h of a UVT lab and 1 h of a UPT one: two shaded cells, the larger one darker."""
    uvt_lab, upt_lab = make_resource(institution="UVT"), make_resource(institution="UPT")
    make_booking(uvt_lab, make_user("UMFT"), datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 12))
    make_booking(upt_lab, make_user("UMFT"), datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 11))
    auth.login(make_user("UVT", "admin").email)
    html = client.get("/reports?from=2026-11-10&to=2026-11-10", headers=ENGLISH).get_data(as_text=True)
    matrix = html.split('class="matrix"', 1)[1].split("</svg>", 1)[0]
    assert ">UPT</text>" in matrix and ">UVT</text>" in matrix and ">UMFT</text>" in matrix
    opacities = [float(x) for x in re.findall(r'fill-opacity="([0-9.]+)"', matrix)]
    assert opacities == [0.54, 1.0]  # UPT (1 h of the most, 2 h), then UVT (2 h), in column order
    assert 'aria-labelledby="matrix-caption"' in html
