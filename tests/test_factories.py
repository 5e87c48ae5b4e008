"""The factories reach every state through the real services."""

from datetime import datetime

import pytest

from bookings.models import Status


@pytest.mark.parametrize("status", list(Status))
def test_make_booking_reaches_each_status(make_booking, make_resource, status):
    approval = "all" if status in (Status.PENDING, Status.REJECTED) else "none"
    booking = make_booking(make_resource(approval=approval), status=status)
    assert booking.status == status
    assert all(o.active for o in booking.occurrences) == (status in (Status.PENDING, Status.CONFIRMED))


def test_make_booking_refuses_a_state_the_services_cannot_reach(make_booking):
    with pytest.raises(ValueError, match="confirmed booking cannot be made pending"):
        make_booking(status=Status.PENDING)


def test_make_block_and_make_event(make_block, make_event, make_resource):
    lab, room = make_resource(), make_resource(kind="room")
    manual, imported = make_block(lab, reason="Revizie"), make_block(lab, source="import")
    assert (manual.source, manual.created_by.role, imported.source) == ("manual", "admin", "import")
    event = make_event(
        {"resource": room, "start": datetime(2026, 11, 12, 9), "end": datetime(2026, 11, 12, 12)},
        {"resource_id": lab.id, "start": datetime(2026, 11, 12, 14), "end": datetime(2026, 11, 12, 15)},
        visibility="public",
    )
    assert [b.resource_id for b in event.bookings] == [room.id, lab.id] and event.visibility == "public"
