"""The booking service called directly, at the rules' edges."""

from datetime import UTC, date, datetime

import pytest

from app.extensions import db
from bookings import services
from bookings.services import BookingConflict

NOW = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)


@pytest.fixture
def user(make_user):
    return make_user("UVT", "member")


def book(user, resource, start, end, **kwargs):
    booking, skipped = services.create_booking(
        user,
        resource_id=resource.id,
        start=start,
        end=end,
        title=kwargs.pop("title", "t"),
        now=kwargs.pop("now", NOW),
        **kwargs,
    )
    db.session.commit()
    return booking, skipped


def refused(user, resource, start, end, **kwargs) -> list[str]:
    with pytest.raises(BookingConflict) as error:
        book(user, resource, start, end, **kwargs)
    db.session.rollback()
    return [c.reason for c in error.value.clashes]


def test_touching_bookings_do_not_clash(user, make_resource):
    lab = make_resource()
    book(user, lab, datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 11))
    book(user, lab, datetime(2026, 11, 10, 11), datetime(2026, 11, 10, 12))
    book(user, lab, datetime(2026, 11, 10, 9), datetime(2026, 11, 10, 10))
    assert refused(user, lab, datetime(2026, 11, 10, 9, 59), datetime(2026, 11, 10, 10, 1)) == ["overlap"]


def test_the_last_unit(user, make_resource):
    beds = make_resource(kind="equipment", units=2)
    book(user, beds, datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 12))
    book(user, beds, datetime(2026, 11, 10, 11), datetime(2026, 11, 10, 13))  # the last unit, 11-12
    assert refused(user, beds, datetime(2026, 11, 10, 11, 30), datetime(2026, 11, 10, 11, 45)) == ["overlap"]
    book(user, beds, datetime(2026, 11, 10, 12), datetime(2026, 11, 10, 12, 30))


def test_the_dst_sunday(user, make_resource):
    # 28 March 2027: 03:00 local does not exist; 02:00-05:00 local is two real hours.
    lab = make_resource(max_advance_days=365)
    booking, _ = book(user, lab, datetime(2027, 3, 28, 2), datetime(2027, 3, 28, 5))
    occurrence = booking.occurrences[0]
    assert (occurrence.end_at - occurrence.start_at).total_seconds() == 2 * 3600
    assert refused(user, lab, datetime(2027, 3, 28, 4), datetime(2027, 3, 28, 6)) == ["overlap"]
    book(user, lab, datetime(2027, 3, 28, 5), datetime(2027, 3, 28, 6))
    with pytest.raises(services.InvalidInput):
        book(user, lab, datetime(2027, 3, 28, 3, 15), datetime(2027, 3, 28, 4, 30))


def test_the_repeated_hour_in_october(user, make_resource):
    lab = make_resource()
    # 25 October 2026 was before "now"; use a resource and clock a year later.
    later = datetime(2027, 10, 1, tzinfo=UTC)
    booking, _ = book(user, lab, datetime(2027, 10, 31, 2), datetime(2027, 10, 31, 5), now=later)
    occurrence = booking.occurrences[0]
    assert (occurrence.end_at - occurrence.start_at).total_seconds() == 4 * 3600  # 03:00-04:00 happens twice


def test_first_and_last_night(user, make_resource):
    room = make_resource(kind="dorm", units=1, capacity=1)
    book(user, room, date(2026, 11, 10), date(2026, 11, 13))
    assert refused(user, room, date(2026, 11, 9), date(2026, 11, 11)) == ["overlap"]  # shares the first night
    assert refused(user, room, date(2026, 11, 12), date(2026, 11, 14)) == ["overlap"]  # shares the last night
    book(user, room, date(2026, 11, 13), date(2026, 11, 15))  # arrives on the check-out day
    book(user, room, date(2026, 11, 8), date(2026, 11, 10))  # leaves on the check-in day


def test_a_block_inside_a_series(user, admin, make_resource):
    from resources.services import create_block

    lab = make_resource()
    create_block(admin, lab.id, start=datetime(2026, 11, 17, 10, 30), end=datetime(2026, 11, 17, 10, 45))
    db.session.commit()
    assert refused(
        user, lab, datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 11), recurrence="FREQ=WEEKLY;COUNT=4"
    ) == ["blocked"]
    booking, skipped = book(
        user,
        lab,
        datetime(2026, 11, 10, 10),
        datetime(2026, 11, 10, 11),
        recurrence="FREQ=WEEKLY;COUNT=4",
        skip_conflicts=True,
    )
    assert len(booking.occurrences) == 3 and [s.reason for s in skipped] == ["blocked"]


def test_a_series_that_overlaps_itself(user, make_resource):
    lab = make_resource()
    # Daily, 30 hours long: the second overlaps the first; the third only the refused second.
    with pytest.raises(BookingConflict) as error:
        book(user, lab, datetime(2026, 11, 10, 10), datetime(2026, 11, 11, 16), recurrence="FREQ=DAILY;COUNT=3")
    assert [(c.start.day, c.reason) for c in error.value.clashes] == [(11, "overlap")]


def test_cancel_frees_and_audit_records_it(user, make_resource):
    from sqlalchemy import select

    from bookings.models import AuditEntry

    lab = make_resource()
    booking, _ = book(user, lab, datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 11))
    services.cancel_booking(user, booking.id, now=NOW)
    db.session.commit()
    book(user, lab, datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 11))
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.booking_id == booking.id)).all()
    assert actions == ["created", "cancelled"]


def test_others_cannot_cancel_or_see(user, make_user, make_resource):
    lab = make_resource()
    booking, _ = book(user, lab, datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 11))
    stranger = make_user("UPT")
    with pytest.raises(services.NotFound):
        services.cancel_booking(stranger, booking.id, now=NOW)
    manager = make_user("UVT", "manager")
    services.cancel_booking(manager, booking.id, now=NOW)  # the resource's manager may


def test_equivalent_resources_are_found_past_the_first_batch_in_catalogue_order(
    app, make_user, make_booking, make_resource
):
    """Equivalents are judged ten at a time; the answer is the first three free in institution and id
    order, as if all fifty were judged at once."""
    wanted = make_resource(kind="lab", capacity=10)
    alike = [make_resource(kind="lab", capacity=10) for _ in range(14)]
    start, end = datetime(2026, 11, 10, 9, tzinfo=UTC), datetime(2026, 11, 10, 10, tzinfo=UTC)
    taken = alike[:11]  # the first batch of ten and one more are busy then
    for resource in taken:
        make_booking(resource=resource, start=start, end=end)
    span = services.Span(start, end, 1)
    found = services.suggest(make_user(), wanted, span, now=app.config["CLOCK_NOW"])["resources"]
    assert [r.id for r in found] == [r.id for r in alike[11:14]]
