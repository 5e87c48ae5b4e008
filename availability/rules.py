"""The booking rules as pure functions over one read of busy time. No database, no app.

Every time rule is a set of refusal regions: a span is refused by a rule exactly when it overlaps
one of that rule's regions. A booking check asks which rule (in the order of `ORDER`) refuses a
span first; availability, the week calendar, the timeline, search and suggestions cut the same
regions into busy pieces (each with the first rule that covers it) and free pieces. So what one
reader calls free, the booking check accepts, and what one calls busy, it refuses with the same
reason — by construction, and a property test checks it against real bookings.

Duration rules (minimum and maximum length) belong to the span, not to the time, and the weekly
quota to the requester's other bookings: they are checked for bookings only.

Who may override what (the one rule): nobody overrides a time rule. Managers and admins meet the
same notice, window, hours, blocks and units as anyone; they differ only in that their own requests
need no approval (`bookings.services.needs_approval`), that an admin is never a partner (the window
of `window_days`), and that they see whose bookings a clash names (`Asker.sees_titles`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from flask_babel import lazy_gettext as _l

from app.i18n import lazy_duration
from app.zones import to_local
from availability.intervals import Span, overlaps, saturated, units_free, widen
from resources.hours import closed_spans

# The order in which rules are asked; the first that refuses a span names its reason.
ORDER = (
    "past",
    "notice",
    "too_far",
    "too_short",
    "too_long",
    "closed",
    "blocked",
    "imported",
    "linked",
    "overlap",
)
RANK = {reason: index for index, reason in enumerate(ORDER)}

REASONS = {
    "past": _l("starts in the past"),
    "notice": _l("too short notice"),
    "too_far": _l("beyond the furthest bookable date"),
    "too_short": _l("shorter than the minimum duration"),
    "too_long": _l("longer than the maximum duration"),
    "closed": _l("outside opening hours"),
    "blocked": _l("the resource is blocked"),
    "imported": _l("busy in the resource's imported calendar"),
    "linked": _l("a linked resource is booked"),
    "overlap": _l("already booked"),
    "quota": _l("over the weekly quota"),
}

# Why a time cannot be booked, as a page says it after "cannot be booked:" (the code stays in the API).
REASON_LABELS = {
    "past": _l("it starts in the past"),
    "notice": _l("it is too short notice"),
    "too_far": _l("it is beyond the furthest bookable date"),
    "too_short": _l("it is shorter than the minimum duration"),
    "too_long": _l("it is longer than the maximum duration"),
    "closed": _l("the resource is closed then"),
    "blocked": _l("the resource is blocked then"),
    "imported": _l("the resource's own calendar is busy then"),
    "linked": _l("a linked space is booked then"),
    "overlap": _l("it is already booked then"),
    "quota": _l("it would exceed your weekly quota"),
}

# Far enough out to stand for "always before" and "always after" any bookable instant.
BEFORE_ALL = datetime(1900, 1, 1, tzinfo=UTC)
AFTER_ALL = datetime(2300, 1, 1, tzinfo=UTC)


class RuleSettings(Protocol):
    """The resource settings the rules read (a `resources.models.Resource` has them all)."""

    id: int
    institution_id: int
    units: int
    timezone: str
    buffer_minutes: int
    min_notice_minutes: int
    max_advance_days: int | None
    partner_max_advance_days: int | None
    min_duration_minutes: int | None
    max_duration_minutes: int | None
    opening_hours: dict | None


class Person(Protocol):
    id: int
    role: str
    institution_id: int

    def manages(self, institution_id: int) -> bool: ...


@dataclass
class Clash:
    start: datetime
    end: datetime
    reason: str
    detail: str
    clashes_with: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Held:
    """An active occurrence holding units."""

    resource_id: int
    start: datetime
    end: datetime
    units: int
    booking_id: int
    requester_id: int
    title: str
    status: str
    occurrence_id: int = 0


@dataclass(frozen=True)
class Blocked:
    """A blocked period: maintenance (`manual`) or busy time from an imported calendar (`import`)."""

    resource_id: int
    start: datetime
    end: datetime
    reason: str
    source: str


@dataclass
class BusyTime:
    """Everything held or blocked on some resources and the resources linked to them, over a window."""

    start: datetime
    end: datetime
    links: dict[int, list[int]]
    held: dict[int, list[Held]]
    blocked: dict[int, list[Blocked]]

    def linked(self, resource_id: int) -> list[int]:
        return self.links.get(resource_id, [])

    def without(self, booking_id: int | None) -> BusyTime:
        """The same busy time with one booking's occurrences set aside (it is being moved or decided)."""
        if booking_id is None:
            return self
        held = {rid: [h for h in items if h.booking_id != booking_id] for rid, items in self.held.items()}
        return replace(self, held=held)


