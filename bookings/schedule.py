"""What is busy and free when: the search's free and next-free answer, a resource's week, the day timeline.

All three read the busy time of many resources at once — a fixed number of queries whatever the
number of resources — and cut it into local days in each resource's own zone, so a day of 23 or
25 hours (daylight-saving changes) is drawn as it is lived.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from accounts.models import User
from app import clock
from app.errors import InvalidInput
from app.extensions import db
from app.pagination import Page
from app.zones import EARLIEST, LATEST, to_local, to_utc
from availability import rules
from availability.busy import read_busy
from availability.intervals import Span, overlaps, saturated
from availability.rules import BusyTime, asker_for
from availability.services import free_among
from availability.services import next_free_slots as engine_next_free_slots
from resources.hours import closed_spans, day_intervals, wall_clock_utc
from resources.models import Kind, Resource
from resources.services import can_manage, catalogue_query, get_resource, managed_clause

BUSY_KINDS = ("own", "booking", "linked", "block", "imported")
TIMELINE_HOURS = (7, 22)
TIMELINE_ROWS = 40
SEARCH_FREE_LIMIT = 48
SEARCH_BUSY_LIMIT = 10
NEXT_SLOTS = 3
SLOT_STEP = timedelta(minutes=30)
SLOT_HORIZON = timedelta(days=7)
NIGHTS_HORIZON_DAYS = 30
MAX_NIGHTS = 60
QUARTER = timedelta(minutes=15)


@dataclass
class Piece:
    """A stretch of a resource's time: busy (by kind), closed or free. Instants are UTC."""

    start: datetime
    end: datetime
    kind: str  # own | booking | linked | block | imported | closed | free
    title: str = ""  # the viewer's own booking (managers: anyone's); a block's reason
    booking_id: int | None = None


@dataclass
class Slot:
    """A piece as drawn on one local day: wall-clock minutes from that day's midnight (24:00 = 1440)."""

    piece: Piece
    start_minute: int
    end_minute: int
    start: datetime  # the piece clipped to the day, UTC
    end: datetime

    @property
    def kind(self) -> str:
        return self.piece.kind

    @property
    def label_start(self) -> str:
        return _hhmm(self.start_minute)

    @property
    def label_end(self) -> str:
        return _hhmm(self.end_minute)


@dataclass
class Day:
    day: date
    slots: list[Slot] = field(default_factory=list)

    @property
    def busy(self) -> list[Slot]:
        return [s for s in self.slots if s.kind in BUSY_KINDS]


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# --- reading busy time in bulk -----------------------------------------------------------------


def load_busy(resources: Sequence[Resource], start: datetime, end: datetime) -> BusyTime:
    """The busy time of [start, end) for these resources, widened by their buffers: one read for all."""
    pad = timedelta(minutes=max((r.buffer_minutes for r in resources), default=0))
    return read_busy([r.id for r in resources], start - pad, end + pad)


def load_pieces(resource: Resource, busy: BusyTime, viewer: User | None) -> list[Piece]:
    """What to draw as busy on a resource: its bookings, linked spaces, blocks and imported time.

    Other people's booking titles are only shown to the resource's managers; everyone else sees "booked".
    """
    pieces: list[Piece] = []
    manages = can_manage(viewer, resource.institution_id)
    own = busy.held.get(resource.id, [])
    for held in own:
        if viewer is not None and held.requester_id == viewer.id:
            pieces.append(Piece(held.start, held.end, "own", held.title, held.booking_id))
        elif resource.units == 1:
            title, booking_id = (held.title, held.booking_id) if manages else ("", None)
            pieces.append(Piece(held.start, held.end, "booking", title, booking_id))
    if resource.units > 1:
        # Several units: busy only where every unit is taken.
        spans = [Span(h.start, h.end, h.units) for h in own]
        pieces += [Piece(s, e, "booking") for s, e in saturated(spans, resource.units, busy.start, busy.end)]
    for other in busy.linked(resource.id):
        pieces += [Piece(h.start, h.end, "linked") for h in busy.held.get(other, [])]
        pieces += [Piece(b.start, b.end, "linked") for b in busy.blocked.get(other, [])]
    for block in busy.blocked.get(resource.id, []):
        if block.source == "import":
            pieces.append(Piece(block.start, block.end, "imported"))
        else:
            pieces.append(Piece(block.start, block.end, "block", block.reason))
    pieces.sort(key=lambda p: (p.start, p.end))
    return pieces


