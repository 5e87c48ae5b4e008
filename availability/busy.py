"""Reading busy time in bulk, and serialising the writers who change it.

`read_busy` is the one read of what holds a set of resources over a window: links, active
occurrences (with who booked them) and blocks, four queries for any number of resources.
Queries are bounded on both sides (a span can only clash with occurrences that start no earlier
than the longest occurrence ever booked on the resource before it), so a check costs the same
with a thousand or a million bookings in the history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import ColumnElement, Integer, Select, String, Update, bindparam, literal, select, union_all, update
from sqlalchemy.orm import SessionTransaction, selectinload

from app.database import UTCDateTime
from app.extensions import db
from availability.intervals import Span
from availability.rules import Blocked, BusyTime, Held
from bookings.models import Booking, Occurrence
from resources.models import Block, Resource, resource_links


def lookback(resource_ids: Sequence[int]) -> timedelta:
    """How long before a window an occurrence of these resources overlapping it can start: their longest
    booking ever (it only grows), so a range read of the start index need not scan all of history."""
    locked = _locked()
    if locked is not None and locked.longest.keys() >= set(resource_ids):
        return timedelta(minutes=max((locked.longest[i] for i in resource_ids), default=0))
    longest = db.session.scalar(
        select(Resource.longest_booking_minutes)
        .where(Resource.id.in_(resource_ids))
        .order_by(Resource.longest_booking_minutes.desc())
        .limit(1)
    )
    return timedelta(minutes=longest or 0)


@cache
def _held_select() -> Select:
    """Active occurrences of the resources `ids` overlapping [start, end) that start no earlier than
    `since`; built once (expanding parameters), as constructing it costs more than running it."""
    return (
        select(
            Occurrence.resource_id,
            Occurrence.start_at,
            Occurrence.end_at,
            Occurrence.units,
            Occurrence.booking_id,
            Booking.requester_id,
            Booking.title,
            Booking.status,
            Occurrence.id.label("row_id"),
        )
        .join(Booking, Booking.id == Occurrence.booking_id)
        .where(
            Occurrence.resource_id.in_(bindparam("ids", expanding=True)),
            Occurrence.active.is_(True),
            Occurrence.start_at < bindparam("end", type_=UTCDateTime),
            Occurrence.start_at >= bindparam("since", type_=UTCDateTime),
            Occurrence.end_at > bindparam("start", type_=UTCDateTime),
        )
    )


def _held_parameters(
    resource_ids: Sequence[int], start: datetime, end: datetime, since: datetime | None = None
) -> dict[str, object]:
    since = since if since is not None else start - lookback(resource_ids)
    return {"ids": list(resource_ids), "start": start, "end": end, "since": since}


def held_between(resource_ids: Sequence[int], start: datetime, end: datetime) -> dict[int, list[Held]]:
    """Active occurrences on these resources overlapping [start, end), with their bookings' owners."""
    held: dict[int, list[Held]] = defaultdict(list)
    if not resource_ids:
        return held
    statement = _held_select().order_by(Occurrence.start_at, Occurrence.id)
    for row in db.session.execute(statement, _held_parameters(resource_ids, start, end)):
        held[row[0]].append(Held(*row))
    return held


def blocked_between(resource_ids: Sequence[int], start: datetime, end: datetime) -> dict[int, list[Blocked]]:
    blocked: dict[int, list[Blocked]] = defaultdict(list)
    if not resource_ids:
        return blocked
    rows = db.session.execute(
        select(Block.resource_id, Block.start_at, Block.end_at, Block.reason, Block.source)
        .where(Block.resource_id.in_(resource_ids), Block.start_at < end, Block.end_at > start)
        .order_by(Block.start_at, Block.id)
    )
    for row in rows:
        blocked[row[0]].append(Blocked(*row))
    return blocked


def read_busy(resource_ids: Iterable[int], start: datetime, end: datetime) -> BusyTime:
    """Everything holding these resources or the ones linked to them in [start, end)."""
    ids = sorted(set(resource_ids))
    locked = _locked()
    since = None
    if locked is not None and locked.wanted >= set(ids):
        links = {i: locked.links[i] for i in ids if i in locked.links}  # read under the lock just now
    else:
        links, longest = _peek(ids) if ids else ({}, {})
        since = start - timedelta(minutes=max(longest.values(), default=0))
    involved = sorted(set(ids) | {t for targets in links.values() for t in targets})
    held, blocked = _held_and_blocked(involved, start, end, since)
    return BusyTime(start, end, links, held, blocked)


def _peek(ids: Sequence[int]) -> tuple[dict[int, list[int]], dict[int, int]]:
    """The links of `ids` and the look-back bounds of them and the resources they link to, in one read
    (the lock's own read, without the lock): a reader pays two round trips for its busy time, not three."""
    links: dict[int, list[int]] = defaultdict(list)
    longest: dict[int, int] = {}
    for resource_id, minutes, source in db.session.execute(_lock_read(False), {"wanted": list(ids)}):
        longest[resource_id] = minutes or 0
        if source is not None:
            links[source].append(resource_id)
    return dict(links), longest


@cache
def _held_and_blocked_select() -> Select:
    occurrences = _held_select().add_columns(
        literal(None, String).label("reason"), literal(None, String).label("source")
    )
    blocks = select(
        Block.resource_id,
        Block.start_at,
        Block.end_at,
        literal(None, Integer),
        literal(None, Integer),
        literal(None, Integer),
        literal(None, String),
        literal(None, String),
        Block.id,
        Block.reason,
        Block.source,
    ).where(
        Block.resource_id.in_(bindparam("ids", expanding=True)),
        Block.start_at < bindparam("end", type_=UTCDateTime),
        Block.end_at > bindparam("start", type_=UTCDateTime),
    )
    both = union_all(occurrences, blocks).subquery()
    return select(both).order_by(both.c.start_at, both.c.row_id)


