"""Every reader of "is this time free?" agrees with actually booking (SPEC: "One answer …").

Hypothesis builds resources with random opening hours, buffers, units, notice, windows and a linked
space, fills them with bookings and blocks, and then asks each reader — the availability API's
engine, the catalogue filter, the search with its next free slots, the week calendar, the timeline
and the suggestions of a refusal — and books for real to see whether they told the truth.
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.extensions import db
from app.zones import to_local, to_utc
from availability import services as engine
from availability.intervals import Span, overlaps
from bookings import schedule
from bookings.models import Occurrence
from bookings.services import BookingConflict, cancel_booking, create_booking
from resources import services as catalogue
from resources.hours import parse_hhmm
from resources.models import Block

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = {
    "always": None,
    "office": {d: [["08:00", "20:00"]] for d in WEEKDAYS[:5]},
    "split": {d: [["07:00", "12:00"], ["13:30", "22:00"]] for d in WEEKDAYS},
    "night": {d: [["18:00", "24:00"]] for d in WEEKDAYS} | {d: [["00:00", "06:00"]] for d in WEEKDAYS},
}

settings_strategy = st.fixed_dictionaries(
    {
        "units": st.sampled_from([1, 1, 2, 3]),
        "buffer_minutes": st.sampled_from([0, 15, 30, 30]),
        "min_notice_minutes": st.sampled_from([0, 60, 24 * 60]),
        "max_advance_days": st.sampled_from([None, 4, 30]),
        "partner_max_advance_days": st.sampled_from([None, 2]),
        "hours": st.sampled_from(sorted(HOURS)),
        "linked": st.sampled_from([True, True, False]),
    }
)
# Quarter hours over the four local days that follow the business clock's day (2026-11-02).
moment = st.tuples(st.integers(0, 3), st.integers(24, 95))
length = st.sampled_from([15, 30, 60, 90, 180, 240])


def _local(day_offset: int, quarter: int) -> datetime:
    return datetime.combine(date(2026, 11, 2) + timedelta(days=day_offset), time()) + timedelta(minutes=15 * quarter)


def _span(resource, day_offset: int, quarter: int, minutes: int, units: int = 1) -> Span | None:
    local = _local(day_offset, quarter)
    try:
        return Span(
            to_utc(local, resource.timezone), to_utc(local + timedelta(minutes=minutes), resource.timezone), units
        )
    except ValueError:
        return None


def _oracle(resource, span: Span, user, now: datetime) -> str | None:
    """The SPEC's rules written out plainly, quarter hour by quarter hour, from the rows themselves:
    the reason the first rule refuses the span for, or None. Independent of the engine on purpose."""
    partner = user.institution_id != resource.institution_id and user.role != "admin"
    window = resource.partner_max_advance_days if partner and resource.partner_max_advance_days is not None else None
    window = window if window is not None else resource.max_advance_days
    if span.start < now:
        return "past"
    if span.start < now + timedelta(minutes=resource.min_notice_minutes):
        return "notice"
    if window is not None and span.end > now + timedelta(days=window):
        return "too_far"
    quarters = []
    cursor = span.start
    while cursor < span.end:
        quarters.append(cursor)
        cursor += timedelta(minutes=15)
    if resource.opening_hours is not None:
        for q in quarters:
            local = to_local(q, resource.timezone)
            minute = local.hour * 60 + local.minute
            intervals = resource.opening_hours.get(WEEKDAYS[local.weekday()], [])
            if not any(parse_hhmm(a) <= minute < parse_hhmm(b) for a, b in intervals):
                return "closed"
    blocks = db.session.scalars(select(Block).where(Block.resource_id == resource.id)).all()
    if any(overlaps(b.start_at, b.end_at, span.start, span.end) for b in blocks):
        return "blocked"
    pad = timedelta(minutes=resource.buffer_minutes)
    others = [r.id for r in resource.linked]
    linked_rows = db.session.scalars(
        select(Occurrence).where(Occurrence.resource_id.in_(others), Occurrence.active.is_(True))
    ).all()
    if any(overlaps(o.start_at - pad, o.end_at + pad, span.start, span.end) for o in linked_rows):
        return "linked"
    linked_blocks = db.session.scalars(select(Block).where(Block.resource_id.in_(others))).all()
    if any(overlaps(b.start_at, b.end_at, span.start, span.end) for b in linked_blocks):
        return "linked"
    own = db.session.scalars(
        select(Occurrence).where(Occurrence.resource_id == resource.id, Occurrence.active.is_(True))
    ).all()
    for q in quarters:
        used = sum(o.units for o in own if o.start_at - pad <= q < o.end_at + pad)
        if used + span.units > resource.units:
            return "overlap"
    return None


def _book(user, resource, span: Span, now: datetime) -> tuple[bool, list]:
    """Book for real; cancel at once when it worked, so the calendar stays as it was."""
    try:
        booking, _ = create_booking(
            user, resource_id=resource.id, start=span.start, end=span.end, title="Probe", units=span.units, now=now
        )
    except BookingConflict as refused:
        db.session.flush()
        return False, refused.clashes
    cancel_booking(user, booking.id, now=now)
    db.session.flush()
    return True, []


@pytest.fixture
def people(make_user):
    return {
        "own": make_user("UVT", "member"),
        "partner": make_user("UPT", "member"),
        "manager": make_user("UVT", "manager"),
        "other": make_user("UVT", "member"),
    }


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(setup=settings_strategy, data=st.data())
def test_every_reader_agrees_with_booking(app, admin, people, setup, data):
    now = app.config["CLOCK_NOW"]
    linked = None
    if setup["linked"]:
        linked = catalogue.create_resource(admin, {"name": "Half court", "kind": "sports", "institution": "UVT"})
        db.session.flush()
    resource = catalogue.create_resource(
        admin,
        {
            "name": "Arena",
            "kind": "sports",
            "institution": "UVT",
            "units": setup["units"],
            "buffer_minutes": setup["buffer_minutes"],
            "min_notice_minutes": setup["min_notice_minutes"],
            "max_advance_days": setup["max_advance_days"],
            "partner_max_advance_days": setup["partner_max_advance_days"],
            "opening_hours": HOURS[setup["hours"]],
            "linked_to": [linked.id] if linked else [],
        },
    )
    db.session.flush()
    # Others' bookings (by a manager: no approval, same rules), on the resource and the linked space,
    # put where that manager may book so that the calendar really fills up.
    for _ in range(data.draw(st.integers(0, 8), label="bookings")):
        target = data.draw(st.sampled_from([resource, linked] if linked else [resource]), label="on")
        when = data.draw(st.integers(1, 3), label="booking day")
        room = [
            p
            for p in engine.availability(
                target,
                to_utc(_local(when, 0), target.timezone),
                to_utc(_local(when + 1, 0), target.timezone),
                viewer=people["manager"],
                now=now,
            )
            if p.reason is None
        ]
        if not room:
            continue
        piece = data.draw(st.sampled_from(room), label="piece")
        quarters = int((piece.end - piece.start) / timedelta(minutes=15))
        first = data.draw(st.integers(0, max(quarters - 1, 0)), label="from")
        start = piece.start + timedelta(minutes=15 * first)
        end = start + timedelta(minutes=min(data.draw(length), 15 * (quarters - first)))
        with contextlib.suppress(BookingConflict):
            create_booking(
                people["manager"],
                resource_id=target.id,
                start=start,
                end=end,
                title="Theirs",
                units=data.draw(st.integers(1, target.units), label="units"),
                now=now,
            )
    for _ in range(data.draw(st.integers(0, 2), label="blocks")):
        target = data.draw(st.sampled_from([resource, linked] if linked else [resource]), label="blocked")
        wanted = _span(target, *data.draw(moment), data.draw(length))
        if wanted is not None:
            catalogue.create_block(admin, target.id, start=wanted.start, end=wanted.end, reason="Service")
    db.session.flush()

    who = data.draw(st.sampled_from(["own", "partner", "manager"]), label="who")
    user = people[who]
    day = data.draw(st.sampled_from([0, 1, 2, 3, 1, 2, 3]), label="day")
    window_start = to_utc(_local(day, 0), resource.timezone)
    window_end = to_utc(_local(day + 1, 0), resource.timezone)
    pieces = engine.availability(resource, window_start, window_end, viewer=user, now=now)
    assert pieces[0].start == window_start and pieces[-1].end == window_end
    free = [(p.start, p.end) for p in pieces if p.reason is None]

    # The week calendar and the timeline show only free time the engine calls free.
    week = schedule.week_view(user, resource.id, _local(day, 0).date(), now=now)
    row = next(
        r
        for r in schedule.timeline(
            user, day=_local(day, 0).date(), institution="UVT", kind="sports", limit=10_000, now=now
        ).rows
        if r.resource.id == resource.id
    )
    drawn = [s for d in week.days for s in d.slots if s.kind == "free"] + [s for s in row.day.slots if s.kind == "free"]
    for slot in drawn:
        if overlaps(slot.start, slot.end, window_start, window_end):
            s, e = max(slot.start, window_start), min(slot.end, window_end)
            assert any(a <= s and e <= b for a, b in free), (slot.start, slot.end, free)

    # Probes land anywhere in the day, or near an edge of what is there (where rules disagree first).
    edges = sorted({t for p in pieces for t in (p.start, p.end)})
    for _ in range(10):
        minutes = data.draw(length, label="minutes")
        if data.draw(st.booleans(), label="near an edge"):
            edge = data.draw(st.sampled_from(edges), label="edge")
            start = edge + timedelta(minutes=15 * data.draw(st.integers(-8, 8), label="shift"))
            probe = Span(start, start + timedelta(minutes=minutes))
        else:
            probe = _span(resource, day, data.draw(st.integers(0, 95), label="quarter"), minutes)
        if probe is None or probe.start < window_start or probe.end > window_end:
            continue
        local = to_local(probe.start, resource.timezone).replace(tzinfo=None)
        inside_free = any(a <= probe.start and probe.end <= b for a, b in free)
        hits = [p for p in pieces if p.reason is not None and overlaps(p.start, p.end, probe.start, probe.end)]
        catalogue_says = bool(engine.free_among([resource], {resource.id: probe}, requester=user, now=now))
        answer = (
            schedule.search_free(
                user,
                day=local.date(),
                start=local.time(),
                end=(local + timedelta(minutes=minutes)).time(),
                kind="sports",
                institutions=["UVT"],
                now=now,
                limit=10_000,
                busy_limit=10_000,
            )
            if (local + timedelta(minutes=minutes)).date() == local.date()
            else None
        )

        truth = _oracle(resource, probe, user, now)
        booked, clashes = _book(user, resource, probe, now)

        assert booked == (truth is None), (probe, truth, clashes)
        if clashes:
            assert clashes[0].reason == truth
        assert inside_free == (not hits)
        assert booked == inside_free, (probe, pieces, clashes)
        assert catalogue_says == booked
        if answer is not None:
            assert (resource.id in {r.id for r in answer.free}) == booked
        if hits and len({p.reason for p in hits}) == 1 and len(hits) == 1:
            # Inside one busy piece: the refusal gives the piece's reason.
            assert clashes[0].reason == hits[0].reason
        if not booked:
            # Suggestions and the search's next free slots are bookable.
            suggested = engine.nearest_slots(
                user, resource, probe, now=now, step=timedelta(minutes=30), horizon=timedelta(days=2), limit=2
            )
            nexts = answer.busy if answer is not None else []
            offered = suggested + [s for r, slots in nexts if r.id == resource.id for s in slots[:1]]
            for start, end in offered:
                ok, why = _book(user, resource, Span(start, end), now)
                assert ok, (start, end, why)
