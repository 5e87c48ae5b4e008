"""How the alliance's facilities are used: utilisation per resource, kind or university, and the exchange
between universities (who used whose facilities).

Utilisation of a resource over local days `first` … `last` (its own zone; DST days counted as lived):
- open time: its opening hours (always open without any), less blocked and imported time, times its units;
- booked time: the part of each confirmed booking's active occurrences inside that open time, times the
  units booked;
- occupancy: booked ÷ open (None when nothing was open); the same inside prime time (default weekdays
  09:00–17:00 local; REPORT_PRIME_TIME, as opening hours);
- bookings: confirmed bookings with an active occurrence starting in the period; check-ins: their sessions
  checked in to; cancelled: occurrences starting in the period that were cancelled before they began, with
  the mean time between the cancellation and the start (lead time); no-shows: those released after they
  began without a check-in (bookings.services.release_no_shows);
- refused: requests for the resource refused (409) on the period's days (Timișoara's calendar), by the reason
  of their first refused time (reports/receivers.py counts them);
- dorms also in bed-nights: a night is the one before a local midnight inside the period; it is open unless
  blocked time covers that midnight, and booked for the units of each stay that spans it.
Each resource's rows are read once (occurrences, blocks) and swept in time order.

The heat map splits the same open and booked time by local weekday and hour; the trends add up the exchange
between universities week by week (local weeks from Monday, in Timișoara's calendar, as the settlement).
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import groupby
from operator import itemgetter
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, literal, select

from accounts.models import Institution, Role, User
from app.database import epoch_seconds
from app.errors import InvalidInput, PermissionDenied
from app.extensions import db
from app.zones import zone
from availability.busy import lookback
from bookings.models import Booking, Occurrence, Status
from bookings.schedule import check_year
from bookings.statements import ZONE, StatementRow, confirmed_use, exchange_between
from reports.models import RefusalCount
from resources.hours import closed_spans, wall_clock_utc
from resources.models import Block, Kind, Resource

MAX_DAYS = 400
# Prime time, as opening hours in each resource's zone (REPORT_PRIME_TIME overrides it).
PRIME_TIME = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
GROUPS = ("resource", "kind", "institution")

Interval = tuple[datetime, datetime]


@dataclass
class Usage:
    """The figures of one resource, or of a group of them (sums)."""

    key: str
    label: str
    institution: str | None
    open_seconds: float = 0.0
    booked_seconds: float = 0.0
    prime_open_seconds: float = 0.0
    prime_booked_seconds: float = 0.0
    bookings: int = 0
    checked_in: int = 0
    cancelled: int = 0
    cancel_lead_seconds: float = 0.0
    no_shows: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    open_nights: int | None = None
    booked_nights: int | None = None

    @property
    def open_hours(self) -> Decimal:
        return _hours(self.open_seconds)

    @property
    def booked_hours(self) -> Decimal:
        return _hours(self.booked_seconds)

    @property
    def occupancy(self) -> Decimal | None:
        return _share(self.booked_seconds, self.open_seconds)

    @property
    def prime_open_hours(self) -> Decimal:
        return _hours(self.prime_open_seconds)

    @property
    def prime_booked_hours(self) -> Decimal:
        return _hours(self.prime_booked_seconds)

    @property
    def prime_occupancy(self) -> Decimal | None:
        return _share(self.prime_booked_seconds, self.prime_open_seconds)

    @property
    def cancel_lead_hours(self) -> Decimal | None:
        """The mean time between a cancellation and the session's start (None without cancellations)."""
        return None if not self.cancelled else _hours(self.cancel_lead_seconds / self.cancelled)

    @property
    def unused(self) -> bool:
        """Open in the period and never booked."""
        return self.open_seconds > 0 and self.booked_seconds == 0

    @property
    def refused_total(self) -> int:
        return sum(self.refused.values())

    @property
    def no_show_rate(self) -> Decimal | None:
        """No-shows among the sessions that were due: those kept (booked) and those missed."""
        return _share(self.no_shows, self.bookings + self.no_shows)

    def add(self, other: Usage) -> None:
        self.open_seconds += other.open_seconds
        self.booked_seconds += other.booked_seconds
        self.prime_open_seconds += other.prime_open_seconds
        self.prime_booked_seconds += other.prime_booked_seconds
        self.bookings += other.bookings
        self.checked_in += other.checked_in
        self.cancelled += other.cancelled
        self.cancel_lead_seconds += other.cancel_lead_seconds
        self.no_shows += other.no_shows
        for reason, count in other.refused.items():
            self.refused[reason] = self.refused.get(reason, 0) + count
        if other.open_nights is not None:
            self.open_nights = (self.open_nights or 0) + other.open_nights
            self.booked_nights = (self.booked_nights or 0) + (other.booked_nights or 0)