def _held_and_blocked(
    resource_ids: Sequence[int], start: datetime, end: datetime, since: datetime | None = None
) -> tuple[dict[int, list[Held]], dict[int, list[Blocked]]]:
    """`held_between` and `blocked_between` in one round trip (UNION ALL; a block has no booking)."""
    held: dict[int, list[Held]] = defaultdict(list)
    blocked: dict[int, list[Blocked]] = defaultdict(list)
    if not resource_ids:
        return held, blocked
    rows = db.session.execute(_held_and_blocked_select(), _held_parameters(resource_ids, start, end, since))
    for row in rows:
        if row.booking_id is None:
            blocked[row.resource_id].append(Blocked(row.resource_id, row.start_at, row.end_at, row.reason, row.source))
        else:
            held[row.resource_id].append(Held(*row[:9]))
    return held, blocked


# --- writers -----------------------------------------------------------------------------------


@dataclass
class Locked:
    """What `lock_resources` read while locking, kept for the rest of the transaction: the resources
    asked for, their links, and the look-back bound of every resource locked. `read_busy` and
    `held_between` use it instead of reading the same rows again."""

    transaction: SessionTransaction
    wanted: set[int]
    links: dict[int, list[int]]
    longest: dict[int, int]


_LOCKED = "availability.locked"


def _locked() -> Locked | None:
    locked = db.session.info.get(_LOCKED)
    if locked is None or locked.transaction is not db.session().get_transaction():
        return None
    return locked


def _involved() -> ColumnElement[bool]:
    linked = select(resource_links.c.linked_id).where(
        resource_links.c.resource_id.in_(bindparam("wanted", expanding=True))
    )
    return Resource.id.in_(bindparam("wanted", expanding=True)) | Resource.id.in_(linked)


@cache
def _lock_read(for_update: bool) -> Select:
    """The resources in `wanted` and those linked to them, in id order, with their look-back bounds and
    which wanted resource links to each; with `for_update`, row locks on them (PostgreSQL)."""
    link = resource_links.alias("link")
    read = (
        select(Resource.id, Resource.longest_booking_minutes, link.c.resource_id)
        .outerjoin(
            link, (link.c.linked_id == Resource.id) & link.c.resource_id.in_(bindparam("wanted", expanding=True))
        )
        .where(_involved())
        .order_by(Resource.id)
    )
    return read.with_for_update(of=Resource) if for_update else read


@cache
def _sqlite_lock() -> Update:
    # updated_at kept: taking the lock is not a change of the resource (feeds key on it).
    return (
        update(Resource)
        .where(_involved())
        .values(longest_booking_minutes=Resource.longest_booking_minutes, updated_at=Resource.updated_at)
        .execution_options(synchronize_session=False)
    )


def lock_resources(resource_ids: Iterable[int]) -> None:
    """Serialise writers of these resources and of the resources linked to them (a hall and its
    courts block each other) until the transaction ends.

    PostgreSQL: row locks on the resources, always taken in id order so that two requests
    over overlapping sets cannot deadlock, in the same statement that reads their links and
    look-back bounds. SQLite: a no-op write, which takes the database's write lock (waiting up
    to busy_timeout for the writer ahead), then that read. The Python driver opens the
    transaction at that first write, so no earlier read snapshot can go stale under it.
    """
    wanted = sorted(set(resource_ids))
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if not postgres:
        db.session.execute(_sqlite_lock(), {"wanted": wanted})
    rows = db.session.execute(_lock_read(postgres), {"wanted": wanted}).all()
    links: dict[int, list[int]] = defaultdict(list)
    longest: dict[int, int] = {}
    for resource_id, minutes, source in rows:
        longest[resource_id] = minutes or 0
        if source is not None:
            links[source].append(resource_id)
    earlier = _locked()
    if earlier is not None:  # a second lock in the transaction (an event's items) adds to the first
        longest = {**earlier.longest, **longest}
        links = {**earlier.links, **links}
        wanted = sorted(earlier.wanted | set(wanted))
    db.session.info[_LOCKED] = Locked(db.session().get_transaction(), set(wanted), dict(links), longest)  # type: ignore[arg-type]


def note_longest(resource: Resource, spans: Sequence[Span]) -> None:
    """Keep the look-back bound of `held_between` true for what is about to be written."""
    longest = max(int((s.end - s.start).total_seconds() // 60) + 1 for s in spans)
    locked = _locked()
    if locked is not None and longest > locked.longest.get(resource.id, longest):
        locked.longest[resource.id] = longest
    if longest > resource.longest_booking_minutes:
        db.session.execute(
            update(Resource)
            .where(Resource.id == resource.id, Resource.longest_booking_minutes < longest)
            .values(longest_booking_minutes=longest, updated_at=Resource.updated_at)
        )


def bookings_during(
    resource: Resource, start_at: datetime, end_at: datetime, *, limit: int | None = 200
) -> list[Occurrence]:
    """Active occurrences of `resource` overlapping [start_at, end_at), with their bookings: what a new
    block affects. A block does not cancel anything by itself; the manager is told who is affected."""
    ids = [h.occurrence_id for h in held_between([resource.id], start_at, end_at).get(resource.id, [])][:limit]
    if not ids:
        return []
    query = select(Occurrence).where(Occurrence.id.in_(ids)).options(selectinload(Occurrence.booking))
    return sorted(db.session.scalars(query), key=lambda o: (o.start_at, o.id))
