"""PostgreSQL's exclusion constraint stops a double booking even if the application check is skipped."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from bookings import services
from bookings.models import Booking, Occurrence
from reports.models import RefusalCount


@pytest.fixture
def postgres_only(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the exclusion constraint is PostgreSQL's")


def _occurrence(booking, start_hour, end_hour, uid, exclusive=True, active=True):
    return Occurrence(
        booking=booking,
        resource_id=booking.resource_id,
        start_at=datetime(2026, 11, 10, start_hour, tzinfo=UTC),
        end_at=datetime(2026, 11, 10, end_hour, tzinfo=UTC),
        units=1,
        exclusive=exclusive,
        active=active,
        uid=uid,
    )


def test_overlapping_rows_are_refused_by_the_database(postgres_only, make_user, make_resource):
    user, lab = make_user(), make_resource()
    booking = Booking(resource_id=lab.id, requester_id=user.id, title="x", status="confirmed")
    db.session.add_all([booking, _occurrence(booking, 8, 10, "a"), _occurrence(booking, 10, 11, "b")])
    db.session.commit()  # touching is fine
    db.session.add(_occurrence(booking, 9, 12, "c", active=False))
    db.session.commit()  # inactive rows do not count
    db.session.add(_occurrence(booking, 9, 12, "d"))
    with pytest.raises(IntegrityError, match="ex_occurrences_no_overlap"):
        db.session.commit()


def test_the_backstop_answers_409_not_500(postgres_only, api, make_resource, monkeypatch):
    lab = make_resource()
    api.book(lab, "2026-11-10T10:00", "2026-11-10T12:00")
    # Pretend the application check is broken: the database must still refuse.
    monkeypatch.setattr(services, "find_clashes", lambda *args, **kwargs: [])
    refused = api.book(lab, "2026-11-10T11:00", "2026-11-10T13:00", expect=409)
    assert refused["conflicts"][0]["reason"] == "overlap"
    # The database's refusal is counted for the reports like the application's.
    counted = db.session.execute(select(RefusalCount.reason, RefusalCount.count)).all()
    assert counted == [("overlap", 1)]


def test_the_backstop_on_the_booking_page_renders_the_conflict(
    postgres_only, api, client, auth, member, make_resource, monkeypatch
):
    """The page reads again after the refused write (the resource, its week) to show the conflict."""
    lab = make_resource()
    api.book(lab, "2026-11-10T10:00", "2026-11-10T12:00")
    monkeypatch.setattr(services, "find_clashes", lambda *args, **kwargs: [])
    auth.login(member.email)
    form = {"title": "Sesiune", "date": "2026-11-10", "start_time": "11:00", "end_time": "13:00"}
    page = client.post(f"/resources/{lab.id}/book", data=form, headers={"Accept-Language": "en"})
    assert page.status_code == 409
    assert "already booked" in page.get_data(as_text=True)
    assert db.session.query(Occurrence).filter_by(resource_id=lab.id, active=True).count() == 1
