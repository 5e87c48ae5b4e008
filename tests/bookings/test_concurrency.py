"""No two requests win the same units: many simultaneous requests through several gunicorn
worker processes (4 processes x 4 threads), on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from itertools import combinations

import pytest
from sqlalchemy import func, select

from accounts import services as accounts
from app.extensions import db
from bookings.models import Occurrence
from reports.models import RefusalCount
from tests.servers import gunicorn

CLIENTS = 16

# gunicorn's workers read and write through their own connections: the data must be committed.
pytestmark = pytest.mark.committed


@pytest.fixture(scope="module")
def server(database: str, tmp_path_factory):
    """gunicorn serving the app on the test database, 4 worker processes with 4 threads each."""
    with gunicorn(database, tmp_path_factory.mktemp("gunicorn") / "server.log") as base:
        yield base


@pytest.fixture(scope="module")
def limited_server(database: str, tmp_path_factory):
    """The same, with the booking budget on (BOOKING_RATE_LIMIT of tests/bookings/limited_wsgi.py)."""
    log = tmp_path_factory.mktemp("gunicorn") / "limited.log"
    with gunicorn(database, log, "tests.bookings.limited_wsgi:app") as base:
        yield base


def _post(url: str, token: str, body: dict, method: str = "POST") -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def fire(base: str | tuple[str, ...], requests: list[tuple[str, dict]]) -> list[int]:
    """Send all requests at once (a barrier releases every thread together); with several servers, the
    requests take turns among them."""
    bases = (base,) if isinstance(base, str) else base
    barrier = threading.Barrier(len(requests))

    def send(numbered: tuple[int, tuple[str, dict]]) -> int:
        i, (token, body) = numbered
        barrier.wait()
        return _post(f"{bases[i % len(bases)]}/api/v1/bookings", token, body)

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, enumerate(requests)))


@pytest.fixture
def tokens(app, make_user):
    users = [make_user("UVT") for _ in range(CLIENTS)]
    secrets = [accounts.issue_token(user)[0] for user in users]
    db.session.commit()
    return secrets


def active_spans(resource_ids: list[int]) -> list[Occurrence]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(Occurrence).where(Occurrence.resource_id.in_(resource_ids), Occurrence.active))
    )


def slot(day: int, hour: int, minutes: int = 60) -> tuple[str, str]:
    start = datetime(2026, 11, 10, hour) + timedelta(days=day)
    return start.isoformat(), (start + timedelta(minutes=minutes)).isoformat()


ROUNDS = 6


def test_one_slot_has_one_winner(server, tokens, make_resource):
    lab = make_resource()
    for round_ in range(ROUNDS):
        start, end = slot(round_, 10)
        statuses = fire(
            server, [(t, {"resource_id": lab.id, "start": start, "end": end, "title": "race"}) for t in tokens]
        )
        assert sorted(statuses) == [201] + [409] * (CLIENTS - 1), statuses
    assert len(active_spans([lab.id])) == ROUNDS
    # Every refusal was counted for the reports, after its own rollback, with none lost to a concurrent one.
    refused = db.session.scalar(select(func.sum(RefusalCount.count)).where(RefusalCount.resource_id == lab.id))
    assert refused == ROUNDS * (CLIENTS - 1)


def test_staggered_overlapping_slots_never_overlap(server, tokens, make_resource):
    lab = make_resource(buffer_minutes=10)
    requests = []
    for i, token in enumerate(tokens):
        start = datetime(2026, 11, 12, 8) + timedelta(minutes=20 * i)
        requests.append(
            (
                token,
                {
                    "resource_id": lab.id,
                    "start": start.isoformat(),
                    "end": (start + timedelta(minutes=60)).isoformat(),
                    "title": "stagger",
                },
            )
        )
    statuses = fire(server, requests)
    assert set(statuses) <= {201, 409} and 201 in statuses
    won = active_spans([lab.id])
    assert len(won) == statuses.count(201)
    for a, b in combinations(won, 2):
        gap = timedelta(minutes=10)
        assert a.end_at + gap <= b.start_at or b.end_at + gap <= a.start_at, (a.start_at, b.start_at)


def test_multi_unit_resource_gives_out_exactly_its_units(server, tokens, make_resource):
    lanes = make_resource(kind="sports", units=3)
    for round_ in range(3):
        start, end = slot(round_, 18)
        statuses = fire(
            server, [(t, {"resource_id": lanes.id, "start": start, "end": end, "title": "lane"}) for t in tokens]
        )
        assert sorted(statuses) == [201] * 3 + [409] * (CLIENTS - 3), statuses


def test_linked_hall_and_courts_under_contention(server, tokens, make_resource):
    court_a, court_b = make_resource(kind="sports"), make_resource(kind="sports")
    hall = make_resource(kind="sports", linked_to=[court_a.id, court_b.id])
    start, end = slot(0, 19)
    targets = [hall, court_a, court_b, court_b]
    statuses = fire(
        server,
        [
            (t, {"resource_id": targets[i % 4].id, "start": start, "end": end, "title": "x"})
            for i, t in enumerate(tokens)
        ],
    )
    assert set(statuses) <= {201, 409}
    won = {o.resource_id for o in active_spans([hall.id, court_a.id, court_b.id])}
    assert won in ({hall.id}, {court_a.id, court_b.id}, {court_a.id}, {court_b.id})
    assert statuses.count(201) == len(won)


def _post_event(base: str, token: str, body: dict) -> int:
    return _post(f"{base}/api/v1/events", token, body)


def test_concurrent_events_never_deadlock_or_half_book(server, tokens, make_resource):
    room_a, room_b = make_resource(kind="room"), make_resource(kind="room")
    requests = []
    for i, token in enumerate(tokens[:8]):
        order = [room_a, room_b] if i % 2 else [room_b, room_a]  # opposite orders would deadlock without sorting
        requests.append(
            (
                token,
                {
                    "title": f"event {i}",
                    "items": [
                        {"resource_id": r.id, "start": "2026-11-11T09:00", "end": "2026-11-11T12:00"} for r in order
                    ],
                },
            )
        )
    barrier = threading.Barrier(len(requests))

    def send(item):
        token, body = item
        barrier.wait()
        return _post_event(server, token, body)

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        statuses = list(pool.map(send, requests))
    assert sorted(statuses) == [201] + [409] * (len(requests) - 1), statuses
    won = active_spans([room_a.id, room_b.id])
    assert len(won) == 2 and len({o.booking.event_id for o in won}) == 1  # both rooms, one event


def test_concurrent_moves_onto_one_day_have_one_winner_and_never_half_move(server, tokens, make_resource):
    room_a, room_b = make_resource(kind="room"), make_resource(kind="room")
    events = []
    for i, token in enumerate(tokens[:6]):
        order = [room_a, room_b] if i % 2 else [room_b, room_a]
        day = f"2026-11-{12 + i}"
        body = {
            "title": f"event {i}",
            "items": [{"resource_id": r.id, "start": f"{day}T09:00", "end": f"{day}T12:00"} for r in order],
        }
        request = urllib.request.Request(
            f"{server}/api/v1/events",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            events.append((token, json.loads(response.read())["id"], i))
    barrier = threading.Barrier(len(events))

    def move(item):
        token, event_id, i = item
        barrier.wait()
        # Every event moves onto 18 November, where none of them is yet.
        return _post(f"{server}/api/v1/events/{event_id}", token, {"shift_days": 6 - i}, method="PATCH")

    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        statuses = list(pool.map(move, events))
    assert sorted(statuses) == [200] + [409] * (len(events) - 1), statuses
    spans = active_spans([room_a.id, room_b.id])
    assert len(spans) == 2 * len(events)
    for event_id in {o.booking.event_id for o in spans}:
        days = {o.start_at.date() for o in spans if o.booking.event_id == event_id}
        assert len(days) == 1, "an event is never split across days"
    for a, b in combinations(spans, 2):
        if a.resource_id == b.resource_id:
            assert a.end_at <= b.start_at or b.end_at <= a.start_at


def test_the_booking_budget_holds_across_processes(limited_server, make_user, make_resource):
    """One user firing 16 bookings at once through 4 processes: exactly the budget's 5 are kept."""
    user = make_user("UVT")
    token = accounts.issue_token(user)[0]
    db.session.commit()
    lab = make_resource()
    requests = []
    for i in range(CLIENTS):
        start, end = slot(i // 8, 8 + i % 8)
        requests.append((token, {"resource_id": lab.id, "start": start, "end": end, "title": "budget"}))
    statuses = fire(limited_server, requests)
    assert sorted(statuses) == [201] * 5 + [429] * (CLIENTS - 5), statuses
    assert len(active_spans([lab.id])) == 5


@pytest.fixture(scope="module")
def second_server(database: str, tmp_path_factory):
    """Another instance of the app (another host) on the same database: its own gunicorn, processes, pools
    and caches."""
    with gunicorn(database, tmp_path_factory.mktemp("gunicorn") / "second.log") as base:
        yield base


def _get(url: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_one_slot_raced_across_two_instances_has_one_winner(server, second_server, tokens, make_resource):
    lab = make_resource()
    for round_ in range(ROUNDS):
        start, end = slot(round_, 11)
        body = {"resource_id": lab.id, "start": start, "end": end, "title": "two hosts"}
        statuses = fire((server, second_server), [(token, body) for token in tokens])
        assert sorted(statuses) == [201] + [409] * (CLIENTS - 1), statuses
    assert len(active_spans([lab.id])) == ROUNDS


def test_a_feed_changed_through_one_instance_is_fresh_on_the_other(server, second_server, tokens, make_resource):
    """Both instances serve the feed (each renders or shares it); a booking made through the second is in
    the feed the first serves next, and its cancellation through the first is in the second's (a cancelled
    event stays, marked CANCELLED, so subscribers drop it)."""
    lab = make_resource()
    token = tokens[0]
    request = urllib.request.Request(
        f"{server}/api/v1/calendar-feeds",
        data=json.dumps({"scope": "mine"}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        path = "/calendars/" + json.loads(response.read())["url"].split("/calendars/", 1)[1]
    assert _get(server + path, token)[0] == _get(second_server + path, token)[0] == 200

    start, end = slot(2, 15)
    body = {"resource_id": lab.id, "start": start, "end": end, "title": "Seminar pe doua gazde"}
    made = urllib.request.Request(
        f"{second_server}/api/v1/bookings",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(made, timeout=60) as response:
        booking_id = json.loads(response.read())["id"]
    status, feed = _get(server + path, token)
    assert status == 200 and b"Seminar pe doua gazde" in feed and b"STATUS:CONFIRMED" in feed

    assert _post(f"{server}/api/v1/bookings/{booking_id}", token, {}, method="DELETE") in (200, 204)
    status, feed = _get(second_server + path, token)
    assert status == 200 and b"STATUS:CANCELLED" in feed and b"STATUS:CONFIRMED" not in feed
