"""Findings, refused demand, the hour × weekday heat map and the weekly trends, against figures computed by
hand; each checked against the other reader of the same question (utilisation, exchange)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from bookings import services as bookings
from reports import services
from reports.models import RefusalCount
from tests.conftest import ENGLISH

# The tests' business clock (CLOCK_NOW) is Monday 2 November 2026, 09:00 in Timișoara: refusals count there.
REFUSAL_DAY = {"from": "2026-11-02", "to": "2026-11-02"}
WEEK = {"from": "2026-11-09", "to": "2026-11-15"}


@pytest.fixture
def boss(api_for, admin):
    return api_for(admin)


def item(answer, key):
    return next(entry for entry in answer["items"] if entry["key"] == str(key))


def get(api, path, **query):
    response = api.get(path, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- refused requests ------------------------------------------------------------------------------


def test_refused_requests_are_counted_by_resource_and_reason_though_each_refusal_rolls_back(
    boss, api_for, make_user, make_resource
):
    lab = make_resource(max_duration_minutes=120)
    other = make_resource()
    first, second = api_for(make_user()), api_for(make_user())
    first.book(lab, "2026-11-10T10:00", "2026-11-10T12:00")
    second.book(lab, "2026-11-10T11:00", "2026-11-10T12:00", expect=409)  # overlap
    second.book(lab, "2026-11-10T10:30", "2026-11-10T11:30", expect=409)  # overlap
    second.book(lab, "2026-11-11T08:00", "2026-11-11T12:00", expect=409)  # too long
    second.book(other, "2026-11-10T10:00", "2026-11-10T11:00")  # booked: not a refusal

    answer = get(boss, "/api/v1/reports/utilisation", **REFUSAL_DAY)
    assert (item(answer, lab.id)["refused"], item(answer, lab.id)["refused_by_reason"]) == (
        3,
        {"overlap": 2, "too_long": 1},
    )
    assert (item(answer, other.id)["refused"], item(answer, other.id)["refused_by_reason"]) == (0, {})
    # Nothing of the refused requests was written; only their count was kept.
    assert len(get(boss, "/api/v1/bookings", resource_id=lab.id, scope="all")["items"]) <= 1
    # Another day's report does not see them.
    assert item(get(boss, "/api/v1/reports/utilisation", **WEEK), lab.id)["refused"] == 0
    # Grouped, they add up; the findings rank the resource first.
    by_kind = get(boss, "/api/v1/reports/utilisation", group_by="kind", **REFUSAL_DAY)
    assert item(by_kind, "lab")["refused_by_reason"] == {"overlap": 2, "too_long": 1}
    found = get(boss, "/api/v1/reports/findings", **REFUSAL_DAY)
    assert [entry["key"] for entry in found["most_refused"]] == [str(lab.id)]


def test_a_recurring_request_counts_once_under_its_first_refused_time(boss, api, make_resource, make_block):
    lab = make_resource()
    make_block(lab, datetime(2026, 11, 17), datetime(2026, 11, 18))
    api.book(lab, "2026-11-10T10:00", "2026-11-10T11:00", recurrence="FREQ=WEEKLY;COUNT=3", expect=409)
    assert item(get(boss, "/api/v1/reports/utilisation", **REFUSAL_DAY), lab.id)["refused_by_reason"] == {"blocked": 1}


def test_a_refusal_on_the_booking_page_and_a_refused_move_count_too(
    boss, api, client, auth, member, make_resource, make_user, api_for
):
    lab = make_resource()
    api.book(lab, "2026-11-10T10:00", "2026-11-10T12:00")
    auth.login(member.email)
    form = {"title": "Sesiune", "date": "2026-11-10", "start_time": "11:00", "end_time": "13:00"}
    assert client.post(f"/resources/{lab.id}/book", data=form, headers=ENGLISH).status_code == 409
    other = api_for(make_user())
    moved = other.book(lab, "2026-11-10T14:00", "2026-11-10T15:00")
    refused = other.patch(f"/api/v1/bookings/{moved['id']}", {"start": "2026-11-10T11:00", "end": "2026-11-10T12:00"})
    assert refused.status_code == 409
    assert item(get(boss, "/api/v1/reports/utilisation", **REFUSAL_DAY), lab.id)["refused_by_reason"] == {"overlap": 2}


def test_a_failing_count_never_fails_the_request(app, api, make_resource, monkeypatch, caplog):
    """The count is kept after the request's own end; if it cannot be written the 409 still stands."""
    lab = make_resource()
    api.book(lab, "2026-11-10T10:00", "2026-11-10T12:00")
    monkeypatch.setattr("reports.receivers.RefusalCount", None)  # the upsert raises
    refused = api.client.post(
        "/api/v1/bookings",
        json={"resource_id": lab.id, "start": "2026-11-10T11:00", "end": "2026-11-10T12:00", "title": "x"},
        headers=api.headers,
    )
    assert refused.status_code == 409
    assert "kept work" in caplog.text
    assert db.session.scalars(select(RefusalCount)).all() == []
    assert api.get("/healthz").status_code == 200  # the session is usable afterwards


