"""How the alliance's facilities are used: utilisation per resource, kind or university, and the exchange
between universities (who used whose facilities).

Utilisation of a resource over local days `first` … `last` (its own zone; DST days counted as lived):
- open time: its opening hours (always open without any), less blocked and imported time, times its units;
- booked time: the part of each confirmed booking's active occurrences inside that open time, times the
  units booked;
- occupancy: booked ÷ open (None when nothing was open); the same inside prime time (default weekdays
  09:00–17:00 local; REPORT_PRIME_TIME, as opening hours);
- bookings: confirmed bookings with an active occurrence starting in the period; cancelled: occurrences
  starting in the period that were cancelled before they began; no-shows: those released after they began
  without a check-in (bookings.services.release_no_shows);
- dorms also in bed-nights: a night is the one before a local midnight inside the period; it is open unless
  blocked time covers that midnight, and booked for the units of each stay that spans it.
Each resource's rows are read once (occurrences, blocks) and swept in time order.
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
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Float, case, cast, extract, select

from accounts.models import Institution, Role, User
from app.errors import InvalidInput, PermissionDenied
from app.extensions import db
from bookings.models import Booking, Occurrence, Status
from bookings.schedule import check_year
from bookings.statements import ZONE, StatementRow, exchange_between
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
    cancelled: int = 0
    no_shows: int = 0
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
    def no_show_rate(self) -> Decimal | None:
        """No-shows among the sessions that were due: those kept (booked) and those missed."""
        return _share(self.no_shows, self.bookings + self.no_shows)

    def add(self, other: Usage) -> None:
        self.open_seconds += other.open_seconds
        self.booked_seconds += other.booked_seconds
        self.prime_open_seconds += other.prime_open_seconds
        self.prime_booked_seconds += other.prime_booked_seconds
        self.bookings += other.bookings
        self.cancelled += other.cancelled
        self.no_shows += other.no_shows
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


def _inside(start: float, end: float, spans: Sequence[tuple[float, float]], starts: Sequence[float]) -> float:
    """Seconds of [start, end) inside `spans` (sorted, disjoint, in epoch seconds; `starts` their starts)."""
    total = 0.0
    i = max(0, bisect.bisect_right(starts, start) - 1)
    while i < len(spans) and spans[i][0] < end:
        low, high = max(start, spans[i][0]), min(end, spans[i][1])
        if low < high:
            total += high - low
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
    """What the report reads, per resource: its sessions as (start, end, units, state, booking id) in epoch
    seconds and time order, `state` one of CONFIRMED, CANCELLED (before it began), NO_SHOW (released after it
    began without a check-in) or OTHER; and its blocked periods."""

    sessions: dict[int, list[tuple[float, float, int, int, int]]] = field(default_factory=lambda: defaultdict(list))
    blocks: dict[int, list[Interval]] = field(default_factory=lambda: defaultdict(list))


CONFIRMED, CANCELLED, NO_SHOW, OTHER = 0, 1, 2, 3


def _epoch(column: Any) -> Any:
    return cast(extract("epoch", column), Float)


def _read(resources: Sequence[Resource], when: Period) -> _Rows:
    """Two queries, whatever the number of resources or sessions: the sessions as numbers (no datetimes
    are built: a year of the alliance is a quarter of a million rows), each with its state decided by the
    database, and the blocks."""
    rows = _Rows()
    if not resources:
        return rows
    ids = [r.id for r in resources]
    # A day either side covers every zone's local days.
    low = datetime.combine(when.first - timedelta(days=1), time(), tzinfo=UTC)
    high = datetime.combine(when.last + timedelta(days=2), time(), tzinfo=UTC)
    inactive = Occurrence.active.is_(False) & Occurrence.cancelled_at.is_not(None)
    state = case(
        ((Occurrence.active.is_(True)) & (Booking.status == Status.CONFIRMED), CONFIRMED),
        (inactive & (Occurrence.cancelled_at < Occurrence.start_at), CANCELLED),
        (inactive & Occurrence.checked_in_at.is_(None), NO_SHOW),
        else_=OTHER,
    )
    for resource_id, *session in db.session.execute(
        select(
            Occurrence.resource_id,
            _epoch(Occurrence.start_at),
            _epoch(Occurrence.end_at),
            Occurrence.units,
            state,
            Occurrence.booking_id,
        )
        .join(Booking, Booking.id == Occurrence.booking_id)
        .where(Occurrence.resource_id.in_(ids), Occurrence.start_at < high, Occurrence.end_at > low)
        .order_by(Occurrence.resource_id, Occurrence.start_at)
    ):
        rows.sessions[resource_id].append(tuple(session))  # type: ignore[arg-type]
    for resource_id, start, end in db.session.execute(
        select(Block.resource_id, Block.start_at, Block.end_at).where(
            Block.resource_id.in_(ids), Block.start_at < high, Block.end_at > low
        )
    ):
        rows.blocks[resource_id].append((start, end))
    return rows


def resource_usage(
    resource: Resource,
    when: Period,
    sessions: Sequence[tuple[float, float, int, int, int]],
    blocks: Sequence[Interval],
    locale: str = "ro",
    prime: dict | None = None,
) -> Usage:
    """The figures of one resource (see the module's docstring); pure, given its rows. `prime` is prime time
    as opening hours ({"mon": [["09:00", "17:00"]], ...}, in the resource's zone)."""
    low, high = when.bounds(resource.timezone)
    closed = _closed(json.dumps(resource.opening_hours, sort_keys=True), resource.timezone, when.first, when.days)
    blocked = _merged((max(s, low), min(e, high)) for s, e in blocks)
    open_spans = _minus(_minus([(low, high)], closed), blocked)
    available = [(s.timestamp(), e.timestamp()) for s, e in open_spans]
    starts = [s for s, _ in available]
    outside_prime = _closed(json.dumps(prime or PRIME_TIME, sort_keys=True), resource.timezone, when.first, when.days)
    prime_spans = [(s.timestamp(), e.timestamp()) for s, e in _minus(open_spans, outside_prime)]
    prime_starts = [s for s, _ in prime_spans]
    first, last = low.timestamp(), high.timestamp()
    usage = Usage(str(resource.id), resource.display_name(locale), resource.institution.code)
    usage.open_seconds = sum(e - s for s, e in available) * resource.units
    usage.prime_open_seconds = sum(e - s for s, e in prime_spans) * resource.units
    booked: list[tuple[float, float, int]] = []
    booking_ids: set[int] = set()
    for start, end, units, state, booking_id in sessions:
        inside = first <= start < last
        if state == CONFIRMED:
            booked.append((start, end, units))
            usage.booked_seconds += _inside(start, end, available, starts) * units
            usage.prime_booked_seconds += _inside(start, end, prime_spans, prime_starts) * units
            if inside:
                booking_ids.add(booking_id)
        elif inside and state == CANCELLED:
            usage.cancelled += 1
        elif inside and state == NO_SHOW:
            usage.no_shows += 1
    usage.bookings = len(booking_ids)
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


def utilisation(
    actor: User,
    when: Period,
    *,
    group_by: str = "resource",
    institution: str | None = None,
    kind: str | None = None,
    resource_id: int | None = None,
    locale: str = "ro",
) -> list[Usage]:
    """Utilisation rows in catalogue order (a university's code, a kind, or a resource per row)."""
    if group_by not in GROUPS:
        raise InvalidInput({"group_by": _l("use resource, kind or institution")})
    code = _scope(actor, institution)
    query = select(Resource).join(Institution, Institution.id == Resource.institution_id)
    if code:
        query = query.where(Institution.code == code)
    if kind:
        query = query.where(Resource.kind == kind)
    if resource_id is not None:
        query = query.where(Resource.id == resource_id)
    resources = list(db.session.scalars(query.order_by(Institution.code, Resource.kind, Resource.name, Resource.id)))
    rows = _read(resources, when)
    prime = current_app.config.get("REPORT_PRIME_TIME") or PRIME_TIME
    per_resource = [
        resource_usage(r, when, rows.sessions.get(r.id, []), rows.blocks.get(r.id, []), locale, prime)
        for r in resources
    ]
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
    (lowest occupancy first), those unused in the period (open, nothing booked), and no-show rates."""

    bottlenecks: list[Usage]
    least_used: list[Usage]
    unused: list[Usage]
    no_shows: list[Usage]


def findings(rows: Sequence[Usage], *, limit: int = 5) -> Findings:
    measured = [r for r in rows if r.occupancy is not None]
    return Findings(
        bottlenecks=sorted((r for r in measured if r.occupancy >= BOTTLENECK), key=lambda r: -r.occupancy),  # type: ignore[operator]
        least_used=sorted((r for r in measured if r.booked_seconds > 0), key=lambda r: r.occupancy)[:limit],  # type: ignore[arg-type, return-value]
        unused=[r for r in measured if r.booked_seconds == 0],
        no_shows=sorted((r for r in rows if r.no_shows), key=lambda r: -(r.no_show_rate or 0))[:limit],
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