def _ceil_quarter(moment: datetime) -> datetime:
    base = moment.replace(second=0, microsecond=0)
    over = (base.minute % 15) * 60 + moment.second + moment.microsecond / 1e6
    return base - timedelta(minutes=base.minute % 15) + (QUARTER if over else timedelta())


def free_pieces(
    resource: Resource, busy: BusyTime, start: datetime, end: datetime, *, now: datetime, viewer: User | None
) -> list[Piece]:
    """The bookable stretches of [start, end), as the availability engine answers them for the viewer,
    from the next quarter hour the notice allows and at least as long as a booking may be."""
    earliest = _ceil_quarter(now + timedelta(minutes=resource.min_notice_minutes))
    shortest = timedelta(minutes=max(resource.min_duration_minutes or 0, 15))
    free = []
    for piece in rules.pieces(resource, busy, asker_for(resource, viewer), now, start, end):
        piece_start = max(piece.start, earliest)
        if piece.reason is None and piece.end - piece_start >= shortest:
            free.append(Piece(piece_start, piece.end, "free"))
    return free


def _local_minute(moment: datetime, day: date, tz_name: str) -> int:
    local = to_local(moment, tz_name)
    if local.date() < day:
        return 0
    if local.date() > day:
        return 24 * 60
    return local.hour * 60 + local.minute


def cut_into_days(resource: Resource, pieces: Sequence[Piece], first_day: date, days: int) -> list[Day]:
    """Each local day with the pieces that touch it, clipped to its wall-clock minutes."""
    tz = resource.timezone
    result = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        day_start, day_end = wall_clock_utc(day, 0, tz), wall_clock_utc(day + timedelta(days=1), 0, tz)
        slots = []
        for piece in pieces:
            if overlaps(piece.start, piece.end, day_start, day_end):
                first = 0 if piece.start <= day_start else _local_minute(piece.start, day, tz)
                last = 24 * 60 if piece.end >= day_end else _local_minute(piece.end, day, tz)
                if last > first:
                    slots.append(Slot(piece, first, last, max(piece.start, day_start), min(piece.end, day_end)))
        slots.sort(key=lambda s: (s.start_minute, s.end_minute))
        result.append(Day(day, slots))
    return result


def day_bounds(resource: Resource, first_day: date, days: int) -> tuple[datetime, datetime]:
    return (
        wall_clock_utc(first_day, 0, resource.timezone),
        wall_clock_utc(first_day + timedelta(days=days), 0, resource.timezone),
    )


def _schedule(
    resource: Resource, busy: BusyTime, first_day: date, days: int, *, now: datetime, viewer: User | None
) -> list[Day]:
    start, end = day_bounds(resource, first_day, days)
    drawn = load_pieces(resource, busy, viewer)
    closed = [
        Piece(s, e, "closed") for s, e in closed_spans(resource.opening_hours, resource.timezone, first_day, days)
    ]
    free = free_pieces(resource, busy, start, end, now=now, viewer=viewer)
    return cut_into_days(resource, [*drawn, *closed, *free], first_day, days)


# --- one-click booking links -------------------------------------------------------------------