@dataclass(frozen=True)
class Asker:
    """Who asks, as far as the time rules care: their booking window, and whether they see titles."""

    user_id: int | None
    window_days: int | None
    sees_titles: bool


def is_partner(person: Person | None, resource: RuleSettings) -> bool:
    return person is not None and person.institution_id != resource.institution_id and person.role != "admin"


def window_days(resource: RuleSettings, person: Person | None) -> int | None:
    """The booking window of the requester's class: partners may have a shorter one than the owners."""
    if is_partner(person, resource) and resource.partner_max_advance_days is not None:
        return resource.partner_max_advance_days
    return resource.max_advance_days


def asker_for(resource: RuleSettings, person: Person | None) -> Asker:
    sees = person is not None and person.manages(resource.institution_id)
    return Asker(person.id if person else None, window_days(resource, person), sees)


# --- regions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    start: datetime
    end: datetime
    reason: str
    what: dict[str, Any] | None = None


def _days_around(resource: RuleSettings, start: datetime, end: datetime) -> tuple[date, int]:
    first = to_local(start, resource.timezone).date() - timedelta(days=1)
    last = to_local(end, resource.timezone).date() + timedelta(days=1)
    return first, (last - first).days + 1


def closed_regions(resource: RuleSettings, start: datetime, end: datetime) -> list[Region]:
    if resource.opening_hours is None:
        return []
    first, days = _days_around(resource, start, end)
    return [
        Region(s, e, "closed")
        for s, e in closed_spans(resource.opening_hours, resource.timezone, first, days)
        if overlaps(s, e, start, end)
    ]


def _describe(held: Held, asker: Asker) -> dict[str, Any]:
    if asker.sees_titles or (asker.user_id is not None and held.requester_id == asker.user_id):
        return {"type": "booking", "booking_id": held.booking_id, "title": held.title, "status": held.status}
    return {"type": "booking"}


def regions(
    resource: RuleSettings,
    busy: BusyTime,
    asker: Asker,
    now: datetime,
    start: datetime,
    end: datetime,
    *,
    units: int = 1,
    extra: Sequence[Span] = (),
) -> list[Region]:
    """Every region of [start, end) where some time rule refuses a booking of `units` units.

    `extra` are spans already accepted in the same request (the earlier sessions of a series).
    """
    found: list[Region] = [Region(BEFORE_ALL, now, "past")]
    if resource.min_notice_minutes:
        found.append(Region(BEFORE_ALL, now + timedelta(minutes=resource.min_notice_minutes), "notice"))
    if asker.window_days is not None:
        found.append(Region(now + timedelta(days=asker.window_days), AFTER_ALL, "too_far"))
    found += closed_regions(resource, start, end)
    for block in busy.blocked.get(resource.id, []):
        reason = "imported" if block.source == "import" else "blocked"
        what = {"type": "imported"} if reason == "imported" else {"type": "block", "reason": block.reason}
        found.append(Region(block.start, block.end, reason, what))
    buffer = resource.buffer_minutes
    for other in busy.linked(resource.id):
        for held in busy.held.get(other, []):
            found.append(
                Region(*widen(held.start, held.end, buffer), "linked", {"type": "linked", "resource_id": other})
            )
        for block in busy.blocked.get(other, []):
            found.append(
                Region(
                    block.start, block.end, "linked", {"type": "block", "resource_id": other, "reason": block.reason}
                )
            )
    own = [Span(h.start, h.end, h.units) for h in busy.held.get(resource.id, [])] + list(extra)
    widened = [Span(*widen(s.start, s.end, buffer), s.units) for s in own]
    # Busy where fewer than `units` units stay free: the units in use exceed capacity − units.
    threshold = resource.units - units + 1
    lo, hi = widen(start, end, buffer)
    found += [Region(s, e, "overlap") for s, e in saturated(widened, threshold, lo, hi)]
    return [r for r in found if overlaps(r.start, r.end, start, end)]


# --- one span: the booking check ---------------------------------------------------------------


def _duration_clash(resource: RuleSettings, span: Span) -> Clash | None:
    minutes = (span.end - span.start).total_seconds() / 60
    if resource.min_duration_minutes is not None and minutes < resource.min_duration_minutes:
        shortest = lazy_duration(resource.min_duration_minutes)
        return Clash(span.start, span.end, "too_short", _l("at least %(duration)s", duration=shortest))
    if resource.max_duration_minutes is not None and minutes > resource.max_duration_minutes:
        longest = lazy_duration(resource.max_duration_minutes)
        return Clash(span.start, span.end, "too_long", _l("at most %(duration)s", duration=longest))
    return None


