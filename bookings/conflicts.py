"""The one conflict path: every rule that can refuse a time, used by bookings, availability and search.

Queries are bounded on both sides (a span can only clash with occurrences that start no earlier
than the longest occurrence ever booked on the resource before it), so a check costs the same
with a thousand or a million bookings in the history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from accounts.models import Role, User
from app.extensions import db
from bookings.intervals import Span, clashes_with_buffer, overlaps, saturated, units_free, widen
from bookings.models import Booking, Occurrence
from calendars.zones import to_utc, zone
from resources.hours import is_within_opening_hours
from resources.models import Authorization, Block, Resource, resource_links

REASONS = {
    "past": "starts in the past",
    "notice": "too short notice",
    "too_far": "beyond the furthest bookable date",
    "too_short": "shorter than the minimum duration",
    "too_long": "longer than the maximum duration",
    "closed": "outside opening hours",
    "blocked": "the resource is blocked",
    "imported": "busy in the resource's imported calendar",
    "linked": "a linked resource is booked",
    "overlap": "already booked",
    "quota": "over the weekly quota",
}


@dataclass
class Clash:
    start: datetime
    end: datetime
    reason: str
    detail: str
    clashes_with: list[dict[str, Any]] = field(default_factory=list)


# --- locking -----------------------------------------------------------------------------------


def linked_ids(resource_id: int) -> list[int]:
    return list(
        db.session.scalars(select(resource_links.c.linked_id).where(resource_links.c.resource_id == resource_id))
    )


def lock_resources(resource_ids: Iterable[int]) -> None:
    """Serialise writers of these resources and of the resources linked to them (a hall and its
    courts block each other) until the transaction ends.

    PostgreSQL: row locks on the resources, always taken in id order so that two requests
    over overlapping sets cannot deadlock. SQLite: a no-op write, which takes the database's
    write lock (waiting up to busy_timeout for the writer ahead). The Python driver opens the
    transaction at that first write, so no earlier read snapshot can go stale under it.
    """
    wanted = set(resource_ids)
    linked = db.session.scalars(
        select(resource_links.c.linked_id).where(resource_links.c.resource_id.in_(wanted))
    ).all()
    ids = sorted(wanted.union(linked))
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Resource.id).where(Resource.id.in_(ids)).order_by(Resource.id).with_for_update())
    else:
        db.session.execute(
            update(Resource)
            .where(Resource.id.in_(ids))
            # updated_at kept: taking the lock is not a change of the resource (feeds key on it).
            .values(longest_booking_minutes=Resource.longest_booking_minutes, updated_at=Resource.updated_at)
            .execution_options(synchronize_session=False)
        )


def note_longest(resource: Resource, spans: Sequence[Span]) -> None:
    longest = max(int((s.end - s.start).total_seconds() // 60) + 1 for s in spans)
    if longest > resource.longest_booking_minutes:
        db.session.execute(
            update(Resource)
            .where(Resource.id == resource.id, Resource.longest_booking_minutes < longest)
            .values(longest_booking_minutes=longest, updated_at=Resource.updated_at)
        )


# --- queries -----------------------------------------------------------------------------------


def _lookback(resource_ids: Sequence[int]) -> timedelta:
    longest = db.session.scalar(
        select(Resource.longest_booking_minutes)
        .where(Resource.id.in_(resource_ids))
        .order_by(Resource.longest_booking_minutes.desc())
        .limit(1)
    )
    return timedelta(minutes=longest or 0)


def active_occurrences(
    resource_ids: Sequence[int],
    start: datetime,
    end: datetime,
    *,
    exclude_booking_id: int | None = None,
    with_bookings: bool = False,
) -> list[Occurrence]:
    """Occurrences holding units on these resources that overlap [start, end) (with their bookings
    loaded in one more query when the caller shows them)."""
    if not resource_ids:
        return []
    query = select(Occurrence).where(
        Occurrence.resource_id.in_(resource_ids),
        Occurrence.active.is_(True),
        Occurrence.start_at < end,
        Occurrence.start_at >= start - _lookback(resource_ids),
        Occurrence.end_at > start,
    )
    if exclude_booking_id is not None:
        query = query.where(Occurrence.booking_id != exclude_booking_id)
    if with_bookings:
        query = query.options(selectinload(Occurrence.booking))
    return list(db.session.scalars(query))


def blocks_between(resource_ids: Sequence[int], start: datetime, end: datetime) -> list[Block]:
    return list(
        db.session.scalars(
            select(Block).where(Block.resource_id.in_(resource_ids), Block.start_at < end, Block.end_at > start)
        )
    )


def is_authorized(user: User, resource: Resource, now: datetime) -> bool:
    if not resource.requires_authorization:
        return True
    if user.role == Role.ADMIN or (user.role == Role.MANAGER and user.institution_id == resource.institution_id):
        return True
    grant = db.session.scalar(
        select(Authorization).where(Authorization.resource_id == resource.id, Authorization.user_id == user.id)
    )
    return grant is not None and (grant.expires_at is None or grant.expires_at > now)


# --- rules -------------------------------------------------------------------------------------


def _describe(occurrence: Occurrence, viewer: User | None, manages: bool) -> dict[str, Any]:
    booking = occurrence.booking
    if booking is not None and viewer is not None and (manages or booking.requester_id == viewer.id):
        return {"type": "booking", "booking_id": booking.id, "title": booking.title, "status": booking.status}
    return {"type": "booking"}


def advance_days_for(resource: Resource, requester: User | None) -> int | None:
    """The booking window of the requester's class: partners may have a shorter one than the owners."""
    partner = (
        requester is not None and requester.institution_id != resource.institution_id and requester.role != Role.ADMIN
    )
    if partner and resource.partner_max_advance_days is not None:
        return resource.partner_max_advance_days
    return resource.max_advance_days