# --- check-ins and cancellations -----------------------------------------------------------------


def test_check_ins_and_the_lead_time_of_cancellations(boss, make_resource, make_booking, make_user):
    """Sessions on the 11th and 12th cancelled 2 days and 1 day before they began: a mean lead of 36 h; one of two sessions
    checked in to."""
    lab = make_resource(check_in_required=True)
    member = make_user()
    kept = make_booking(lab, member, datetime(2026, 11, 10, 9), datetime(2026, 11, 10, 10))
    make_booking(lab, member, datetime(2026, 11, 10, 11), datetime(2026, 11, 10, 12))
    for day in (11, 12):
        booking = make_booking(lab, member, datetime(2026, 11, day, 9), datetime(2026, 11, day, 10))
        bookings.cancel_booking(member, booking.id, now=booking.occurrences[0].start_at - timedelta(days=13 - day))
    bookings.check_in(member, kept.id, occurrence_id=None, now=kept.occurrences[0].start_at)
    db.session.commit()
    figures = item(get(boss, "/api/v1/reports/utilisation", **WEEK), lab.id)
    assert (figures["bookings"], figures["checked_in"], figures["cancelled"]) == (2, 1, 2)
    assert figures["cancel_lead_hours"] == 36.0
    without = item(get(boss, "/api/v1/reports/utilisation", **REFUSAL_DAY), lab.id)
    assert (without["cancelled"], without["cancel_lead_hours"]) == (0, None)


# --- the heat map --------------------------------------------------------------------------------


def test_the_heat_map_splits_open_and_booked_time_by_local_weekday_and_hour(
    boss, make_resource, make_booking, make_user
):
    """Open Mondays 08:00–10:00, two units: cells Mon 08 and Mon 09 hold 2 open hours each; a one-unit
    session 08:30–09:30 puts half an hour in each; a session outside the hours counts nowhere."""
    lab = make_resource(units=2, opening_hours={"mon": [["08:00", "10:00"]]})
    make_booking(lab, make_user(), datetime(2026, 11, 9, 8, 30), datetime(2026, 11, 9, 9, 30))
    cells = get(boss, "/api/v1/reports/heatmap", resource=lab.id, **WEEK)["items"]
    assert len(cells) == 7 * 24
    by = {(c["weekday"], c["hour"]): c for c in cells}
    assert by[(1, 8)] == {"weekday": 1, "hour": 8, "open_hours": 2.0, "booked_hours": 0.5, "occupancy": 0.25}
    assert (by[(1, 9)]["open_hours"], by[(1, 9)]["booked_hours"]) == (2.0, 0.5)
    assert by[(1, 10)]["occupancy"] is None and by[(2, 8)]["open_hours"] == 0.0