def _share(part: float, whole: float) -> Decimal | None:
    return None if whole <= 0 else Decimal(part / whole).quantize(Decimal("0.0001"))


def _hours(seconds: float) -> Decimal:
    return Decimal(seconds / 3600).quantize(Decimal("0.01"))


@dataclass
class Period:
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def bounds(self, tz_name: str) -> Interval:
        """[local midnight of `first`, local midnight after `last`) as UTC instants."""
        return wall_clock_utc(self.first, 0, tz_name), wall_clock_utc(self.last + timedelta(days=1), 0, tz_name)


def period(first: date, last: date) -> Period:
    check_year(first, "from")
    check_year(last, "to")
    if last < first:
        raise InvalidInput({"to": _l("must not be before from")})
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInput({"to": _l("a report covers at most %(num)d days", num=MAX_DAYS)})
    return Period(first, last)


# --- interval arithmetic (sorted, disjoint, half-open) -------------------------------------------


def _merged(spans: Iterable[Interval]) -> list[Interval]:
    result: list[Interval] = []
    for start, end in sorted(spans):
        if result and start <= result[-1][1]:
            if end > result[-1][1]:
                result[-1] = (result[-1][0], end)
        elif start < end:
            result.append((start, end))
    return result


def _minus(spans: Sequence[Interval], holes: Sequence[Interval]) -> list[Interval]:
    """`spans` less `holes` (both sorted and disjoint)."""
    result: list[Interval] = []
    j = 0
    for start, end in spans:
        cursor = start
        while j < len(holes) and holes[j][1] <= cursor:
            j += 1
        k = j
        while k < len(holes) and holes[k][0] < end:
            if holes[k][0] > cursor:
                result.append((cursor, holes[k][0]))
            cursor = max(cursor, holes[k][1])
            k += 1
        if cursor < end:
            result.append((cursor, end))
    return result


def _overlap(sessions: Sequence[tuple[float, float, int]], spans: Sequence[tuple[float, float]]) -> float:
    """Σ (time of each session inside `spans`) × its units; sessions in start order, spans sorted and
    disjoint: one merge of the two lists (a span that ends before a session starts ends before every later
    one too)."""
    total, first, count = 0.0, 0, len(spans)
    for start, end, units in sessions:
        while first < count and spans[first][1] <= start:
            first += 1
        i = first
        while i < count:
            low, high = spans[i]
            if low >= end:
                break
            total += ((end if end < high else high) - (start if start > low else low)) * units
            i += 1
    return total


# --- utilisation ---------------------------------------------------------------------------------


def _scope(actor: User, institution: str | None) -> str | None:
    """The university code the actor may report on (None: every one)."""
    if actor.role == Role.MEMBER:
        raise PermissionDenied(_l("Reports are for managers and admins."))
    if actor.role == Role.MANAGER:
        own = actor.institution.code
        if institution and institution.upper() != own:
            raise PermissionDenied(_l("Managers see the reports of their own university."))
        return own
    return institution.upper() if institution else None