def policy_reason(
    resource: Resource, span: Span, now: datetime, requester: User | None = None
) -> tuple[str, str] | None:
    minutes = (span.end - span.start).total_seconds() / 60
    if span.start < now:
        return "past", "the start is in the past"
    if span.start < now + timedelta(minutes=resource.min_notice_minutes):
        return "notice", f"book at least {resource.min_notice_minutes} minutes ahead"
    window = advance_days_for(resource, requester)
    if window is not None and span.start > now + timedelta(days=window):
        return "too_far", f"book at most {window} days ahead"
    if resource.min_duration_minutes is not None and minutes < resource.min_duration_minutes:
        return "too_short", f"at least {resource.min_duration_minutes} minutes"
    if resource.max_duration_minutes is not None and minutes > resource.max_duration_minutes:
        return "too_long", f"at most {resource.max_duration_minutes} minutes"
    if not is_within_opening_hours(resource.opening_hours, resource.timezone, span.start, span.end):
        return "closed", "outside opening hours"
    return None


def find_clashes(
    resource: Resource,
    spans: Sequence[Span],
    *,
    requester: User | None,
    now: datetime,
    exclude_booking_id: int | None = None,
    manages: bool = False,
) -> list[Clash]:
    """Every requested span that cannot be booked, with its reason (first failing rule wins)."""
    clashes: list[Clash] = []
    accepted: list[Span] = []
    linked = linked_ids(resource.id)
    for span in spans:
        clash = _check_span(resource, span, linked, accepted, requester, now, exclude_booking_id, manages)
        if clash is None:
            accepted.append(span)
        else:
            clashes.append(clash)
    if requester is not None and resource.quota_hours_per_week:
        clashes.extend(_quota_clashes(resource, accepted, requester, exclude_booking_id))
    return sorted(clashes, key=lambda c: c.start)


def _check_span(
    resource: Resource,
    span: Span,
    linked: list[int],
    accepted: list[Span],
    requester: User | None,
    now: datetime,
    exclude_booking_id: int | None,
    manages: bool,
) -> Clash | None:
    policy = policy_reason(resource, span, now, requester)
    if policy is not None:
        return Clash(span.start, span.end, policy[0], policy[1])
    blocks = blocks_between([resource.id], span.start, span.end)
    if blocks and all(b.source == "import" for b in blocks):
        return Clash(span.start, span.end, "imported", REASONS["imported"], [{"type": "imported"}])
    if blocks:
        return Clash(
            span.start,
            span.end,
            "blocked",
            blocks[0].reason or REASONS["blocked"],
            [{"type": "block", "reason": b.reason} for b in blocks],
        )
    window = widen(span.start, span.end, resource.buffer_minutes)
    if linked:
        on_linked = active_occurrences(linked, *window, exclude_booking_id=exclude_booking_id)
        linked_blocks = blocks_between(linked, span.start, span.end)
        if on_linked or linked_blocks:
            return Clash(
                span.start,
                span.end,
                "linked",
                REASONS["linked"],
                [{"type": "linked", "resource_id": o.resource_id} for o in on_linked]
                + [{"type": "block", "resource_id": b.resource_id, "reason": b.reason} for b in linked_blocks],
            )
    existing = active_occurrences([resource.id], *window, exclude_booking_id=exclude_booking_id)
    held = [Span(o.start_at, o.end_at, o.units) for o in existing] + list(accepted)
    free = units_free(resource.units, held, span, resource.buffer_minutes)
    if free < span.units:
        detail = REASONS["overlap"] if resource.units == 1 else f"{max(free, 0)} of {resource.units} units free"
        return Clash(span.start, span.end, "overlap", detail, [_describe(o, requester, manages) for o in existing])
    return None


