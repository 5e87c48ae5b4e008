"""Utilisation and exchange, against figures computed by hand (the SPEC's section "Reports")."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from bookings.models import Occurrence
from reports import services

WEEKDAYS_WITH_LUNCH = {day: [["08:00", "12:00"], ["13:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def report(api, **query):
    response = api.get("/api/v1/reports/utilisation", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def download(api, path, language, **query):
    return api.client.get(path, query_string=query, headers={**api.headers, "Accept-Language": language})


def row(answer, key):
    return next(item for item in answer["items"] if item["key"] == str(key))


@pytest.fixture
def boss(api_for, admin):
    return api_for(admin)


def test_a_week_with_a_lunch_closure_a_block_a_cancellation_and_a_no_show(
    boss, make_resource, make_booking, make_block, make_user
):
    """Mon 9 – Sun 15 November 2026 (no DST): open 5 × 8 h = 40 h; a block Wed 10:00–14:00 takes 10–12 and
    13–14 (the lunch hour was closed anyway): 37 h. Booked: Mon 09–11 (2 h) and Tue 08–12 (4 h) = 6 h.
    A session cancelled before it began and one released as a no-show count, but are not booked time."""
    lab = make_resource(opening_hours=WEEKDAYS_WITH_LUNCH, check_in_required=True)
    member = make_user()
    make_booking(lab, member, datetime(2026, 11, 9, 9), datetime(2026, 11, 9, 11))
    make_booking(lab, member, datetime(2026, 11, 10, 8), datetime(2026, 11, 10, 12))
    make_booking(lab, member, datetime(2026, 11, 12, 13), datetime(2026, 11, 12, 15), status="cancelled")
    missed = make_booking(lab, member, datetime(2026, 11, 13, 8), datetime(2026, 11, 13, 9))
    make_block(lab, datetime(2026, 11, 11, 10), datetime(2026, 11, 11, 14))
    occurrence = missed.occurrences[0]
    occurrence.active, occurrence.cancelled_at = False, occurrence.start_at + timedelta(minutes=16)
    db.session.commit()

    figures = row(report(boss, **{"from": "2026-11-09", "to": "2026-11-15"}), lab.id)
    assert figures["open_hours"] == 37.0
    assert figures["booked_hours"] == 6.0
    assert figures["occupancy"] == round(6 / 37, 4)
    assert (figures["bookings"], figures["cancelled"], figures["no_shows"]) == (2, 1, 1)
    assert figures["no_show_rate"] == round(1 / 3, 4)
    assert "open_nights" not in figures
    # Prime time, weekdays 09–17: 3 h + 4 h a day = 35 h, less the block's 10–12 and 13–14 = 32 h open;
    # booked inside it: Mon 09–11 and Tue 09–12 = 5 h.
    assert (figures["prime_open_hours"], figures["prime_booked_hours"]) == (32.0, 5.0)
    assert figures["prime_occupancy"] == round(5 / 32, 4)


def test_a_multi_unit_resource_counts_units_open_and_booked(boss, make_resource, make_booking, make_user):
    """Four lanes always open on Tue 10 Nov: 24 h × 4 = 96 lane-hours; 2 lanes 10–12 and 1 lane 11–13 = 6."""
    pool = make_resource(kind="sports", units=4)
    make_booking(pool, make_user(), datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 12), units=2)
    make_booking(pool, make_user(), datetime(2026, 11, 10, 11), datetime(2026, 11, 10, 13))
    figures = row(report(boss, **{"from": "2026-11-10", "to": "2026-11-10"}), pool.id)
    assert (figures["open_hours"], figures["booked_hours"], figures["occupancy"]) == (96.0, 6.0, 0.0625)


def test_prime_time_is_configurable(app, boss, make_resource, make_booking, make_user, monkeypatch):
    pool = make_resource(kind="sports", units=4)
    make_booking(pool, make_user(), datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 12), units=2)
    day = {"from": "2026-11-10", "to": "2026-11-10"}
    figures = row(report(boss, **day), pool.id)  # a Tuesday: 09–17 is prime time by default
    assert (figures["prime_open_hours"], figures["prime_booked_hours"], figures["prime_occupancy"]) == (
        32.0,
        4.0,
        0.125,
    )
    monkeypatch.setitem(app.config, "REPORT_PRIME_TIME", {"tue": [["11:00", "13:00"]]})
    figures = row(report(boss, **day), pool.id)
    assert (figures["prime_open_hours"], figures["prime_booked_hours"]) == (8.0, 2.0)
    monkeypatch.setitem(app.config, "REPORT_PRIME_TIME", {"sat": [["10:00", "12:00"]]})
    figures = row(report(boss, **day), pool.id)
    assert (figures["prime_open_hours"], figures["prime_occupancy"]) == (0.0, None)


@pytest.mark.parametrize(("day", "hours"), [("2026-10-25", 25.0), ("2026-03-29", 23.0), ("2026-10-26", 24.0)])
def test_days_are_counted_as_lived_across_dst(boss, make_resource, day, hours):
    """Bucharest falls back on 25 October 2026 (a 25-hour day) and springs forward on 29 March (23 hours)."""
    hall = make_resource(kind="room", timezone="Europe/Bucharest")
    assert row(report(boss, **{"from": day, "to": day}), hall.id)["open_hours"] == hours


def test_a_dorm_counts_bed_nights(boss, make_resource, make_booking, make_block, make_user):
    """Nights of 10–13 Nov (the midnights after each day): 4 beds × 4 nights = 16, less the 4 beds of the night
    a block covers = 12; a stay checking in on the 10th and out on the 12th has 2 nights, for 2 beds = 4."""
    dorm = make_resource(kind="dorm", units=4, check_in_time="14:00", check_out_time="11:00")
    make_booking(dorm, make_user(), date(2026, 11, 10), date(2026, 11, 12), units=2)
    make_block(dorm, datetime(2026, 11, 12, 22), datetime(2026, 11, 13, 6))
    figures = row(report(boss, **{"from": "2026-11-10", "to": "2026-11-13"}), dorm.id)
    assert (figures["open_nights"], figures["booked_nights"]) == (12, 4)


def test_groups_sum_their_resources(boss, make_resource, make_booking, make_user):
    first = make_resource(kind="sports", institution="UPT")
    second = make_resource(kind="sports", institution="UPT")
    make_booking(first, make_user(), datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 12))
    make_booking(second, make_user(), datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 11))
    day = {"from": "2026-11-10", "to": "2026-11-10"}
    by_kind = row(report(boss, group_by="kind", institution="UPT", **day), "sports")
    assert (by_kind["open_hours"], by_kind["booked_hours"], by_kind["bookings"]) == (48.0, 3.0, 2)
    by_institution = row(report(boss, group_by="institution", kind="sports", **day), "UPT")
    assert by_institution["booked_hours"] == 3.0 and by_institution["institution"] == "UPT"


def test_members_are_refused_and_managers_see_their_own_university(api, api_for, make_user, make_resource):
    make_resource(institution="UVT")
    make_resource(institution="UPT")
    period = {"from": "2026-11-10", "to": "2026-11-10"}
    assert api.get("/api/v1/reports/utilisation", query_string=period).status_code == 403
    assert api.get("/api/v1/reports/exchange", query_string=period).status_code == 403
    manager = api_for(make_user("UPT", "manager"))
    answer = report(manager, **period)
    assert answer["items"] and {item["institution"] for item in answer["items"]} == {"UPT"}
    refused = manager.get("/api/v1/reports/utilisation", query_string={**period, "institution": "UVT"})
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-11-10", "to": "2026-11-09"}, "to"),
        ({"from": "2026-01-01", "to": "2027-12-31"}, "to"),
        ({"from": "2026-11-10"}, "to"),
        ({"from": "2026-11-10", "to": "2026-11-10", "group_by": "floor"}, "group_by"),
    ],
)
def test_bad_periods_are_422_at_the_field(boss, query, field):
    response = boss.get("/api/v1/reports/utilisation", query_string=query)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.get_json()["errors"]]


def test_the_exchange_is_the_settlement_rule_over_any_period(boss, make_resource, make_booking, make_user):
    """A UPT member in a UVT lab for 2 h on 10 Nov and 1 h on 2 Dec: November alone has 2 h, the period both."""
    lab = make_resource(institution="UVT", tariffs={"own": 0, "partner": 50, "external": 90})
    guest = make_user("UPT")
    make_booking(lab, guest, datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 12))
    make_booking(lab, guest, datetime(2026, 12, 2, 10), datetime(2026, 12, 2, 11))
    both = boss.get("/api/v1/reports/exchange", query_string={"from": "2026-11-01", "to": "2026-12-31"}).get_json()
    assert both["items"] == [
        {
            "owner": "UVT",
            "requester_institution": "UPT",
            "bookings": 2,
            "hours": 3.0,
            "nights": 0,
            "amount": 150.0,
            "currency": "RON",
        }
    ]
    november = boss.get("/api/v1/statements", query_string={"month": "2026-11"}).get_json()["items"][0]
    same = boss.get("/api/v1/reports/exchange", query_string={"from": "2026-11-01", "to": "2026-11-30"}).get_json()
    assert (same["items"][0]["hours"], same["items"][0]["amount"]) == (november["hours"], november["amount"])


def test_the_sweep_agrees_with_a_plain_sum_when_everything_is_open(app, make_resource, make_booking, make_user):
    """Two readers of one question: for an always-open resource, booked time is the plain sum of the
    confirmed occurrences clipped to the period."""
    lab = make_resource()
    for hour in (8, 11, 15, 20):
        make_booking(lab, make_user(), datetime(2026, 11, 10, hour), datetime(2026, 11, 10, hour + 2))
    when = services.period(date(2026, 11, 10), date(2026, 11, 10))
    low, high = when.bounds(lab.timezone)
    occurrences = db.session.scalars(select(Occurrence).where(Occurrence.resource_id == lab.id)).all()
    plain = sum((min(o.end_at, high) - max(o.start_at, low)).total_seconds() for o in occurrences) / 3600
    admin_rows = services.utilisation(make_user("UVT", "admin"), when, resource_id=lab.id)
    assert float(admin_rows[0].booked_hours) == plain == 8.0
    assert low == datetime(2026, 11, 9, 22, tzinfo=UTC)


def test_the_first_and_last_bookable_days_can_be_reported_and_the_days_beyond_cannot(boss, make_resource):
    hall = make_resource(kind="room", timezone="Europe/Bucharest")
    for day in ("2000-01-01", "2099-12-31"):
        assert row(report(boss, **{"from": day, "to": day}), hall.id)["open_hours"] == 24.0
    for day in ("1999-12-31", "2100-01-01"):
        response = boss.get("/api/v1/reports/utilisation", query_string={"from": day, "to": day})
        assert response.status_code == 422


def test_csv_and_xlsx_hold_the_same_numbers_as_the_api(boss, make_resource, make_booking, make_user):
    """Numbers as numbers and dates as dates in the XLSX (read back with openpyxl), headers in the caller's
    language, and a cell that would run as a formula quoted in both files."""
    import csv
    import io

    from openpyxl import load_workbook

    pool = make_resource(kind="sports", units=4, name="=HYPERLINK(1)")
    make_booking(pool, make_user(), datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 12), units=2)
    period = {"from": "2026-11-10", "to": "2026-11-10"}
    api_row = row(report(boss, **period), pool.id)

    as_csv = download(boss, "/api/v1/reports/utilisation", "en", **period, format="csv")
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    assert 'filename="atu-utilisation-resource-2026-11-10-2026-11-10.csv"' in as_csv.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(as_csv.get_data(as_text=True))))
    assert table[0][:5] == ["From", "To", "Key", "Name", "University"]
    line = next(r for r in table if r[2] == str(pool.id))
    assert line[3] == "'=HYPERLINK(1)"
    assert (float(line[5]), float(line[6]), float(line[7])) == (
        api_row["open_hours"],
        api_row["booked_hours"],
        api_row["occupancy"],
    )

    as_xlsx = download(boss, "/api/v1/reports/utilisation", "ro", **period, format="xlsx")
    assert as_xlsx.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(as_xlsx.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("De la", "Până la", "Cheie")
    found = next(r for r in rows[1:] if r[2] == str(pool.id))
    assert found[0] == datetime(2026, 11, 10)  # a date cell (openpyxl reads dates as datetimes)
    assert found[3] == "'=HYPERLINK(1)"
    assert (found[5], found[6], found[7]) == (96.0, 4.0, api_row["occupancy"])


def test_the_exchange_downloads_as_csv(boss, make_resource, make_booking, make_user):
    lab = make_resource(institution="UVT", tariffs={"own": 0, "partner": 50, "external": 90})
    make_booking(lab, make_user("UPT"), datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 12))
    period = {"from": "2026-11-01", "to": "2026-11-30"}
    response = download(boss, "/api/v1/reports/exchange", "en", **period, format="csv")
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("From,To,Facilities of,Used by")
    assert lines[1] == "2026-11-01,2026-11-30,UVT,UPT,1,2.0,0,100.0,RON"


def test_a_session_begun_days_before_the_period_counts_inside_it(boss, make_resource, make_booking, make_user):
    """The read skips history by the resources' longest booking: a 3-day session from Saturday 7 November
    still fills Monday 9 November's first 24 hours of the period (and only those)."""
    hall = make_resource(kind="room", max_duration_minutes=None)
    make_booking(hall, make_user(), datetime(2026, 11, 7, 0), datetime(2026, 11, 10, 0))
    make_booking(hall, make_user(), datetime(2026, 11, 4, 10), datetime(2026, 11, 4, 12))  # long before
    figures = row(report(boss, **{"from": "2026-11-09", "to": "2026-11-10"}), hall.id)
    assert (figures["open_hours"], figures["booked_hours"]) == (48.0, 24.0)


