"""A connection lost under the app (a database restart, a failover) costs one request a 503 with
Retry-After, never a 500 or a half-written change, and the next request works again: the pool does not
ping before each checkout (issue 13), so this is how a dead connection is noticed and dropped."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import func, select

from app.extensions import db
from bookings.models import Booking

pytestmark = [pytest.mark.committed, pytest.mark.own_app]


def _kill_app_connections(app) -> int:
    """Terminate, from outside, every server connection the app's pool holds."""
    with app.app_context():
        with db.engine.connect() as connection:
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as admin:
        return admin.execute("SELECT count(*) FROM (SELECT pg_terminate_backend(%s)) AS t", (pid,)).fetchone()[0]


@pytest.fixture
def postgres(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("terminating a server connection is PostgreSQL's")
        db.engine.dispose()


def test_the_health_check_says_503_then_recovers(app, client, postgres):
    assert client.get("/healthz").status_code == 200
    assert _kill_app_connections(app) == 1
    lost = client.get("/healthz")
    assert lost.status_code == 503
    assert lost.headers["Retry-After"] == "5"
    assert lost.content_type == "application/problem+json"
    assert client.get("/healthz").status_code == 200


def test_a_booking_whose_connection_is_lost_is_a_503_and_keeps_nothing(app, client, postgres, api, make_resource):
    lab = make_resource()
    api.book(lab, "2026-11-10T08:00", "2026-11-10T09:00")
    _kill_app_connections(app)
    start, end = "2026-11-10T10:00", "2026-11-10T11:00"
    body = {"resource_id": lab.id, "start": start, "end": end, "title": "lost"}
    lost = client.post("/api/v1/bookings", json=body, headers=api.headers)
    assert lost.status_code == 503, lost.get_json()
    again = client.post("/api/v1/bookings", json=body, headers=api.headers)
    assert again.status_code == 201
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Booking)) == 2