def _week_start(moment: datetime, tz_name: str) -> datetime:
    local = moment.astimezone(zone(tz_name))
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday.replace(tzinfo=None)


def _quota_clashes(
    resource: Resource, spans: Sequence[Span], requester: User, exclude_booking_id: int | None
) -> list[Clash]:
    limit = timedelta(hours=resource.quota_hours_per_week or 0)
    by_week: dict[datetime, list[Span]] = defaultdict(list)
    for span in spans:
        by_week[_week_start(span.start, resource.timezone)].append(span)
    clashes = []
    for week, wanted in by_week.items():
        start, end = to_utc(week, resource.timezone), to_utc(week + timedelta(days=7), resource.timezone)
        query = (
            select(Occurrence)
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
        used = sum((o.end_at - o.start_at for o in db.session.scalars(query)), timedelta())
        for span in sorted(wanted):
            if used + (span.end - span.start) > limit:
                left = max(limit - used, timedelta()).total_seconds() / 3600
                clashes.append(
                    Clash(
                        span.start,
                        span.end,
                        "quota",
                        f"{left:g} of {limit.total_seconds() / 3600:g} hours left that week",
                    )
                )
            else:
                used += span.end - span.start
    return clashes


# --- availability and search -------------------------------------------------------------------


def busy_spans(resource: Resource, start: datetime, end: datetime) -> list[tuple[datetime, datetime, str]]:
    """Merged busy time of a resource in [start, end): its bookings (by units), linked bookings and blocks."""
    pieces: list[tuple[datetime, datetime, str]] = []
    existing = [Span(o.start_at, o.end_at, o.units) for o in active_occurrences([resource.id], start, end)]
    # A multi-unit resource is busy only where every unit is taken.
    pieces += [(s, e, "booked") for s, e in saturated(existing, resource.units, start, end)]
    linked = linked_ids(resource.id)
    for occurrence in active_occurrences(linked, start, end):
        pieces.append((max(occurrence.start_at, start), min(occurrence.end_at, end), "linked"))
    for block in blocks_between([resource.id, *linked], start, end):
        pieces.append((max(block.start_at, start), min(block.end_at, end), "blocked"))
    return _merge(sorted(pieces))


def _merge(pieces: list[tuple[datetime, datetime, str]]) -> list[tuple[datetime, datetime, str]]:
    merged: list[tuple[datetime, datetime, str]] = []
    for start, end, kind in pieces:
        if merged and start <= merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2])
        else:
            merged.append((start, end, kind))
    return merged


def free_among(resources: Sequence[Resource], spans: dict[int, Span], *, now: datetime) -> list[Resource]:
    """The resources free for their span (each given in UTC), with a constant number of queries.

    Same rules as `find_clashes` minus the requester's quota: policy and opening hours in
    Python, then one query each for blocks, links and occurrences over all candidates.
    """
    candidates = [r for r in resources if policy_reason(r, spans[r.id], now) is None]
    if not candidates:
        return []
    ids = [r.id for r in candidates]
    # Exact bounds: the look-back of active_occurrences and the buffer below already widen them.
    lo = min(spans[i].start for i in ids)
    hi = max(spans[i].end for i in ids)
    links: dict[int, list[int]] = defaultdict(list)
    for source, target in db.session.execute(
        select(resource_links.c.resource_id, resource_links.c.linked_id).where(resource_links.c.resource_id.in_(ids))
    ):
        links[source].append(target)
    involved = sorted(set(ids) | {t for targets in links.values() for t in targets})
    blocks_by_resource: dict[int, list[Block]] = defaultdict(list)
    for block in blocks_between(involved, lo, hi):
        blocks_by_resource[block.resource_id].append(block)
    occurrences: dict[int, list[Span]] = defaultdict(list)
    max_buffer = timedelta(minutes=max(r.buffer_minutes for r in candidates))
    for o in active_occurrences(involved, lo - max_buffer, hi + max_buffer):
        occurrences[o.resource_id].append(Span(o.start_at, o.end_at, o.units))
    free = []
    for resource in candidates:
        span = spans[resource.id]
        if any(overlaps(b.start_at, b.end_at, span.start, span.end) for b in blocks_by_resource[resource.id]):
            continue
        linked = links[resource.id]
        if any(overlaps(b.start_at, b.end_at, span.start, span.end) for i in linked for b in blocks_by_resource[i]):
            continue
        if any(clashes_with_buffer(span, o, resource.buffer_minutes) for i in linked for o in occurrences[i]):
            continue
        if units_free(resource.units, occurrences[resource.id], span, resource.buffer_minutes) >= span.units:
            free.append(resource)
    return free