@pytest.mark.parametrize(("day", "open_hours"), [("2026-10-25", 2.0), ("2026-03-29", 0.0), ("2026-11-01", 1.0)])
def test_the_heat_map_counts_the_clock_changes_as_lived(boss, make_resource, day, open_hours):
    """Bucharest repeats 03:00–04:00 on 25 October 2026 and skips it on 29 March (both Sundays)."""
    hall = make_resource(kind="room", timezone="Europe/Bucharest")
    cells = get(boss, "/api/v1/reports/heatmap", resource=hall.id, **{"from": day, "to": day})["items"]
    sunday_three = next(c for c in cells if (c["weekday"], c["hour"]) == (7, 3))
    assert sunday_three["open_hours"] == open_hours
    assert sum(c["open_hours"] for c in cells) == {2.0: 25.0, 0.0: 23.0, 1.0: 24.0}[open_hours]


def test_the_heat_map_adds_up_to_the_utilisation(admin, make_resource, make_booking, make_block, make_user):
    """Two readers of one question: every cell together is the period's open and booked time (to the second;
    the API rounds each cell to hundredths of an hour)."""
    lab = make_resource(opening_hours={d: [["08:00", "12:00"], ["13:00", "18:30"]] for d in ("mon", "wed", "fri")})
    pool = make_resource(kind="sports", units=3)
    for day, start, end in ((9, (8, 0), (10, 0)), (11, (14, 10), (16, 0)), (13, (17, 0), (18, 30))):
        make_booking(lab, make_user(), datetime(2026, 11, day, *start), datetime(2026, 11, day, *end))
    make_booking(pool, make_user(), datetime(2026, 11, 14, 22, 15), datetime(2026, 11, 15, 1, 45), units=2)
    make_block(lab, datetime(2026, 11, 11, 8, 20), datetime(2026, 11, 11, 9, 40))
    when = services.period(date(2026, 11, 9), date(2026, 11, 15))
    for resource in (lab, pool):
        heat = services.heatmap(admin, when, resource_id=resource.id)
        (usage,) = services.utilisation(admin, when, resource_id=resource.id)
        assert sum(map(sum, heat.open_seconds)) == pytest.approx(usage.open_seconds, abs=1e-6)
        assert sum(map(sum, heat.booked_seconds)) == pytest.approx(usage.booked_seconds, abs=1e-6)
        assert usage.booked_seconds > 0


# --- trends --------------------------------------------------------------------------------------


def test_the_trends_add_up_week_by_week_to_the_exchange(boss, admin, make_resource, make_booking, make_user):
    """From Wednesday 4 November to Sunday 22 November: weeks beginning on the 4th (partial), 9th and 16th.
    UPT in a UVT lab 2 h on the 5th and 3 h on the 17th; UVT at home 1 h on the 10th; a UVT dorm stay
    counts no hours (bed-nights are the exchange's)."""
    lab = make_resource("UVT")
    dorm = make_resource("UVT", kind="dorm", units=2)
    guest, host = make_user("UPT"), make_user("UVT")
    make_booking(lab, guest, datetime(2026, 11, 5, 10), datetime(2026, 11, 5, 12))
    make_booking(lab, guest, datetime(2026, 11, 17, 10), datetime(2026, 11, 17, 13))
    make_booking(lab, host, datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 11))
    make_booking(dorm, guest, date(2026, 11, 10), date(2026, 11, 12))
    period = {"from": "2026-11-04", "to": "2026-11-22"}
    answer = get(boss, "/api/v1/reports/trends", **period)
    assert [
        (r["week"], r["requester_institution"], r["owner"], r["bookings"], r["hours"]) for r in answer["items"]
    ] == [
        ("2026-11-04", "UPT", "UVT", 1, 2.0),
        ("2026-11-09", "UPT", "UVT", 1, 0.0),
        ("2026-11-09", "UVT", "UVT", 1, 1.0),
        ("2026-11-16", "UPT", "UVT", 1, 3.0),
    ]
    exchange = get(boss, "/api/v1/reports/exchange", **period)["items"]
    for pair in exchange:
        weekly = [
            r
            for r in answer["items"]
            if (r["requester_institution"], r["owner"]) == (pair["requester_institution"], pair["owner"])
        ]
        assert round(sum(r["hours"] for r in weekly), 2) == pair["hours"]
    when = services.period(date(2026, 11, 4), date(2026, 11, 22))
    totals = services.weekly_totals(services.trends(admin, when), when)
    assert [(t.week.isoformat(), float(t.partner_hours), float(t.own_hours)) for t in totals] == [
        ("2026-11-04", 2.0, 0.0),
        ("2026-11-09", 0.0, 1.0),
        ("2026-11-16", 3.0, 0.0),
    ]


