"""The availability engine: every reader of "is this time free?" asks here.

Booking, rescheduling, approval and waitlist offers (`find_clashes`), the catalogue and search
filters (`free_among`), the availability API (`availability`), suggestions (`nearest_slots`),
the search's next free slots (`next_free_slots`) and the week calendar and timeline (through
`read_busy` and `rules.pieces`) all read busy time with `busy.read_busy` and judge it with the
pure rules of `availability.rules`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from accounts.models import User
from app.errors import InvalidInput
from app.extensions import db
from app.zones import to_local, to_utc, zone
from availability.busy import read_busy
from availability.intervals import Span
from availability.rules import (
    Asker,
    BusyTime,
    Clash,
    Piece,
    asker_for,
    check_span,
    check_spans,
    free_spans,
    pieces,
)
from bookings.models import Booking, Occurrence
from resources.models import Resource

MAX_WINDOW = timedelta(days=62)


def _buffer(resource: Resource) -> timedelta:
    return timedelta(minutes=resource.buffer_minutes)


def find_clashes(
    resource: Resource,
    spans: Sequence[Span],
    *,
    requester: User | None,
    now: datetime,
    exclude_booking_id: int | None = None,
    viewer: User | None = None,
) -> list[Clash]:
    """Every requested span that cannot be booked, with its reason (the first rule that refuses it).

    The rules are the requester's; a `viewer` acting for them (a manager moving or deciding a
    request) also sees the titles of what it clashes with when they manage the resource.
    """
    if not spans:
        return []
    lo = min(s.start for s in spans) - _buffer(resource)
    hi = max(s.end for s in spans) + _buffer(resource)
    busy = read_busy([resource.id], lo, hi).without(exclude_booking_id)
    asker = asker_for(resource, requester)
    if viewer is not None and viewer.manages(resource.institution_id):
        asker = replace(asker, sees_titles=True)
    accepted, clashes = check_spans(resource, spans, busy, asker, now)
    if requester is not None and resource.quota_hours_per_week:
        clashes.extend(quota_clashes(resource, accepted, requester, exclude_booking_id))
    return sorted(clashes, key=lambda c: c.start)


def free_among(
    resources: Sequence[Resource], spans: dict[int, Span], *, requester: User | None, now: datetime
) -> list[Resource]:
    """The resources whose span (UTC) the requester could book, in one read of busy time (quota aside)."""
    if not resources:
        return []
    pad = max((_buffer(r) for r in resources), default=timedelta())
    lo = min(spans[r.id].start for r in resources) - pad
    hi = max(spans[r.id].end for r in resources) + pad
    busy = read_busy([r.id for r in resources], lo, hi)
    return [r for r in resources if check_span(r, spans[r.id], busy, asker_for(r, requester), now) is None]


def availability(
    resource: Resource, start: datetime, end: datetime, *, viewer: User | None, now: datetime
) -> list[Piece]:
    """[start, end) cut into what `viewer` could book now (free) and what not (busy, with the reason)."""
    if end <= start:
        raise InvalidInput({"to": _l("must be after from")})
    if end - start > MAX_WINDOW:
        raise InvalidInput({"to": _l("ask for at most %(num)s days at a time", num=MAX_WINDOW.days)})
    busy = read_busy([resource.id], start - _buffer(resource), end + _buffer(resource))
    return pieces(resource, busy, asker_for(resource, viewer), now, start, end)


# --- the week's quota ----------------------------------------------------------------------------


def _week_start(moment: datetime, tz_name: str) -> datetime:
    local = moment.astimezone(zone(tz_name))
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday.replace(tzinfo=None)


def _used(resource: Resource, requester: User, week: datetime, exclude_booking_id: int | None) -> timedelta:
    """Hours the requester holds on the resource in the local week starting at `week` (naive Monday)."""
    start, end = to_utc(week, resource.timezone), to_utc(week + timedelta(days=7), resource.timezone)
    query = (
        select(Occurrence.start_at, Occurrence.end_at)
        .join(Booking, Booking.id == Occurrence.booking_id)
        .where(
            Occurrence.resource_id == resource.id,
            Occurrence.active.is_(True),
            Booking.requester_id == requester.id,
            Occurrence.start_at >= start,
            Occurrence.start_at < end,
        )
    )
    if exclude_booking_id is not None:
        query = query.where(Occurrence.booking_id != exclude_booking_id)
    return sum((e - s for s, e in db.session.execute(query)), timedelta())


def quota_clashes(
    resource: Resource,
    spans: Sequence[Span],
    requester: User,
    exclude_booking_id: int | None = None,
    used: dict[datetime, timedelta] | None = None,
) -> list[Clash]:
    """The spans that would take the requester past the resource's weekly hours (local weeks).

    `used` caches the hours already held per week across calls (suggestions ask many times).
    """
    limit = timedelta(hours=resource.quota_hours_per_week or 0)
    used = {} if used is None else used
    by_week: dict[datetime, list[Span]] = defaultdict(list)
    for span in spans:
        by_week[_week_start(span.start, resource.timezone)].append(span)
    clashes = []
    for week, wanted in by_week.items():
        if week not in used:
            used[week] = _used(resource, requester, week, exclude_booking_id)
        held = used[week]
        for span in sorted(wanted):
            if held + (span.end - span.start) > limit:
                left = max(limit - held, timedelta()).total_seconds() / 3600
                hours = limit.total_seconds() / 3600
                clashes.append(
                    Clash(
                        span.start,
                        span.end,
                        "quota",
                        _l("%(left)s of %(hours)s hours left that week", left=f"{left:g}", hours=f"{hours:g}"),
                    )
                )
            else:
                held += span.end - span.start
    return clashes


# --- free slots near a wish ----------------------------------------------------------------------


class FreeIndex:
    """The free pieces of one resource over a horizon, for many "is this span free?" questions."""

    def __init__(self, resource: Resource, busy: BusyTime, asker: Asker, now: datetime, start, end, units: int):
        self.resource = resource
        self.free = free_spans(resource, busy, asker, now, start, end, units=units)
        self.starts = [s for s, _ in self.free]

    def allows(self, span: Span) -> bool:
        """True when the span lies inside one free piece and meets the duration rules."""
        index = bisect_right(self.starts, span.start) - 1
        if index < 0 or self.free[index][1] < span.end:
            return False
        minutes = (span.end - span.start).total_seconds() / 60
        low, high = self.resource.min_duration_minutes, self.resource.max_duration_minutes
        return (low is None or minutes >= low) and (high is None or minutes <= high)


def _quota_ok(resource: Resource, requester: User | None) -> Callable[[Span], bool]:
    if requester is None or not resource.quota_hours_per_week:
        return lambda span: True
    used: dict[datetime, timedelta] = {}  # one query per week, whatever the number of candidates
    return lambda span: not quota_clashes(resource, [span], requester, used=used)


def nearest_slots(
    requester: User | None,
    resource: Resource,
    span: Span,
    *,
    now: datetime,
    step: timedelta,
    horizon: timedelta,
    limit: int,
) -> list[tuple[datetime, datetime]]:
    """Free slots of the same length around the wish, nearest first (later before earlier at equal distance)."""
    length = span.end - span.start
    lo, hi = span.start - horizon, span.end + horizon
    busy = read_busy([resource.id], lo - _buffer(resource), hi + _buffer(resource))
    index = FreeIndex(resource, busy, asker_for(resource, requester), now, lo, hi, span.units)
    quota_ok = _quota_ok(resource, requester)
    slots: list[tuple[datetime, datetime]] = []
    for number in range(1, int(horizon / step) + 1):
        for direction in (1, -1):
            start = span.start + direction * number * step
            candidate = Span(start, start + length, span.units)
            if index.allows(candidate) and quota_ok(candidate):
                slots.append((candidate.start, candidate.end))
                if len(slots) == limit:
                    return slots
    return slots


def next_free_slots(
    viewer: User | None,
    resources: Sequence[Resource],
    spans: dict[int, Span],
    *,
    now: datetime,
    step: timedelta,
    horizon: timedelta,
    whole_days: bool,
    limit: int,
) -> dict[int, list[tuple[datetime, datetime]]]:
    """The next free slots of the same length after each resource's span, from one read of busy time.

    With `whole_days` candidates move by local days, so a check-in stays at its hour across DST.
    """
    result: dict[int, list[tuple[datetime, datetime]]] = {r.id: [] for r in resources}
    if not resources:
        return result
    pad = max(_buffer(r) for r in resources)
    lo = min(spans[r.id].start for r in resources)
    hi = max(spans[r.id].end for r in resources) + horizon + timedelta(days=1)
    busy = read_busy([r.id for r in resources], lo - pad, hi + pad)
    for resource in resources:
        span = spans[resource.id]
        index = FreeIndex(resource, busy, asker_for(resource, viewer), now, span.start, hi, span.units)
        quota_ok = _quota_ok(resource, viewer)
        local_start = to_local(span.start, resource.timezone).replace(tzinfo=None)
        local_end = to_local(span.end, resource.timezone).replace(tzinfo=None)
        for number in range(1, int(horizon / step) + 1):
            if whole_days:
                try:
                    moved = (
                        to_utc(local_start + number * step, resource.timezone),
                        to_utc(local_end + number * step, resource.timezone),
                    )
                except ValueError:
                    continue
                candidate = Span(moved[0], moved[1], span.units)
            else:
                candidate = Span(span.start + number * step, span.end + number * step, span.units)
            if index.allows(candidate) and quota_ok(candidate):
                result[resource.id].append((candidate.start, candidate.end))
                if len(result[resource.id]) == limit:
                    break
    return result