def test_the_exchange_agrees_with_a_plain_sum_over_every_occurrence(admin, make_resource, make_booking, make_user):
    """Two readers of one question: the database's sums per booking against the settlement's rule applied
    to each occurrence in Python, over a seeded mix of series crossing the period's edges, multi-unit
    bookings, dorm stays and cancelled sessions."""
    import random
    from decimal import ROUND_HALF_UP, Decimal

    from app.zones import to_local
    from bookings import services as bookings
    from bookings.models import Booking
    from bookings.statements import exchange_between

    rng = random.Random(14)
    tariffs = {"own": 5, "partner": 37.5}
    pool = make_resource("UVT", "sports", units=3, tariffs=tariffs)
    lab = make_resource("UPT", "lab", tariffs=tariffs)
    dorm = make_resource("UMFT", "dorm", units=4, tariffs={"own": 40, "partner": 85})
    people = [make_user(code) for code in ("UVT", "UPT", "UMFT", "USVT")]
    for n in range(24):
        person = rng.choice(people)
        day = datetime(2026, 11, 3) + timedelta(days=rng.randrange(0, 26), hours=8 + rng.randrange(0, 10))
        if n % 6 == 5:
            first = day.date()
            make_booking(dorm, person, first, first + timedelta(days=rng.randrange(1, 4)), units=rng.randrange(1, 3))
            continue
        resource = pool if n % 2 else lab
        recurrence = "FREQ=WEEKLY;COUNT=3" if n % 3 == 0 else None
        booking = make_booking(
            resource,
            person,
            day,
            day + timedelta(minutes=rng.choice((30, 60, 90))),
            units=rng.randrange(1, 3) if resource is pool else 1,
            recurrence=recurrence,
            skip_conflicts=True,
        )
        if recurrence and n % 4 == 0:
            bookings.cancel_booking(
                person, booking.id, occurrence_id=booking.occurrences[1].id, now=datetime(2026, 11, 2, tzinfo=UTC)
            )
            db.session.commit()
    start, end = datetime(2026, 11, 8, 22, tzinfo=UTC), datetime(2026, 11, 22, 22, tzinfo=UTC)

    expected: dict = {}
    for booking in db.session.scalars(select(Booking).where(Booking.status == "confirmed")):
        active = [o for o in booking.occurrences if o.active]
        total = sum(Decimal((o.end_at - o.start_at).total_seconds()) for o in active)
        inside = [o for o in active if start <= o.start_at < end]
        if not inside:
            continue
        key = (booking.requester.institution.code, booking.resource.institution.code)
        entry = expected.setdefault(key, [set(), Decimal(0), 0, Decimal(0)])
        entry[0].add(booking.id)
        for o in inside:
            seconds = Decimal((o.end_at - o.start_at).total_seconds())
            entry[3] += booking.price_amount * seconds / total
            if booking.resource.kind == "dorm":
                tz = booking.resource.timezone
                entry[2] += (to_local(o.end_at, tz).date() - to_local(o.start_at, tz).date()).days * o.units
            else:
                entry[1] += seconds / 3600 * o.units
    cents = Decimal("0.01")
    plain = {
        key: (len(v[0]), v[1].quantize(cents, ROUND_HALF_UP), v[2], v[3].quantize(cents, ROUND_HALF_UP))
        for key, v in expected.items()
    }
    summed = {
        (r.user_institution, r.owner_institution): (r.bookings, r.hours, r.nights, r.amount)
        for r in exchange_between(admin, start, end)
    }
    assert summed == plain
    assert len(plain) >= 4 and any(nights for _, _, nights, _ in plain.values())