@dataclass
class _Rows:
    """What the report reads, per resource: its sessions as Session tuples in time order; its blocked periods;
    and its refused requests by reason."""

    sessions: dict[int, list[Session]] = field(default_factory=lambda: defaultdict(list))
    blocks: dict[int, list[Interval]] = field(default_factory=lambda: defaultdict(list))
    refused: dict[int, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))


# A session: (start, end, units, state, booking id, lead, checked in) with start and end in epoch seconds,
# `state` one of CONFIRMED, CANCELLED (before it began), NO_SHOW (released after it began without a
# check-in) or OTHER, `lead` the seconds from a cancellation to the start (0 otherwise), `checked in` 0 or 1.
Session = tuple[float, float, int, int, int, float, int]


CONFIRMED, CANCELLED, NO_SHOW, OTHER = 0, 1, 2, 3


def _read(resources: Sequence[Resource], when: Period) -> _Rows:
    """Three queries, whatever the number of resources or sessions: the sessions as numbers (no datetimes
    are built: a year of the alliance is a quarter of a million rows), each with its state decided by the
    database; the blocks; and the refusals, added up by the database."""
    rows = _Rows()
    if not resources:
        return rows
    ids = [r.id for r in resources]
    # A day either side covers every zone's local days.
    low = datetime.combine(when.first - timedelta(days=1), time(), tzinfo=UTC)
    high = datetime.combine(when.last + timedelta(days=2), time(), tzinfo=UTC)
    inactive = Occurrence.active.is_(False) & Occurrence.cancelled_at.is_not(None)
    # An active occurrence belongs to a pending or a confirmed booking (the engine holds every active one):
    # leaving out the few pending ones spares joining a quarter of a million rows to their bookings.
    pending = select(Booking.id).where(Booking.resource_id.in_(ids), Booking.status == Status.PENDING)
    state = case(
        (Occurrence.active.is_(True) & Occurrence.booking_id.not_in(pending), CONFIRMED),
        (inactive & (Occurrence.cancelled_at < Occurrence.start_at), CANCELLED),
        (inactive & Occurrence.checked_in_at.is_(None), NO_SHOW),
        else_=OTHER,
    )
    lead = case(
        (state == CANCELLED, epoch_seconds(Occurrence.start_at) - epoch_seconds(Occurrence.cancelled_at)), else_=0.0
    )
    checked = case((Occurrence.checked_in_at.is_not(None), 1), else_=0)
    # Through the session's connection (Core): a quarter of a million plain rows need no ORM result handling.
    query = (
        select(
            Occurrence.resource_id,
            epoch_seconds(Occurrence.start_at),
            epoch_seconds(Occurrence.end_at),
            Occurrence.units,
            state,
            Occurrence.booking_id,
            lead,
            checked,
        )
        .where(
            Occurrence.resource_id.in_(ids),
            Occurrence.start_at >= low - lookback(ids),
            Occurrence.start_at < high,
            Occurrence.end_at > low,
        )
        .order_by(Occurrence.resource_id, Occurrence.start_at)
    )
    for resource_id, group in groupby(db.session.connection().execute(query), key=itemgetter(0)):
        rows.sessions[resource_id] = [row[1:] for row in group]  # type: ignore[misc]
    for resource_id, start, end in db.session.execute(
        select(Block.resource_id, Block.start_at, Block.end_at).where(
            Block.resource_id.in_(ids), Block.start_at < high, Block.end_at > low
        )
    ):
        rows.blocks[resource_id].append((start, end))
    for resource_id, reason, count in db.session.execute(
        select(RefusalCount.resource_id, RefusalCount.reason, func.sum(RefusalCount.count))
        .where(RefusalCount.resource_id.in_(ids), RefusalCount.day.between(when.first, when.last))
        .group_by(RefusalCount.resource_id, RefusalCount.reason)
    ):
        rows.refused[resource_id][reason] = int(count)
    return rows


