"""Hostile booking input: a 4xx with a reason, never a 500 and never a half-written booking."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.extensions import db
from bookings.models import Booking, Occurrence

D = "2026-11-10"


@pytest.fixture
def lab(make_resource):
    return make_resource()


@pytest.mark.parametrize(
    ("patch", "status", "field"),
    [
        ({"start": f"{D}T12:00", "end": f"{D}T10:00"}, 422, "end"),  # reversed
        ({"start": f"{D}T10:00", "end": f"{D}T10:00"}, 422, "end"),  # zero length
        ({"start": "soon", "end": f"{D}T10:00"}, 422, "start"),
        ({"start": "2026-02-30T10:00", "end": f"{D}T10:00"}, 422, "start"),
        ({"start": 1700000000, "end": f"{D}T10:00"}, 422, "start"),
        ({"start": f"{D}T10:00", "end": "9999-12-31T23:59"}, 422, "end"),  # named where it is wrong
        ({"start": "2026-03-29T03:30", "end": "2026-03-29T05:00"}, 422, "start"),  # skipped by DST
        ({"start": f"{D}T10:00", "end": "2028-01-01T10:00"}, 422, "end"),  # longer than a year
        ({"recurrence": "FREQ=SECONDLY;COUNT=5"}, 422, "recurrence"),
        ({"recurrence": "FREQ=DAILY;COUNT=100000"}, 422, "recurrence"),
        ({"recurrence": "FREQ=DAILY"}, 422, "recurrence"),
        ({"recurrence": "x" * 501}, 422, "recurrence"),
        ({"recurrence": 12}, 422, "recurrence"),
        ({"units": 0}, 422, "units"),
        ({"units": "2"}, 422, "units"),
        ({"units": 10**12}, 422, "units"),
        ({"title": ""}, 422, "title"),
        ({"title": "t" * 201}, 422, "title"),
        ({"title": "a\x00b"}, 422, "title"),
        ({"resource_id": "1"}, 422, "resource_id"),
        ({"resource_id": 2**40}, 422, "resource_id"),
        ({"resource_id": 999999}, 404, None),
        ({"skip_conflicts": "yes"}, 422, "skip_conflicts"),
        ({"colour": "red"}, 422, "colour"),
    ],
)
def test_bad_booking_requests(api, lab, patch, status, field):
    body = {"resource_id": lab.id, "start": f"{D}T10:00", "end": f"{D}T11:00", "title": "x", **patch}
    response = api.client.post("/api/v1/bookings", json=body, headers=api.headers)
    assert response.status_code == status, response.get_json()
    assert response.content_type == "application/problem+json"
    if field:
        assert field in {e["field"] for e in response.get_json()["errors"]}
    assert db.session.scalar(select(func.count(Booking.id))) == 0


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b"null", b'{"resource_id": 1,}'])
def test_broken_json(api, body):
    response = api.client.post("/api/v1/bookings", data=body, headers=api.headers, content_type="application/json")
    assert response.status_code == 400


def test_anonymous_cannot_book(client, lab):
    response = client.post(
        "/api/v1/bookings", json={"resource_id": lab.id, "start": f"{D}T10:00", "end": f"{D}T11:00", "title": "x"}
    )
    assert response.status_code == 401


def test_bad_patch_and_query(api, lab):
    booking = api.book(lab, f"{D}T10:00", f"{D}T11:00")
    assert (
        api.patch(f"/api/v1/bookings/{booking['id']}", {"start": f"{D}T12:00", "end": f"{D}T11:00"}).status_code == 422
    )
    assert api.patch(f"/api/v1/bookings/{booking['id']}", {"status": "confirmed"}).status_code == 422
    assert api.get("/api/v1/bookings?resource_id=abc").status_code == 422
    assert api.get("/api/v1/bookings?from=never").status_code == 422
    assert api.delete(f"/api/v1/bookings/{booking['id']}?occurrence_id=-1").status_code == 422
    assert api.post("/api/v1/bookings/99999999999/approve").status_code == 404
    long_key = api.client.post(
        "/api/v1/bookings",
        json={"resource_id": lab.id, "start": f"{D}T12:00", "end": f"{D}T13:00", "title": "x"},
        headers={**api.headers, "Idempotency-Key": "k" * 201},
    )
    assert long_key.status_code == 422


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10**6),
    st.text(max_size=25),
    st.sampled_from(["2026-11-10T10:00", "2026-11-10", "2026-11-10T10:00:00+05:00", "FREQ=WEEKLY;COUNT=3", "24:00"]),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.dictionaries(
        st.sampled_from(["start", "end", "units", "recurrence", "title", "skip_conflicts", "project_code"]), values
    )
)
def test_fuzzed_booking_bodies_never_500(api, lab, data):
    body = {"resource_id": lab.id, "start": f"{D}T10:00", "end": f"{D}T11:00", "title": "x", **data}
    response = api.client.post("/api/v1/bookings", json=body, headers=api.headers)
    assert response.status_code in {201, 400, 403, 409, 422}, (body, response.get_json())
    # Whatever happened, no occurrence exists without its booking and no booking without occurrences.
    orphans = db.session.scalar(select(func.count(Booking.id)).where(~Booking.occurrences.any()))
    assert orphans == 0
    assert db.session.scalar(select(func.count(Occurrence.id)).where(Occurrence.booking_id.is_(None))) == 0
