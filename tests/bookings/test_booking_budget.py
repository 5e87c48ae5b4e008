"""New bookings are limited per user (issue 12, item 7): BOOKING_RATE_LIMIT in fixed windows, counted in
the transaction that books, so only kept bookings spend it. The race across processes is in
test_concurrency.py."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from accounts import budget
from accounts.models import UsageCounter
from app import clock
from app.extensions import db
from bookings.models import Booking
from events.models import Event
from notifications.tasks import purge
from tests.conftest import ENGLISH


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": True, "BOOKING_RATE_LIMIT": "3 per hour"}


def slot(hour: int, day: int = 10) -> tuple[str, str]:
    start = datetime(2026, 11, day, hour)
    return start.isoformat(), (start + timedelta(hours=1)).isoformat()


def book(api, lab, hour: int, expect: int | None = 201, **fields):
    return api.book(lab, *slot(hour), expect=expect, **fields)


def bookings_of(user) -> int:
    return db.session.scalar(select(func.count()).select_from(Booking).where(Booking.requester_id == user.id))


def test_the_booking_past_the_limit_is_a_429_that_says_when(client, api, member, make_resource):
    lab = make_resource()
    for hour in (8, 9, 10):
        book(api, lab, hour)
    start, end = slot(11)
    response = client.post(
        "/api/v1/bookings",
        json={"resource_id": lab.id, "start": start, "end": end, "title": "one more"},
        headers={**api.headers, **ENGLISH},
    )
    assert response.status_code == 429
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 429
    assert "at most 3 new bookings in 60 minutes" in problem["detail"]
    # The pinned clock says 07:00 UTC: the hour's window ends in 60 minutes.
    assert response.headers["Retry-After"] == "3600"
    assert bookings_of(member) == 3


def test_refused_and_replayed_bookings_spend_nothing(api, member, make_resource):
    lab = make_resource()
    book(api, lab, 8)
    for _ in range(3):
        book(api, lab, 8, expect=409)  # the same slot: a clash, kept nowhere
    key = {"Idempotency-Key": "same-request"}
    first = book(api, lab, 9, extra_headers=key)
    assert book(api, lab, 9, extra_headers=key)["id"] == first["id"]  # a replay, not a new booking
    book(api, lab, 10)
    book(api, lab, 11, expect=429)
    assert bookings_of(member) == 3


def test_each_user_has_their_own_budget_and_administrators_none(api, api_for, make_user, admin, make_resource):
    lab = make_resource()
    for hour in (8, 9, 10):
        book(api, lab, hour)
    book(api, lab, 11, expect=429)
    other = api_for(make_user("UPT"))
    book(other, lab, 12)
    boss = api_for(admin)
    for hour in (13, 14, 15, 16):
        book(boss, lab, hour)


def test_the_next_window_has_room_again(app, api, make_resource):
    lab = make_resource()
    for hour in (8, 9, 10):
        book(api, lab, hour)
    book(api, lab, 11, expect=429)
    app.config["CLOCK_NOW"] = clock.now() + timedelta(hours=1)
    book(api, lab, 11)


def test_each_event_item_spends_one_and_a_refused_event_none(api, member, make_resource):
    labs = [make_resource() for _ in range(4)]

    def event(count: int, dry_run: bool = False):
        start, end = slot(9)
        items = [{"resource_id": lab.id, "start": start, "end": end} for lab in labs[:count]]
        return api.post("/api/v1/events", json={"title": "Simpozion", "items": items, "dry_run": dry_run})

    assert event(4, dry_run=True).status_code == 429  # a preview answers what booking would
    for _ in range(3):
        assert event(2, dry_run=True).status_code == 200  # and spends nothing
    refused = event(4)
    assert refused.status_code == 429, refused.get_json()
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0
    assert bookings_of(member) == 0
    assert event(2).status_code == 201
    book(api, labs[3], 15)
    book(api, labs[3], 16, expect=429)


def test_the_booking_page_says_why_and_keeps_nothing(client, auth, member, make_resource):
    lab = make_resource()
    auth.login(member.email)
    statuses = []
    for hour in (8, 9, 10, 11):
        form = {
            "title": "Sesiune",
            "date": "2026-11-10",
            "start_time": f"{hour:02d}:00",
            "end_time": f"{hour + 1:02d}:00",
        }
        statuses.append(client.post(f"/resources/{lab.id}/book", data=form, headers=ENGLISH).status_code)
    assert statuses == [302, 302, 302, 429]
    page = client.post(
        f"/resources/{lab.id}/book",
        data={"title": "Sesiune", "date": "2026-11-10", "start_time": "12:00", "end_time": "13:00"},
        headers=ENGLISH,
    )
    assert page.status_code == 429
    assert "at most 3 new bookings in 60 minutes" in page.get_data(as_text=True)
    assert bookings_of(member) == 3


def test_the_purge_job_forgets_windows_long_past(app, member):
    now = clock.now()
    limit = budget.parse(app.config["BOOKING_RATE_LIMIT"])
    budget.spend(f"bookings:user:{member.id}", limit, now - timedelta(days=3))
    budget.spend(f"bookings:user:{member.id}", limit, now)
    assert "1 usage count(s)" in purge()
    windows = db.session.scalars(select(UsageCounter.window_start)).all()
    assert windows == [int(now.timestamp()) - int(now.timestamp()) % 3600]