def _open(resource: Resource, when: Period, blocks: Sequence[Interval]) -> tuple[list[Interval], list[Interval]]:
    """The resource's open spans in the period (opening hours less blocks), and its merged blocks."""
    low, high = when.bounds(resource.timezone)
    closed = _closed(json.dumps(resource.opening_hours, sort_keys=True), resource.timezone, when.first, when.days)
    blocked = _merged((max(s, low), min(e, high)) for s, e in blocks)
    return _minus(_minus([(low, high)], closed), blocked), blocked


def resource_usage(
    resource: Resource,
    when: Period,
    sessions: Sequence[Session],
    blocks: Sequence[Interval],
    locale: str = "ro",
    prime: dict | None = None,
    refused: dict[str, int] | None = None,
) -> Usage:
    """The figures of one resource (see the module's docstring); pure, given its rows. `prime` is prime time
    as opening hours ({"mon": [["09:00", "17:00"]], ...}, in the resource's zone)."""
    low, high = when.bounds(resource.timezone)
    open_spans, blocked = _open(resource, when, blocks)
    available = [(s.timestamp(), e.timestamp()) for s, e in open_spans]
    outside_prime = _closed(json.dumps(prime or PRIME_TIME, sort_keys=True), resource.timezone, when.first, when.days)
    prime_spans = [(s.timestamp(), e.timestamp()) for s, e in _minus(open_spans, outside_prime)]
    first, last = low.timestamp(), high.timestamp()
    usage = Usage(str(resource.id), resource.display_name(locale), resource.institution.code)
    usage.refused = dict(refused or {})
    usage.open_seconds = sum(e - s for s, e in available) * resource.units
    usage.prime_open_seconds = sum(e - s for s, e in prime_spans) * resource.units
    booked: list[tuple[float, float, int]] = []
    booking_ids: set[int] = set()
    for start, end, units, state, booking_id, lead, checked in sessions:
        inside = first <= start < last
        if state == CONFIRMED:
            booked.append((start, end, units))
            if inside:
                booking_ids.add(booking_id)
                usage.checked_in += checked
        elif inside and state == CANCELLED:
            usage.cancelled += 1
            usage.cancel_lead_seconds += lead
        elif inside and state == NO_SHOW:
            usage.no_shows += 1
    usage.bookings = len(booking_ids)
    usage.booked_seconds = _overlap(booked, available)
    usage.prime_booked_seconds = _overlap(booked, prime_spans)
    if resource.kind == Kind.DORM:
        midnights = [wall_clock_utc(when.first + timedelta(days=n + 1), 0, resource.timezone) for n in range(when.days)]
        usage.open_nights = sum(resource.units for m in midnights if not _covers(blocked, m))
        stamps = [m.timestamp() for m in midnights]
        usage.booked_nights = sum(
            units * (bisect.bisect_right(stamps, end) - bisect.bisect_right(stamps, start))
            for start, end, units in booked
        )
    return usage


@lru_cache(maxsize=256)
def _closed(hours: str, tz_name: str, first: date, days: int) -> list[Interval]:
    """Merged closed spans of the period; resources with the same hours and zone share them (a year of a
    resource's hours is some 700 spans, each a wall-clock conversion)."""
    return _merged(closed_spans(json.loads(hours), tz_name, first, days))


def _covers(spans: Sequence[Interval], moment: datetime) -> bool:
    return any(start <= moment < end for start, end in spans)


def reported_resources(
    actor: User, *, institution: str | None = None, kind: str | None = None, resource_id: int | None = None
) -> list[Resource]:
    """The resources a report covers, in catalogue order: the actor's scope (a manager's university, or
    everything for admins; members are refused), narrowed by the filters."""
    code = _scope(actor, institution)
    query = select(Resource).join(Institution, Institution.id == Resource.institution_id)
    if code:
        query = query.where(Institution.code == code)
    if kind:
        query = query.where(Resource.kind == kind)
    if resource_id is not None:
        query = query.where(Resource.id == resource_id)
    return list(db.session.scalars(query.order_by(Institution.code, Resource.kind, Resource.name, Resource.id)))