def test_a_manager_sees_the_pairs_of_their_university_and_members_nothing(
    api, api_for, make_user, make_resource, make_booking
):
    make_booking(make_resource("UVT"), make_user("UPT"), datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 11))
    make_booking(make_resource("UMFT"), make_user("USVT"), datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 11))
    manager = api_for(make_user("UPT", "manager"))
    items = get(manager, "/api/v1/reports/trends", **WEEK)["items"]
    assert [(r["requester_institution"], r["owner"]) for r in items] == [("UPT", "UVT")]
    for path in ("trends", "heatmap", "findings"):
        assert api.get(f"/api/v1/reports/{path}", query_string=WEEK).status_code == 403
    assert manager.get("/api/v1/reports/heatmap", query_string={**WEEK, "institution": "UVT"}).status_code == 403


def test_the_heat_map_and_trends_download_with_numbers_and_dates(boss, make_resource, make_booking, make_user):
    lab = make_resource("UVT")
    make_booking(lab, make_user("UPT"), datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 12))
    trends = boss.client.get(
        "/api/v1/reports/trends", query_string={**WEEK, "format": "xlsx"}, headers={**boss.headers, **ENGLISH}
    )
    rows = list(load_workbook(io.BytesIO(trends.data)).active.iter_rows(values_only=True))
    assert rows[0] == ("From", "To", "Week", "Facilities of", "Used by", "Bookings", "Hours")
    assert rows[1] == (datetime(2026, 11, 9), datetime(2026, 11, 15), datetime(2026, 11, 9), "UVT", "UPT", 1, 2.0)
    heat = boss.client.get(
        "/api/v1/reports/heatmap",
        query_string={**WEEK, "resource": lab.id, "format": "csv"},
        headers={**boss.headers, **ENGLISH},
    )
    table = list(csv.reader(io.StringIO(heat.get_data(as_text=True))))
    assert table[0] == ["From", "To", "Weekday", "Hour", "Open hours", "Booked hours", "Occupancy"]
    assert ["2026-11-09", "2026-11-15", "2", "10", "1.0", "1.0", "1.0"] in table


def test_the_unused_filter_keeps_the_resources_open_and_never_booked(
    boss, client, auth, admin, make_resource, make_booking, make_user
):
    used = make_resource("UVT", name="Folosit")
    idle = make_resource("UVT", name="Nefolosit")
    closed = make_resource("UVT", name="Inchis", opening_hours={"sat": [["08:00", "09:00"]]})
    make_booking(used, make_user(), datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 11))
    day = {"from": "2026-11-10", "to": "2026-11-10"}  # a Tuesday: the third is closed all day
    keys = [
        i["key"] for i in get(boss, "/api/v1/reports/utilisation", unused="true", institution="UVT", **day)["items"]
    ]
    assert str(idle.id) in keys and str(used.id) not in keys and str(closed.id) not in keys
    every = get(boss, "/api/v1/reports/utilisation", institution="UVT", **day)["items"]
    assert {i["key"] for i in every} >= {str(used.id), str(idle.id), str(closed.id)}
    found = get(boss, "/api/v1/reports/findings", institution="UVT", **day)["unused"]
    assert [i["key"] for i in found] == keys  # one rule: the filter and the finding agree
    auth.login(admin.email)
    page = client.get("/reports", query_string={**day, "institution": "UVT", "unused": "y"}, headers=ENGLISH).text
    table = page.split('id="utilisation-caption"', 1)[1].split("</table>", 1)[0]
    assert "Nefolosit" in table and "Folosit<" not in table and "Inchis" not in table