def booking_args(resource: Resource, start: datetime, end: datetime) -> dict[str, str]:
    """Query arguments that prefill the resource page's booking form for [start, end)."""
    local_start, local_end = to_local(start, resource.timezone), to_local(end, resource.timezone)
    if resource.kind == Kind.DORM:
        nights = max(1, (local_end.date() - local_start.date()).days)
        return {"date": local_start.date().isoformat(), "nights": str(nights)}
    return {
        "date": local_start.date().isoformat(),
        "start": local_start.strftime("%H:%M"),
        "end": local_end.strftime("%H:%M"),
    }


def first_booking_in(resource: Resource, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """A booking of the usual length (an hour, or the minimum duration) at the start of a free span."""
    length = timedelta(minutes=max(60, resource.min_duration_minutes or 0))
    if resource.max_duration_minutes:
        length = min(length, timedelta(minutes=resource.max_duration_minutes))
    return start, min(end, start + length)


# --- the week of one resource ------------------------------------------------------------------


@dataclass
class WeekView:
    resource: Resource
    monday: date
    days: list[Day]
    first_hour: int
    last_hour: int
    today: date

    @property
    def previous(self) -> date:
        return self.monday - timedelta(days=7)

    @property
    def following(self) -> date:
        return self.monday + timedelta(days=7)

    @property
    def hours(self) -> range:
        return range(self.first_hour, self.last_hour)

    def position(self, slot: Slot) -> str | None:
        """CSS classes placing a slot in the drawn hours, or None when it lies outside them."""
        return _position(slot, self.first_hour, self.last_hour)


def _position(slot: Slot, first_hour: int, last_hour: int) -> str | None:
    """Classes for the slot's offset from the first drawn hour and its length, each as hours and minutes.

    static/css/app.css turns them into top/height (week) or left/width (timeline), to the minute; classes
    rather than a style attribute, because the Content-Security-Policy allows no inline style.
    """
    low, high = first_hour * 60, last_hour * 60
    start, end = max(slot.start_minute, low), min(slot.end_minute, high)
    if end <= start:
        return None
    (at_h, at_m), (len_h, len_m) = divmod(start - low, 60), divmod(end - start, 60)
    return f"at-{at_h}h at-{at_m}m len-{len_h}h len-{len_m}m"


def _drawn_hours(resource: Resource, days: Sequence[Day], default: tuple[int, int]) -> tuple[int, int]:
    first, last = default
    if resource.opening_hours is not None:
        intervals = [iv for d in days for iv in day_intervals(resource.opening_hours, d.day)]
        if intervals:
            first, last = min(a for a, _ in intervals) // 60, -(-max(b for _, b in intervals) // 60)
    for day in days:
        for slot in day.busy:
            first = min(first, slot.start_minute // 60)
            last = max(last, -(-slot.end_minute // 60))
    return first, max(last, first + 1)


def check_year(day: date | None, name: str) -> None:
    """Days the pages and the API accept: 2000 to 2099 (the bookable years); raises InvalidInput."""
    if day is not None and not EARLIEST.year <= day.year < LATEST.year:
        raise InvalidInput({name: _l("must be between 2000 and 2099")})


def week_view(viewer: User | None, resource_id: int, start_day: date | None, *, now: datetime) -> WeekView:
    resource = get_resource(viewer, resource_id)
    today = to_local(now, resource.timezone).date()
    start_day = start_day or today
    monday = start_day - timedelta(days=start_day.weekday())
    start, end = day_bounds(resource, monday, 7)
    busy = load_busy([resource], start, end)
    days = _schedule(resource, busy, monday, 7, now=now, viewer=viewer)
    first, last = _drawn_hours(resource, days, (8, 20))
    return WeekView(resource, monday, days, first, last, today)


# --- the day timeline across resources ---------------------------------------------------------


@dataclass
class TimelineRow:
    resource: Resource
    day: Day


@dataclass
class Timeline:
    day: date
    rows: list[TimelineRow]
    total: int
    first_hour: int = TIMELINE_HOURS[0]
    last_hour: int = TIMELINE_HOURS[1]

    @property
    def hours(self) -> range:
        return range(self.first_hour, self.last_hour)

    def position(self, slot: Slot) -> str | None:
        return _position(slot, self.first_hour, self.last_hour)  # the same classes, drawn across


def timeline(
    viewer: User | None,
    *,
    day: date,
    institution: str | None = None,
    kind: str | None = None,
    limit: int = TIMELINE_ROWS,
    now: datetime,
) -> Timeline:
    """Resources as rows against the hours of one local day; busy, closed and free stretches per row."""
    # A row names its resource and draws its day: its features and links (load_busy reads links) stay unloaded.
    query = catalogue_query(viewer, kind=kind, institutions=[institution] if institution else None, details=False)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    resources = list(db.session.scalars(query.limit(limit)))
    if not resources:
        return Timeline(day, [], total)
    bounds = [day_bounds(r, day, 1) for r in resources]
    busy = load_busy(resources, min(b[0] for b in bounds), max(b[1] for b in bounds))
    rows = [TimelineRow(r, _schedule(r, busy, day, 1, now=now, viewer=viewer)[0]) for r in resources]
    return Timeline(day, rows, total)


# --- search: free then, or the next free slots ---------------------------------------------------


@dataclass
class SearchAnswer:
    free: list[Resource]
    free_total: int
    busy: list[tuple[Resource, list[tuple[datetime, datetime]]]]
    busy_total: int
    spans: dict[int, Span]
    nights: int | None = None


def requested_span(resource: Resource, day: date, start: time | None, end: time | None, nights: int | None) -> Span:
    """The UTC span a search means for this resource (its own zone; nights from its check-in time)."""
    if nights:
        check_in = resource.check_in_time or "14:00"
        check_out = resource.check_out_time or "11:00"
        local_start = datetime.combine(day, time.fromisoformat(check_in))
        local_end = datetime.combine(day + timedelta(days=nights), time.fromisoformat(check_out))
    else:
        assert start is not None and end is not None
        local_start, local_end = datetime.combine(day, start), datetime.combine(day, end)
    try:
        return Span(to_utc(local_start, resource.timezone), to_utc(local_end, resource.timezone))
    except ValueError as exc:
        raise InvalidInput({"start": str(exc)}) from exc


def search_free(
    viewer: User | None,
    *,
    day: date | None,
    start: time | None = None,
    end: time | None = None,
    nights: int | None = None,
    kind: str | None = None,
    feature: str | None = None,
    q: str | None = None,
    min_capacity: int | None = None,
    institutions: Sequence[str] | None = None,
    now: datetime,
    limit: int = SEARCH_FREE_LIMIT,
    busy_limit: int = SEARCH_BUSY_LIMIT,
) -> SearchAnswer:
    """What matches and is free for the whole span; for what matches but is taken, its next free slots.

    Constant queries in the number of matching resources: one for the candidates, a few for
    `free_among`, and a few for the next slots of at most `busy_limit` taken ones.
    """
    check_year(day, "date")
    if day is None and (start is not None or end is not None or nights is not None):
        raise InvalidInput({"date": _l("give the date (the check-in day for nights)")})
    if nights is not None:
        if start is not None or end is not None:
            raise InvalidInput({"nights": _l("give either a start and end time or a number of nights")})
        if not 1 <= nights <= MAX_NIGHTS:
            raise InvalidInput({"nights": _l("must be between 1 and %(max)s", max=MAX_NIGHTS)})
        if kind not in (None, Kind.DORM.value):
            raise InvalidInput({"nights": _l("nights apply to dorm rooms")})
        kind = Kind.DORM.value
    elif day is not None and (start is None or end is None):
        raise InvalidInput({"start" if start is None else "end": _l("give a start and an end time, or nights")})
    elif start is not None and end is not None and end <= start:
        raise InvalidInput({"end": _l("must be after start")})
    query = catalogue_query(
        viewer, kind=kind, feature=feature, q=q, min_capacity=min_capacity, institutions=institutions
    )
    if day is None:
        # No "when": what matches, without availability.
        total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
        return SearchAnswer(list(db.session.scalars(query.limit(limit))), total, [], 0, {})
    candidates = list(db.session.scalars(query))
    spans = {r.id: requested_span(r, day, start, end, nights) for r in candidates}
    free = free_among(candidates, spans, requester=viewer, now=now)
    free_ids = {r.id for r in free}
    taken = [r for r in candidates if r.id not in free_ids]
    shown = taken[:busy_limit]
    slots = next_free_slots(viewer, shown, spans, now=now, nights=bool(nights))
    return SearchAnswer(
        free=free[:limit],
        free_total=len(free),
        busy=[(r, slots[r.id]) for r in shown],
        busy_total=len(taken),
        spans=spans,
        nights=nights,
    )


def next_free_slots(
    viewer: User | None,
    resources: Sequence[Resource],
    spans: dict[int, Span],
    *,
    now: datetime,
    nights: bool = False,
    limit: int = NEXT_SLOTS,
) -> dict[int, list[tuple[datetime, datetime]]]:
    """The next free slots of the same length after each resource's span: half-hour steps over a week,
    or (for nights) whole local days over a month."""
    if nights:
        step, horizon = timedelta(days=1), timedelta(days=NIGHTS_HORIZON_DAYS)
    else:
        step, horizon = SLOT_STEP, SLOT_HORIZON
    return engine_next_free_slots(
        viewer, resources, spans, now=now, step=step, horizon=horizon, whole_days=nights, limit=limit
    )


# --- the catalogue: filters, and optionally free for a span in each resource's zone ---------------

SearchResult = Page[Resource]


def search_resources(
    viewer: User | None,
    *,
    kind: str | None = None,
    institution: str | None = None,
    q: str | None = None,
    min_capacity: int | None = None,
    feature: str | None = None,
    free_from: datetime | None = None,
    free_to: datetime | None = None,
    managed: bool = False,
    page: int = 1,
    per_page: int = 20,
) -> SearchResult:
    filters: dict[str, Any] = {
        "kind": kind,
        "institutions": [institution] if institution else None,
        "q": q,
        "min_capacity": min_capacity,
        "feature": feature,
    }
    query = catalogue_query(viewer, **filters)
    if managed:
        query = query.where(managed_clause(viewer))

    if free_from is not None or free_to is not None:
        if free_from is None or free_to is None:
            raise InvalidInput({"free_from" if free_from is None else "free_to": _l("give both free_from and free_to")})
        # Availability depends on each resource's zone and rules, so it is decided per candidate: the candidates
        # are read without their features and links, which only the page's own resources then load.
        bare = catalogue_query(viewer, **filters, details=False)
        if managed:
            bare = bare.where(managed_clause(viewer))
        free = filter_free(viewer, list(db.session.scalars(bare)), free_from, free_to)
        start = (page - 1) * per_page
        shown = [r.id for r in free[start : start + per_page]]
        items = list(db.session.scalars(query.where(Resource.id.in_(shown)))) if shown else []
        return SearchResult(items, len(free), page, per_page)

    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return SearchResult(items, total, page, per_page)


def filter_free(
    viewer: User | None, resources: list[Resource], start: datetime, end: datetime, *, now: datetime | None = None
) -> list[Resource]:
    """Resources the viewer could book for all of [start, end) (naive times are each resource's local time)."""
    spans: dict[int, Span] = {}
    for resource in resources:
        try:
            span_start, span_end = to_utc(start, resource.timezone), to_utc(end, resource.timezone)
        except ValueError as exc:
            raise InvalidInput({"free_from": str(exc)}) from exc
        if span_end <= span_start:
            raise InvalidInput({"free_to": _l("must be after free_from")})
        spans[resource.id] = Span(span_start, span_end)
    return free_among(resources, spans, requester=viewer, now=now or clock.now())