def utilisation(
    actor: User,
    when: Period,
    *,
    group_by: str = "resource",
    institution: str | None = None,
    kind: str | None = None,
    resource_id: int | None = None,
    locale: str = "ro",
    heat: Heat | None = None,
    unused: bool = False,
) -> list[Usage]:
    """Utilisation rows in catalogue order (a university's code, a kind, or a resource per row); with
    `heat`, the same time is also added up by local weekday and hour there; with `unused`, only the
    resources open in the period and never booked count (each row, each group, the heat map)."""
    if group_by not in GROUPS:
        raise InvalidInput({"group_by": _l("use resource, kind or institution")})
    resources = reported_resources(actor, institution=institution, kind=kind, resource_id=resource_id)
    rows = _read(resources, when)
    prime = current_app.config.get("REPORT_PRIME_TIME") or PRIME_TIME
    per_resource = [
        resource_usage(
            r, when, rows.sessions.get(r.id, []), rows.blocks.get(r.id, []), locale, prime, rows.refused.get(r.id)
        )
        for r in resources
    ]
    if unused:
        kept = [(r, u) for r, u in zip(resources, per_resource, strict=True) if u.unused]
        resources, per_resource = [r for r, _ in kept], [u for _, u in kept]
    if heat is not None:
        for r in resources:
            _fill(heat, r, when, rows.sessions.get(r.id, []), rows.blocks.get(r.id, []))
    if group_by == "resource":
        return per_resource
    groups: dict[str, Usage] = {}
    for resource, usage in zip(resources, per_resource, strict=True):
        key = resource.kind if group_by == "kind" else resource.institution.code
        label = str(Kind(resource.kind).label) if group_by == "kind" else resource.institution.name(locale)
        institution_code = resource.institution.code if group_by == "institution" else None
        group = groups.setdefault(key, Usage(key, label, institution_code))
        group.add(usage)
    return list(groups.values())


# --- exchange ------------------------------------------------------------------------------------


def exchange(actor: User, when: Period) -> list[StatementRow]:
    """Who used whose facilities in the period (local days in Timișoara's calendar, as the settlement):
    bookings, hours, bed-nights and amounts per pair of universities, the settlement statement's own rule."""
    _scope(actor, None)  # members are refused; a manager sees the pairs their university is part of
    return exchange_between(actor, *when.bounds(ZONE))


# --- findings ------------------------------------------------------------------------------------

BOTTLENECK = Decimal("0.8")


@dataclass
class Findings:
    """What helps decide, from utilisation rows: bottlenecks (occupancy at 80 % or more), the least used
    (lowest occupancy first), those unused in the period (open, nothing booked), no-show rates, and the
    most refused (demand that could not be met)."""

    bottlenecks: list[Usage]
    least_used: list[Usage]
    unused: list[Usage]
    no_shows: list[Usage]
    most_refused: list[Usage]


def findings(rows: Sequence[Usage], *, limit: int = 5) -> Findings:
    measured = [r for r in rows if r.occupancy is not None]
    return Findings(
        bottlenecks=sorted((r for r in measured if r.occupancy >= BOTTLENECK), key=lambda r: -r.occupancy),  # type: ignore[operator]
        least_used=sorted((r for r in measured if r.booked_seconds > 0), key=lambda r: r.occupancy)[:limit],  # type: ignore[arg-type, return-value]
        unused=[r for r in rows if r.unused],
        no_shows=sorted((r for r in rows if r.no_shows), key=lambda r: -(r.no_show_rate or 0))[:limit],
        most_refused=sorted((r for r in rows if r.refused), key=lambda r: -r.refused_total)[:limit],
    )