def _detail(
    reason: str, hits: list[Region], resource: RuleSettings, busy: BusyTime, asker: Asker, span: Span, extra
) -> tuple[str, list[dict[str, Any]]]:
    if reason == "notice":
        return _l("book at least %(duration)s ahead", duration=lazy_duration(resource.min_notice_minutes)), []
    if reason == "past":
        return _l("the start is in the past"), []
    if reason == "too_far":
        return _l("book at most %(days)s days ahead", days=asker.window_days), []
    if reason == "blocked":
        blocks = [r.what for r in hits if r.what]
        return (blocks[0] or {}).get("reason") or REASONS["blocked"], blocks
    if reason in ("imported", "linked"):
        return REASONS[reason], [r.what for r in hits if r.what]
    if reason == "overlap":
        start, end = widen(span.start, span.end, resource.buffer_minutes)
        existing = [h for h in busy.held.get(resource.id, []) if overlaps(h.start, h.end, start, end)]
        if resource.units == 1:
            detail = REASONS["overlap"]
        else:
            held = [Span(h.start, h.end, h.units) for h in busy.held.get(resource.id, [])] + list(extra)
            free = units_free(resource.units, held, span, resource.buffer_minutes)
            detail = _l("%(free)s of %(units)s units free", free=max(free, 0), units=resource.units)
        return detail, [_describe(h, asker) for h in existing]
    return REASONS[reason], []


def check_span(
    resource: RuleSettings,
    span: Span,
    busy: BusyTime,
    asker: Asker,
    now: datetime,
    *,
    extra: Sequence[Span] = (),
) -> Clash | None:
    """The first rule that refuses this span, or None when it can be booked (quota aside)."""
    found = regions(resource, busy, asker, now, span.start, span.end, units=span.units, extra=extra)
    ranked = sorted({r.reason for r in found}, key=RANK.__getitem__)
    duration = _duration_clash(resource, span)
    first = ranked[0] if ranked else None
    if duration is not None and (first is None or RANK[duration.reason] < RANK[first]):
        return duration
    if first is None:
        return None
    detail, what = _detail(first, [r for r in found if r.reason == first], resource, busy, asker, span, extra)
    return Clash(span.start, span.end, first, detail, what)


def check_spans(
    resource: RuleSettings, spans: Iterable[Span], busy: BusyTime, asker: Asker, now: datetime
) -> tuple[list[Span], list[Clash]]:
    """Each span of one request in turn; the accepted ones hold units for those after them."""
    accepted: list[Span] = []
    clashes: list[Clash] = []
    for span in spans:
        clash = check_span(resource, span, busy, asker, now, extra=accepted)
        if clash is None:
            accepted.append(span)
        else:
            clashes.append(clash)
    return accepted, clashes


# --- a window: busy and free pieces ------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    start: datetime
    end: datetime
    reason: str | None  # None: free


def pieces(
    resource: RuleSettings,
    busy: BusyTime,
    asker: Asker,
    now: datetime,
    start: datetime,
    end: datetime,
    *,
    units: int = 1,
) -> list[Piece]:
    """[start, end) cut into busy pieces (each with the first rule that refuses it) and free ones."""
    found = regions(resource, busy, asker, now, start, end, units=units)
    cuts = sorted({start, end, *(max(r.start, start) for r in found), *(min(r.end, end) for r in found)})
    best: list[int] = [len(ORDER)] * (len(cuts) - 1)
    for region in found:
        lo = bisect_left(cuts, max(region.start, start))
        hi = bisect_right(cuts, min(region.end, end)) - 1
        rank = RANK[region.reason]
        for index in range(lo, hi):
            best[index] = min(best[index], rank)
    result: list[Piece] = []
    for index, rank in enumerate(best):
        reason = ORDER[rank] if rank < len(ORDER) else None
        a, b = cuts[index], cuts[index + 1]
        if result and result[-1].reason == reason and result[-1].end == a:
            result[-1] = Piece(result[-1].start, b, reason)
        else:
            result.append(Piece(a, b, reason))
    return result


def free_spans(
    resource: RuleSettings,
    busy: BusyTime,
    asker: Asker,
    now: datetime,
    start: datetime,
    end: datetime,
    *,
    units: int = 1,
) -> list[tuple[datetime, datetime]]:
    """The free pieces alone: where a booking of `units` units could lie (duration and quota aside)."""
    return [(p.start, p.end) for p in pieces(resource, busy, asker, now, start, end, units=units) if p.reason is None]
