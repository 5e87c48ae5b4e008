"""bookings.schedule: the week of a resource, the day timeline and the search's free / next-free answer."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import event

from app.errors import InvalidInput, NotFound
from app.extensions import db
from bookings import schedule
from resources.hours import closed_spans

NOW = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)  # the pinned test clock: Monday 09:00 in Bucharest
D = "2026-11-10"  # a Tuesday
WEEKDAYS_8_20 = {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def texts(day: schedule.Day) -> list[tuple[str, str, str, str]]:
    return [(s.label_start, s.label_end, s.kind, s.piece.title) for s in day.slots]


@contextmanager
def counting_queries():
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


# --- closed hours: pure ---------------------------------------------------------------------------


def test_closed_spans_follow_the_wall_clock_across_the_october_change():
    hours = {"sat": [["08:00", "20:00"]], "sun": [["08:00", "20:00"]]}
    spans = closed_spans(hours, "Europe/Bucharest", date(2026, 10, 24), 2)
    # Saturday is summer time (UTC+3), Sunday from 04:00 winter time (UTC+2): the night between is 13 hours.
    assert spans == [
        (utc(2026, 10, 23, 21), utc(2026, 10, 24, 5)),
        (utc(2026, 10, 24, 17), utc(2026, 10, 25, 6)),
        (utc(2026, 10, 25, 18), utc(2026, 10, 25, 22)),
    ]


def test_closed_spans_join_a_midnight_interval_and_none_means_always_open():
    hours = {"mon": [["20:00", "24:00"]], "tue": [["00:00", "02:00"]]}
    spans = closed_spans(hours, "Europe/Bucharest", date(2026, 11, 9), 2)
    assert spans == [(utc(2026, 11, 8, 22), utc(2026, 11, 9, 18)), (utc(2026, 11, 10, 0), utc(2026, 11, 10, 22))]
    assert closed_spans(None, "Europe/Bucharest", date(2026, 11, 9), 7) == []


# --- the week of one resource ---------------------------------------------------------------------


def test_week_marks_own_bookings_with_title_and_hides_other_titles(make_user, make_resource, make_booking, make_block):
    lab = make_resource("UVT", opening_hours=WEEKDAYS_8_20)
    alice, bob = make_user("UVT"), make_user("UPT")
    make_booking(lab, alice, datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 12), title="Alice seminar")
    make_booking(lab, bob, datetime(2026, 11, 10, 12), datetime(2026, 11, 10, 13), title="Bob secret project")
    make_block(lab, datetime(2026, 11, 11, 9), datetime(2026, 11, 11, 10), reason="Revizie")
    make_block(lab, utc(2026, 11, 12, 12), utc(2026, 11, 12, 13), source="import")

    week = schedule.week_view(alice, lab.id, date(2026, 11, 10), now=NOW)

    assert week.monday == date(2026, 11, 9) and [d.day.day for d in week.days] == list(range(9, 16))
    assert (week.previous, week.following) == (date(2026, 11, 2), date(2026, 11, 16))
    tuesday, wednesday, thursday, saturday = week.days[1], week.days[2], week.days[3], week.days[5]
    assert texts(tuesday) == [
        ("00:00", "08:00", "closed", ""),
        ("08:00", "10:00", "free", ""),
        ("10:00", "12:00", "own", "Alice seminar"),
        ("12:00", "13:00", "booking", ""),
        ("13:00", "20:00", "free", ""),
        ("20:00", "24:00", "closed", ""),
    ]
    assert ("09:00", "10:00", "block", "Revizie") in texts(wednesday)
    assert ("14:00", "15:00", "imported", "") in texts(thursday)
    assert texts(saturday) == [("00:00", "24:00", "closed", "")]
    assert (week.first_hour, week.last_hour) == (8, 20)
    every_title = {s.piece.title for d in week.days for s in d.slots}
    assert "Bob secret project" not in every_title

    # Bob sees his own booking as his, and Alice's as just "booked".
    bobs = texts(schedule.week_view(bob, lab.id, date(2026, 11, 12), now=NOW).days[1])
    assert ("10:00", "12:00", "booking", "") in bobs and ("12:00", "13:00", "own", "Bob secret project") in bobs
    # A manager of the owning university sees every title.
    manager = make_user("UVT", "manager")
    managed = texts(schedule.week_view(manager, lab.id, date(2026, 11, 10), now=NOW).days[1])
    assert ("12:00", "13:00", "booking", "Bob secret project") in managed


def test_week_across_the_october_change_keeps_local_times(make_user, make_resource, make_booking):
    room = make_resource("UVT", kind="room")  # always open
    member = make_user("UVT")
    earlier = datetime(2026, 10, 1, 7, tzinfo=UTC)
    for start, end, title in [
        (datetime(2026, 10, 23, 10), datetime(2026, 10, 23, 12), "Friday, summer time"),
        (datetime(2026, 10, 25, 1), datetime(2026, 10, 25, 5), "Across the repeated hour"),
        (datetime(2026, 10, 26, 10), datetime(2026, 10, 26, 12), "Monday, winter time"),
    ]:
        make_booking(room, member, start, end, title=title, now=earlier)

    now = datetime(2026, 10, 19, 5, tzinfo=UTC)  # Monday of that week, 08:00 local
    week = schedule.week_view(member, room.id, date(2026, 10, 25), now=now)
    friday, sunday = week.days[4], week.days[6]
    assert week.monday == date(2026, 10, 19)
    assert ("10:00", "12:00", "own", "Friday, summer time") in texts(friday)
    assert texts(sunday) == [
        ("00:00", "01:00", "free", ""),
        ("01:00", "05:00", "own", "Across the repeated hour"),
        ("05:00", "24:00", "free", ""),
    ]
    own = next(s for s in sunday.slots if s.kind == "own")
    assert own.end - own.start == (utc(2026, 10, 25, 3) - utc(2026, 10, 24, 22))  # five real hours
    # The 25-hour Sunday ends at 22:00 UTC, where winter time's midnight is.
    assert sunday.slots[-1].end == utc(2026, 10, 25, 22)
    following = schedule.week_view(member, room.id, date(2026, 10, 26), now=now)
    assert ("10:00", "12:00", "own", "Monday, winter time") in texts(following.days[0])
    assert next(s for s in following.days[0].slots if s.kind == "own").start == utc(2026, 10, 26, 8)


def test_week_shows_past_time_as_not_bookable_and_a_multi_unit_resource_busy_only_when_full(
    api_for, make_user, make_resource
):
    lanes = make_resource("UVT", kind="sports", units=2)
    alice, bob = make_user("UVT"), make_user("UVT")
    api_for(alice).book(lanes, f"{D}T10:00", f"{D}T12:00", title="Alice lane")
    api_for(bob).book(lanes, f"{D}T11:00", f"{D}T13:00", title="Bob lane")
    week = schedule.week_view(alice, lanes.id, date(2026, 11, 10), now=NOW)
    tuesday = texts(week.days[1])
    assert ("10:00", "12:00", "own", "Alice lane") in tuesday
    assert ("11:00", "12:00", "booking", "") in tuesday  # both lanes taken only then
    assert [(a, b) for a, b, kind, _ in tuesday if kind == "free"] == [("00:00", "11:00"), ("12:00", "24:00")]
    this_week = schedule.week_view(alice, lanes.id, None, now=NOW)
    monday = this_week.days[0]
    assert this_week.today == date(2026, 11, 2)
    assert [(s.label_start, s.label_end) for s in monday.slots if s.kind == "free"] == [("09:00", "24:00")]


def test_week_of_a_resource_the_viewer_may_not_see_is_not_found(make_user, make_resource):
    private = make_resource("UPT", visibility="institution")
    with pytest.raises(NotFound):
        schedule.week_view(make_user("UVT"), private.id, None, now=NOW)
    with pytest.raises(NotFound):
        schedule.week_view(None, private.id, None, now=NOW)
    assert schedule.week_view(make_user("UPT"), private.id, None, now=NOW).resource.id == private.id


# --- the day timeline -----------------------------------------------------------------------------


def test_timeline_rows_filters_and_visibility(api_for, make_user, make_resource):
    lab = make_resource("UVT", name="A lab", opening_hours=WEEKDAYS_8_20)
    make_resource("UPT", kind="sports", name="B court")
    make_resource("UPT", kind="lab", name="C hidden", visibility="institution")
    member = make_user("UVT")
    api_for(member).book(lab, f"{D}T10:00", f"{D}T11:30", title="Mine")

    result = schedule.timeline(member, day=date(2026, 11, 10), now=NOW)
    assert [r.resource.name for r in result.rows] == ["A lab", "B court"] and result.total == 2
    lab_day = texts(result.rows[0].day)
    assert ("10:00", "11:30", "own", "Mine") in lab_day
    assert [(a, b) for a, b, kind, _ in lab_day if kind == "free"] == [("08:00", "10:00"), ("11:30", "20:00")]
    assert texts(result.rows[1].day) == [("00:00", "24:00", "free", "")]

    assert [
        r.resource.name for r in schedule.timeline(member, day=date(2026, 11, 10), kind="sports", now=NOW).rows
    ] == ["B court"]
    assert [
        r.resource.name for r in schedule.timeline(member, day=date(2026, 11, 10), institution="uvt", now=NOW).rows
    ] == ["A lab"]
    partner = schedule.timeline(make_user("UPT"), day=date(2026, 11, 10), now=NOW)
    assert [r.resource.name for r in partner.rows] == ["A lab", "C hidden", "B court"]
    assert ("10:00", "11:30", "booking", "") in texts(partner.rows[0].day)  # no title for others
    capped = schedule.timeline(member, day=date(2026, 11, 10), limit=1, now=NOW)
    assert len(capped.rows) == 1 and capped.total == 2


def test_timeline_query_count_does_not_grow_with_resources(api_for, make_user, make_resource, admin):
    member = make_user("UVT")
    booker = api_for(member)
    admin_api = api_for(admin)

    def add(count: int) -> None:
        for index in range(count):
            resource = make_resource("UVT", opening_hours=WEEKDAYS_8_20)
            booker.book(resource, f"{D}T{8 + index % 10:02d}:00", f"{D}T{9 + index % 10:02d}:00")
            admin_api.post(f"/api/v1/resources/{resource.id}/blocks", {"start": f"{D}T18:00", "end": f"{D}T19:00"})
        db.session.expire_all()

    add(2)
    with counting_queries() as few:
        small = schedule.timeline(member, day=date(2026, 11, 10), now=NOW)
    add(10)
    with counting_queries() as many:
        large = schedule.timeline(member, day=date(2026, 11, 10), now=NOW)
    assert len(small.rows) == 2 and len(large.rows) == 12
    assert all(any(s.kind == "own" for s in row.day.slots) for row in large.rows)
    assert all(any(s.kind == "block" for s in row.day.slots) for row in large.rows)
    assert len(many) == len(few), (few, many)
    assert len(many) <= 10


# --- search: free then, or next free ---------------------------------------------------------------


def test_search_returns_free_resources_and_next_free_slots_of_taken_ones(api_for, make_user, make_resource):
    free_lab = make_resource("UVT", name="Free lab", opening_hours=WEEKDAYS_8_20)
    taken_lab = make_resource("UPT", name="Taken lab", opening_hours=WEEKDAYS_8_20)
    make_resource("UMFT", name="Other university")
    make_resource("UPT", kind="sports", name="Other kind")
    member = make_user("UVT")
    api_for(make_user("UPT")).book(taken_lab, f"{D}T10:00", f"{D}T12:00")
    api_for(make_user("UPT")).book(taken_lab, f"{D}T12:00", f"{D}T13:00")

    with counting_queries() as queries:
        answer = schedule.search_free(
            member,
            day=date(2026, 11, 10),
            start=time(10),
            end=time(12),
            kind="lab",
            institutions=["UVT", "upt"],
            now=NOW,
        )
    assert [r.name for r in answer.free] == ["Free lab"] and answer.free_total == 1
    assert [(r.name, slots) for r, slots in answer.busy] == [
        (
            "Taken lab",
            [
                (utc(2026, 11, 10, 11), utc(2026, 11, 10, 13)),  # 13:00–15:00 local, after the touching one
                (utc(2026, 11, 10, 11, 30), utc(2026, 11, 10, 13, 30)),
                (utc(2026, 11, 10, 12), utc(2026, 11, 10, 14)),
            ],
        ),
    ]
    assert answer.spans[free_lab.id].start == utc(2026, 11, 10, 8)
    assert len(queries) <= 12


def test_search_caps_the_taken_ones_and_never_shows_hidden_resources(api_for, make_user, make_resource):
    booker = api_for(make_user("UVT"))
    for _ in range(3):
        booker.book(make_resource("UVT"), f"{D}T10:00", f"{D}T11:00")
    make_resource("UPT", visibility="institution", name="Hidden")
    answer = schedule.search_free(
        make_user("UVT"), day=date(2026, 11, 10), start=time(10), end=time(11), now=NOW, busy_limit=2
    )
    assert answer.free_total == 0 and answer.busy_total == 3 and len(answer.busy) == 2
    assert all(r.name != "Hidden" for r, _ in answer.busy)
    assert schedule.search_free(None, day=date(2026, 11, 10), start=time(10), end=time(11), now=NOW).busy_total == 0


def test_search_by_nights_for_dorms(api_for, make_user, make_resource):
    room = make_resource("UVT", kind="dorm", name="Camera 12", units=1)
    other = make_resource("UVT", kind="dorm", name="Camera 14", units=1)
    make_resource("UVT", kind="lab")
    api_for(make_user("UVT")).book(room, "2026-11-10", "2026-11-12")
    answer = schedule.search_free(make_user("UPT"), day=date(2026, 11, 11), nights=2, now=NOW)
    assert [r.name for r in answer.free] == ["Camera 14"]
    span = answer.spans[other.id]
    assert (span.start, span.end) == (utc(2026, 11, 11, 12), utc(2026, 11, 13, 9))  # 14:00 → 11:00 local
    ((taken, slots),) = answer.busy
    assert taken.id == room.id and slots[0] == (utc(2026, 11, 12, 12), utc(2026, 11, 14, 9))
    assert schedule.booking_args(room, *slots[0]) == {"date": "2026-11-12", "nights": "2"}


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"start": time(10)}, "end"),
        ({"start": time(12), "end": time(10)}, "end"),
        ({"nights": 2, "start": time(10), "end": time(11)}, "nights"),
        ({"nights": 0}, "nights"),
        ({"nights": 2, "kind": "lab"}, "nights"),
        ({"start": time(3, 30), "end": time(4), "day": date(2027, 3, 28)}, "start"),  # skipped by DST
        ({"start": time(10), "end": time(11), "day": date(1999, 1, 1)}, "date"),
        ({"start": time(10), "end": time(11), "day": None}, "date"),
    ],
)
def test_search_refuses_unclear_spans(make_resource, fields, field):
    make_resource("UVT", visibility="public")
    fields = {"day": date(2026, 11, 10), **fields}
    with pytest.raises(InvalidInput) as caught:
        schedule.search_free(None, now=NOW, **fields)
    assert field in caught.value.messages


def test_booking_links_prefill_the_form(make_resource):
    lab = make_resource("UVT", min_duration_minutes=90)
    assert schedule.booking_args(lab, utc(2026, 11, 10, 8), utc(2026, 11, 10, 10)) == {
        "date": "2026-11-10",
        "start": "10:00",
        "end": "12:00",
    }
    assert schedule.first_booking_in(lab, utc(2026, 11, 10, 8), utc(2026, 11, 10, 18)) == (
        utc(2026, 11, 10, 8),
        utc(2026, 11, 10, 9, 30),
    )
    assert schedule.first_booking_in(lab, utc(2026, 11, 10, 8), utc(2026, 11, 10, 8, 45))[1] == utc(2026, 11, 10, 8, 45)


def test_free_stretches_respect_buffer_notice_and_booking_window(api_for, make_user, make_resource):
    lab = make_resource("UVT", buffer_minutes=15, min_notice_minutes=50, max_advance_days=2)
    member = make_user("UVT")
    api_for(member).book(lab, "2026-11-02T12:00", "2026-11-02T13:00", title="Mine")
    week = schedule.week_view(member, lab.id, None, now=NOW)  # now: Monday 09:00 local
    monday, tuesday, wednesday, thursday = (texts(d) for d in week.days[:4])
    # Notice: 09:50 rounded up to the quarter; the buffer keeps 15 minutes clear on both sides.
    assert [(a, b) for a, b, kind, _ in monday if kind == "free"] == [("10:00", "11:45"), ("13:15", "24:00")]
    assert tuesday == [("00:00", "24:00", "free", "")]
    # The window ends two days from now, at 09:00 on Wednesday.
    assert [(a, b) for a, b, kind, _ in wednesday if kind == "free"] == [("00:00", "09:00")]
    assert thursday == []


def test_linked_spaces_take_the_buffer_around_their_bookings_but_not_their_blocks(
    api_for, make_user, make_resource, make_block
):
    court = make_resource("UVT", "sports", buffer_minutes=30)
    hall = make_resource("UVT", "sports", linked_to=[court.id])
    member = make_user("UVT")
    api_for(member).book(hall, f"{D}T10:00", f"{D}T11:00", title="Hall")
    make_block(hall, datetime(2026, 11, 10, 15), datetime(2026, 11, 10, 16), reason="Revizie")
    tuesday = texts(schedule.week_view(member, court.id, date(2026, 11, 10), now=NOW).days[1])
    assert [(a, b) for a, b, kind, _ in tuesday if kind == "linked"] == [("10:00", "11:00"), ("15:00", "16:00")]
    # The booking keeps 30 minutes clear on both sides, the block none: what a booking of the court would get.
    assert [(a, b) for a, b, kind, _ in tuesday if kind == "free"] == [
        ("00:00", "09:30"),
        ("11:30", "15:00"),
        ("16:00", "24:00"),
    ]
    api_for(member).book(court, f"{D}T11:30", f"{D}T15:00")
    api_for(make_user("UVT")).book(court, f"{D}T16:00", f"{D}T17:00")