@dataclass
class Matrix:
    """The exchange as a grid: who used (rows) whose facilities (columns), hours in each cell."""

    users: list[str]
    owners: list[str]
    hours: dict[tuple[str, str], Decimal]
    nights: dict[tuple[str, str], int]

    @property
    def most(self) -> Decimal:
        return max(self.hours.values(), default=Decimal(0))

    def shade(self, user: str, owner: str) -> float:
        """The cell's opacity: 0.04 when empty, up to 1 for the busiest pair."""
        value = self.hours.get((user, owner))
        if not value or not self.most:
            return 0.04
        return round(0.08 + 0.92 * float(value / self.most), 2)


def exchange_matrix(rows: Sequence[StatementRow]) -> Matrix:
    hours: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    nights: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        hours[(r.user_institution, r.owner_institution)] += r.hours
        nights[(r.user_institution, r.owner_institution)] += r.nights
    return Matrix(
        sorted({r.user_institution for r in rows}),
        sorted({r.owner_institution for r in rows}),
        dict(hours),
        dict(nights),
    )


# --- heat map: hour × weekday ---------------------------------------------------------------------

WEEKDAYS = 7
HOURS = 24


@dataclass
class Heat:
    """Open and booked seconds per local weekday (0 Monday … 6 Sunday) and hour of the day, over every
    resource reported (each in its own zone; a repeated hour at the autumn clock change counts twice, the
    skipped one in spring not at all, as lived)."""

    open_seconds: list[list[float]] = field(default_factory=lambda: [[0.0] * HOURS for _ in range(WEEKDAYS)])
    booked_seconds: list[list[float]] = field(default_factory=lambda: [[0.0] * HOURS for _ in range(WEEKDAYS)])

    def occupancy(self, weekday: int, hour: int) -> Decimal | None:
        return _share(self.booked_seconds[weekday][hour], self.open_seconds[weekday][hour])

    def shade(self, weekday: int, hour: int) -> float | None:
        """The cell's opacity, 0.06 when open and idle up to 1 when full; None when it was never open."""
        share = self.occupancy(weekday, hour)
        return None if share is None else round(0.06 + 0.94 * min(float(share), 1.0), 2)

    def open_hours(self, weekday: int, hour: int) -> Decimal:
        return _hours(self.open_seconds[weekday][hour])

    def booked_hours(self, weekday: int, hour: int) -> Decimal:
        return _hours(self.booked_seconds[weekday][hour])


@lru_cache(maxsize=64)
def _hour_marks(tz_name: str, low: float, high: float) -> tuple[list[float], list[tuple[int, int]]]:
    """The starts (epoch seconds) of the hours from `low` to `high` and each one's local (weekday, hour);
    the zones in use keep whole-hour offsets, so every UTC hour is one local hour."""
    tz = zone(tz_name)
    stamps, labels = [], []
    moment = low - low % 3600
    while moment < high:
        local = datetime.fromtimestamp(moment, tz)
        stamps.append(moment)
        labels.append((local.weekday(), local.hour))
        moment += 3600
    stamps.append(moment)
    return stamps, labels


def _spread(
    start: float, end: float, weight: float, marks: tuple[list[float], list[tuple[int, int]]], into: list[list[float]]
) -> None:
    """Add [start, end) × weight to the cells of the hours it covers."""
    stamps, labels = marks
    i = max(0, bisect.bisect_right(stamps, start) - 1)
    while start < end and i < len(labels):
        step = min(end, stamps[i + 1]) - start
        if step > 0:
            weekday, hour = labels[i]
            into[weekday][hour] += step * weight
        start = max(start, stamps[i + 1])
        i += 1


def _pieces(start: float, end: float, spans: Sequence[tuple[float, float]], starts: Sequence[float]):
    """The parts of [start, end) inside `spans` (sorted, disjoint)."""
    i = max(0, bisect.bisect_right(starts, start) - 1)
    while i < len(spans) and spans[i][0] < end:
        low, high = max(start, spans[i][0]), min(end, spans[i][1])
        if low < high:
            yield low, high
        i += 1


def heatmap(actor: User, when: Period, **filters: Any) -> Heat:
    """Open and booked time of the reported resources by local weekday and hour (the utilisation's rule,
    from the utilisation's own reading)."""
    heat = Heat()
    utilisation(actor, when, heat=heat, **filters)
    return heat


def _fill(
    heat: Heat, resource: Resource, when: Period, sessions: Sequence[Session], blocks: Sequence[Interval]
) -> None:
    open_spans, _ = _open(resource, when, blocks)
    low, high = when.bounds(resource.timezone)
    marks = _hour_marks(resource.timezone, low.timestamp(), high.timestamp())
    available = [(s.timestamp(), e.timestamp()) for s, e in open_spans]
    starts = [s for s, _ in available]
    for start, end in available:
        _spread(start, end, resource.units, marks, heat.open_seconds)
    for start, end, units, state, *_ in sessions:
        if state == CONFIRMED:
            for piece_start, piece_end in _pieces(start, end, available, starts):
                _spread(piece_start, piece_end, units, marks, heat.booked_seconds)


# --- trends: the exchange week by week -------------------------------------------------------------


@dataclass
class TrendRow:
    week: date  # the Monday of the week (the period's first day for a partial first week)
    user_institution: str
    owner_institution: str
    bookings: int
    hours: Decimal


def _weeks(when: Period) -> list[tuple[date, datetime]]:
    """Each week's first day in the period and its start as an instant (Timișoara's calendar)."""
    days = [when.first] + [
        when.first + timedelta(days=n) for n in range(1, when.days) if (when.first + timedelta(days=n)).weekday() == 0
    ]
    return [(day, wall_clock_utc(day, 0, ZONE)) for day in days]


def trends(actor: User, when: Period) -> list[TrendRow]:
    """Confirmed use per week and pair of universities (by occurrence start, hours outside dorms: the
    exchange's rule, so the weeks of a period add up to its exchange), added up by the database in one query."""
    _scope(actor, None)
    weeks = _weeks(when)
    low, high = when.bounds(ZONE)
    whens = [(Occurrence.start_at < start, index - 1) for index, (_, start) in enumerate(weeks) if index]
    week = case(*whens, else_=len(weeks) - 1) if whens else literal(0)
    used, user_inst, owner = confirmed_use(actor, low, high)
    seconds = case(
        (Resource.kind == Kind.DORM.value, 0.0),
        else_=(epoch_seconds(Occurrence.end_at) - epoch_seconds(Occurrence.start_at)) * Occurrence.units,
    )
    query = used.with_only_columns(
        week, user_inst.code, owner.code, func.count(func.distinct(Booking.id)), func.sum(seconds)
    ).group_by(week, user_inst.code, owner.code)
    rows = [
        TrendRow(weeks[index][0], user, owner_code, int(count), (Decimal(total or 0) / 3600).quantize(Decimal("0.01")))
        for index, user, owner_code, count, total in db.session.execute(query)
    ]
    return sorted(rows, key=lambda r: (r.week, r.user_institution, r.owner_institution))


@dataclass
class WeekTotals:
    week: date
    partner_hours: Decimal  # members of one university using another's facilities
    own_hours: Decimal


def weekly_totals(rows: Sequence[TrendRow], when: Period) -> list[WeekTotals]:
    """Every week of the period (none missing), with the hours used across universities and at home."""
    totals = {day: WeekTotals(day, Decimal(0), Decimal(0)) for day, _ in _weeks(when)}
    for r in rows:
        if r.user_institution == r.owner_institution:
            totals[r.week].own_hours += r.hours
        else:
            totals[r.week].partner_hours += r.hours
    return list(totals.values())
