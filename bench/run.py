"""Benchmark: conflict-checked create and availability search as the booking history grows.

For each backend (SQLite in a fresh file under bench/.work/, PostgreSQL in a database
`atu_bench` that this script recreates) and each history size (1k / 100k / 1M occurrences):

1. the schema comes from the real migrations, the demo catalogue is loaded, and the history is
   bulk-inserted (one confirmed booking with one occurrence per row, ~5% cancelled), spread over
   the demo resources and over 2024-01 .. 2028-02, 1-3 hour sessions that never overlap per
   resource (1M sessions of 1-3 h do not fit in 3 years on 69 resources; even so, at 1M every
   resource is ~80% booked around the clock). The database grows in place from one size to the next;
2. `create_booking(...)` + commit is timed for a demo admin on resources without a training
   requirement, at times inside opening hours that the history leaves free: 200 calls, of which
   every tenth re-requests a slot booked earlier in the round, so it is refused (409) and is timed
   separately (the refusal also computes suggestions); then two more passes over the free slots
   for steadier numbers. The round's bookings are deleted after each pass;
3. `search_resources(...)` for free labs (capacity >= 10, Tuesdays 10:00-12:00 local) is timed
   100 times for a demo member;
4. after every timed call, a control operation that never reads occurrences (`get_resource` +
   commit) is timed too: this 2-core VM drifts by up to 2x between minutes, and the control tells
   machine drift apart from history growth;
5. results go to bench/results.md and bench/results.json, with the EXPLAIN output of the statements
   on `occurrences` run by one create and one search at each size.

Run with `make bench` or `.venv/bin/python -m bench.run [--sizes 1000,100000] [--backends sqlite]`.
The PostgreSQL target is postgresql://postgres@127.0.0.1:5432/atu_bench (created via the
`postgres` database); set BENCH_DATABASE_URL to use another database instead, whose `public`
schema is then dropped and recreated, as the test suite does.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import time
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import delete, event, func, insert, select, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import issue_token  # noqa: E402
from app.extensions import db  # noqa: E402
from app.factory import create_app  # noqa: E402
from availability.intervals import Span  # noqa: E402
from availability.rules import BusyTime, asker_for, check_span  # noqa: E402
from bookings.models import AuditEntry, Booking, Occurrence  # noqa: E402
from bookings.schedule import search_resources  # noqa: E402
from bookings.services import BookingConflict, create_booking  # noqa: E402
from config import DEFAULT_TIMEZONE, TestingConfig, database_url  # noqa: E402
from reports import services as reports  # noqa: E402
from resources.demo import load_demo  # noqa: E402
from resources.models import Resource  # noqa: E402
from resources.services import get_resource  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / ".work"
SQLITE_FILE = WORK_DIR / "bench.sqlite3"
RESULTS_MD = BENCH_DIR / "results.md"
RESULTS_JSON = BENCH_DIR / "results.json"

DEFAULT_SIZES = (1_000, 100_000, 1_000_000)
BACKENDS = ("sqlite", "postgresql")
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "atu_bench"

# The history: one layout of sessions big enough for the largest size; each size takes the
# first N of a fixed random order of it, so every size is spread over the whole period.
LAYOUT_MIN_TOTAL = 1_000_000
LAYOUT_START = datetime(2024, 1, 1, tzinfo=UTC)
DURATIONS = (60, 120, 180)  # minutes
GAPS = (0, 30, 60)  # minutes between consecutive sessions of one resource
# What note_longest() would have stored for a 3-hour session (it adds one minute).
LONGEST_MINUTES = max(DURATIONS) + 1
CANCELLED_EVERY = 20  # one seeded booking in 20 is cancelled (inactive occurrence)
SEED = 20261102
CHUNK = 50_000

LOCAL_TZ = ZoneInfo(DEFAULT_TIMEZONE)
NOW: datetime = TestingConfig.CLOCK_NOW  # type: ignore[attr-defined]
# The time rules alone (notice, window, hours): a calendar with nothing in it.
NOTHING_BUSY = BusyTime(NOW, NOW, {}, {}, {})
BENCH_ADMIN = "admin.uvt@demo.atu.ro"
SEARCH_VIEWER = "member.upt@demo.atu.ro"

WARMUP_CREATES = 10
CREATE_CALLS = 200
CLASH_EVERY = 10  # every tenth measured create re-requests an earlier slot of the round
# The free creates are repeated in further passes (without the refusals): more samples, steadier p50.
CREATE_PASSES = 3
TARGET_FIRST_DAY, TARGET_LAST_DAY = date(2026, 11, 10), date(2026, 12, 1)
TARGET_SLOTS = ((9, 0), (13, 0))  # local start times; each booking lasts TARGET_MINUTES
TARGET_MINUTES = 120
WARMUP_SEARCHES = 5
SEARCH_CALLS = 100
SEARCH_DAYS = [date(2026, 11, 10) + timedelta(weeks=k) for k in range(12)]  # Tuesdays
SEARCH_HOURS = (10, 12)

# Targets from the project: create cost flat with history size, search fast at 1M.
CREATE_RATIO_TARGET = 1.3
SEARCH_P50_TARGET_MS = 50.0


def log(message: str) -> None:
    print(message, flush=True)


# --- statistics --------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def summary(seconds: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    if not ms:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "mean_ms": None, "max_ms": None}
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "max_ms": round(max(ms), 3),
    }


# --- query counting and capture ----------------------------------------------------------------


class QueryLog:
    """Counts statements on the engine; optionally keeps them (SQL and parameters) for EXPLAIN."""

    def __init__(self) -> None:
        self.count = 0
        self.capturing = False
        self.captured: list[tuple[str, Any]] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.count += 1
        if self.capturing and not executemany:
            self.captured.append((statement, parameters))

    def capture(self) -> None:
        self.captured = []
        self.capturing = True

    def stop(self) -> list[tuple[str, Any]]:
        self.capturing = False
        return self.captured


# --- the demo world ----------------------------------------------------------------------------


@dataclass
class World:
    resource_ids: list[int]
    institution_of_resource: dict[int, int]
    units_of_resource: dict[int, int]
    quota_resources: set[int]
    user_ids: list[int]
    institution_of_user: dict[int, int]
    admin_id: int
    viewer_id: int


def describe_world() -> World:
    resources = list(db.session.scalars(select(Resource).order_by(Resource.id)))
    users = list(db.session.scalars(select(User).order_by(User.id)))
    by_email = {u.email: u for u in users}
    return World(
        resource_ids=[r.id for r in resources],
        institution_of_resource={r.id: r.institution_id for r in resources},
        units_of_resource={r.id: r.units for r in resources},
        quota_resources={r.id for r in resources if r.quota_hours_per_week},
        user_ids=[u.id for u in users],
        institution_of_user={u.id: u.institution_id for u in users},
        admin_id=by_email[BENCH_ADMIN].id,
        viewer_id=by_email[SEARCH_VIEWER].id,
    )


# --- what the benchmark books ------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    resource_id: int
    local_start: datetime  # naive, the resource's wall-clock time (as the API receives it)
    local_end: datetime
    start: datetime  # UTC
    end: datetime
    buffer_minutes: int
    linked: tuple[int, ...]
    units: int


@dataclass
class CreatePlan:
    warmup: list[Target]
    calls: list[tuple[Target, bool]]  # (target, expected to clash)

    def free_targets(self) -> list[Target]:
        return self.warmup + [t for t, clash in self.calls if not clash]


def weekdays(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        if day.weekday() < 5:
            yield day
        day += timedelta(days=1)


def plan_creates() -> CreatePlan:
    """Free-by-construction slots on resources any admin books at once, valid under every policy rule."""
    resources = list(
        db.session.scalars(
            select(Resource)
            .where(Resource.kind != "dorm", Resource.requires_authorization.is_(False), Resource.active.is_(True))
            .order_by(Resource.id)
        )
    )
    candidates: list[Target] = []
    for day in weekdays(TARGET_FIRST_DAY, TARGET_LAST_DAY):
        for hour, minute in TARGET_SLOTS:
            local_start = datetime.combine(day, clock_time(hour, minute))
            local_end = local_start + timedelta(minutes=TARGET_MINUTES)
            start = local_start.replace(tzinfo=LOCAL_TZ).astimezone(UTC)
            end = local_end.replace(tzinfo=LOCAL_TZ).astimezone(UTC)
            for resource in resources:
                if resource.timezone != DEFAULT_TIMEZONE:
                    continue
                if check_span(resource, Span(start, end), NOTHING_BUSY, asker_for(resource, None), NOW) is not None:
                    continue
                linked = tuple(r.id for r in resource.linked)
                candidates.append(
                    Target(
                        resource.id, local_start, local_end, start, end, resource.buffer_minutes, linked, resource.units
                    )
                )
    random.Random(SEED).shuffle(candidates)
    quota = {r.id: int((r.quota_hours_per_week or 0) * 60 // TARGET_MINUTES) for r in resources}
    needed = WARMUP_CREATES + CREATE_CALLS - CREATE_CALLS // CLASH_EVERY
    taken: set[tuple[int, datetime]] = set()
    per_week: Counter[tuple[int, int]] = Counter()
    chosen: list[Target] = []
    for target in candidates:
        keys = {(rid, target.start) for rid in (target.resource_id, *target.linked)}
        if keys & taken:
            continue
        week = (target.resource_id, target.local_start.isocalendar()[1])
        if quota[target.resource_id] and per_week[week] >= quota[target.resource_id]:
            continue  # the admin's weekly quota on sports courts
        taken |= keys
        per_week[week] += 1
        chosen.append(target)
        if len(chosen) == needed:
            break
    if len(chosen) < needed:
        raise SystemExit(f"only {len(chosen)} bookable slots found, {needed} needed")
    warmup, free = chosen[:WARMUP_CREATES], iter(chosen[WARMUP_CREATES:])
    calls: list[tuple[Target, bool]] = []
    for i in range(CREATE_CALLS):
        if i % CLASH_EVERY == CLASH_EVERY - 1:
            # A slot this round booked a few calls ago, on a single-unit resource, so it is taken.
            earlier = next(t for t, clash in reversed(calls[:-3]) if not clash and t.units == 1)
            calls.append((earlier, True))
        else:
            calls.append((next(free), False))
    return CreatePlan(warmup, calls)


# --- the history -------------------------------------------------------------------------------


@dataclass
class Layout:
    """Sessions as compact arrays: resource index, start (minutes after LAYOUT_START), duration."""

    resource: array = field(default_factory=lambda: array("H"))
    start: array = field(default_factory=lambda: array("l"))
    duration: array = field(default_factory=lambda: array("H"))
    order: array = field(default_factory=lambda: array("l"))  # rank -> session index

    def __len__(self) -> int:
        return len(self.start)

    def end_time(self) -> datetime:
        last = max(s + d for s, d in zip(self.start, self.duration, strict=True))
        return LAYOUT_START + timedelta(minutes=last)


def minutes_after_start(moment: datetime) -> int:
    return int((moment - LAYOUT_START).total_seconds() // 60)


def build_layout(world: World, plan: CreatePlan, total: int) -> Layout:
    """Back-to-back sessions per resource (gaps of 0-60 min), skipping the benchmark's slots."""
    reserved: dict[int, list[tuple[int, int]]] = {rid: [] for rid in world.resource_ids}
    for target in plan.free_targets():
        pad = target.buffer_minutes
        span = (minutes_after_start(target.start) - pad, minutes_after_start(target.end) + pad)
        for rid in (target.resource_id, *target.linked):
            reserved[rid].append(span)
    layout = Layout()
    count = len(world.resource_ids)
    for index, rid in enumerate(world.resource_ids):
        rng = random.Random(SEED + rid)
        wanted = total // count + (1 if index < total % count else 0)
        holes = sorted(reserved[rid])
        hole = 0
        cursor = rng.randrange(0, 180, 30)
        made = 0
        while made < wanted:
            start = cursor + rng.choice(GAPS)
            end = start + rng.choice(DURATIONS)
            while hole < len(holes) and holes[hole][1] <= start:
                hole += 1
            if hole < len(holes) and holes[hole][0] < end:
                cursor = holes[hole][1]
                continue
            layout.resource.append(index)
            layout.start.append(start)
            layout.duration.append(end - start)
            cursor = end
            made += 1
    order = list(range(len(layout)))
    random.Random(SEED).shuffle(order)
    layout.order = array("l", order)
    return layout


BOOKING_COLUMNS = (
    "id",
    "resource_id",
    "requester_id",
    "title",
    "units",
    "status",
    "recurrence",
    "all_day",
    "price_amount",
    "currency",
    "requester_class",
    "project_code",
    "idempotency_key",
    "decided_by_id",
    "decision_reason",
    "created_at",
    "updated_at",
)
OCCURRENCE_COLUMNS = (
    "id",
    "booking_id",
    "resource_id",
    "start_at",
    "end_at",
    "units",
    "exclusive",
    "active",
    "cancelled_at",
    "sequence",
    "uid",
    "updated_at",
)


def history_rows(world: World, layout: Layout, lo: int, hi: int) -> Iterator[tuple[tuple, tuple]]:
    """(booking, occurrence) rows for ranks lo..hi-1; row ids are rank + 1."""
    users = world.user_ids
    for rank in range(lo, hi):
        j = layout.order[rank]
        rid = world.resource_ids[layout.resource[j]]
        start = LAYOUT_START + timedelta(minutes=layout.start[j])
        end = start + timedelta(minutes=layout.duration[j])
        requester = users[(rank * 2654435761 >> 7) % len(users)]
        if requester == world.admin_id and rid in world.quota_resources:
            # Keep the benchmark admin's weekly quota on courts for the benchmark's own bookings.
            requester = users[(users.index(requester) + 1) % len(users)]
        cancelled = rank % CANCELLED_EVERY == CANCELLED_EVERY - 1
        created = start - timedelta(days=14 + rank % 30)
        updated = start - timedelta(days=1) if cancelled else created
        klass = "own" if world.institution_of_user[requester] == world.institution_of_resource[rid] else "partner"
        row_id = rank + 1
        booking = (
            row_id,
            rid,
            requester,
            f"History booking {row_id}",
            1,
            "cancelled" if cancelled else "confirmed",
            None,
            False,
            0,
            "RON",
            klass,
            "",
            None,
            None,
            "",
            created,
            updated,
        )
        occurrence = (
            row_id,
            row_id,
            rid,
            start,
            end,
            1,
            world.units_of_resource[rid] == 1,
            not cancelled,
            updated if cancelled else None,
            1 if cancelled else 0,
            f"history-{row_id}@bench.atu-facilities",
            updated,
        )
        yield booking, occurrence


def chunks(world: World, layout: Layout, lo: int, hi: int) -> Iterator[tuple[list[tuple], list[tuple]]]:
    bookings: list[tuple] = []
    occurrences: list[tuple] = []
    for booking, occurrence in history_rows(world, layout, lo, hi):
        bookings.append(booking)
        occurrences.append(occurrence)
        if len(bookings) >= CHUNK:
            yield bookings, occurrences
            bookings, occurrences = [], []
    if bookings:
        yield bookings, occurrences


# --- backends ----------------------------------------------------------------------------------


class Backend:
    name = ""
    url = ""
    version = ""

    def config(self) -> type:
        return type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": self.url})

    def reset(self) -> None:
        raise NotImplementedError

    def grow(self, world: World, layout: Layout, lo: int, hi: int) -> None:
        raise NotImplementedError

    def analyze(self) -> None:
        raise NotImplementedError

    def explain(self, statement: str, parameters: Any) -> str:
        raise NotImplementedError


class SQLiteBackend(Backend):
    name = "sqlite"

    def __init__(self) -> None:
        self.url = f"sqlite:///{SQLITE_FILE}"
        self.version = f"SQLite {sqlite3.sqlite_version}"

    def reset(self) -> None:
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{SQLITE_FILE}{suffix}").unlink(missing_ok=True)

    def grow(self, world: World, layout: Layout, lo: int, hi: int) -> None:
        bookings_table, occurrences_table = Booking.__table__, Occurrence.__table__
        with db.engine.begin() as conn:
            for bookings, occurrences in chunks(world, layout, lo, hi):
                conn.execute(insert(bookings_table), [dict(zip(BOOKING_COLUMNS, b, strict=True)) for b in bookings])
                conn.execute(
                    insert(occurrences_table), [dict(zip(OCCURRENCE_COLUMNS, o, strict=True)) for o in occurrences]
                )

    def analyze(self) -> None:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        # Fold the load's WAL back into the database file, so the first measured writes do not pay for it.
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def explain(self, statement: str, parameters: Any) -> str:
        rows = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        return "\n".join(str(row[-1]) for row in rows)


class PostgresBackend(Backend):
    name = "postgresql"

    def __init__(self, url: str, reset_schema: bool) -> None:
        self.url = url
        self.reset_schema = reset_schema
        self.conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)

    @classmethod
    def discover(cls) -> PostgresBackend | None:
        raw = os.environ.get("BENCH_DATABASE_URL")
        if raw:
            backend = cls(database_url(raw), reset_schema=True)
        else:
            url = make_url(database_url(PG_ADMIN_URL)).set(database=PG_BENCH_DB)
            backend = cls(url.render_as_string(hide_password=False), reset_schema=False)
        probe = backend.conninfo if raw else PG_ADMIN_URL
        try:
            with psycopg.connect(probe, autocommit=True, connect_timeout=3):
                pass
        except psycopg.OperationalError as exc:
            where = make_url(probe).render_as_string(hide_password=True)
            log(f"note: PostgreSQL unreachable at {where} ({str(exc).strip().splitlines()[0]}); skipping it")
            return None
        return backend

    def reset(self) -> None:
        if self.reset_schema:
            with psycopg.connect(self.conninfo, autocommit=True) as conn:
                conn.execute("DROP SCHEMA public CASCADE")
                conn.execute("CREATE SCHEMA public")
        else:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                try:
                    conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
                except psycopg.errors.SyntaxError:  # PostgreSQL < 13
                    conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB}")
                conn.execute(f"CREATE DATABASE {PG_BENCH_DB}")
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            self.version = f"PostgreSQL {row[0] if row else '?'}"

    def grow(self, world: World, layout: Layout, lo: int, hi: int) -> None:
        # COPY through a separate psycopg connection: an order of magnitude faster than INSERTs.
        with psycopg.connect(self.conninfo) as conn:
            with conn.cursor() as cur:
                for bookings, occurrences in chunks(world, layout, lo, hi):
                    with cur.copy(f"COPY bookings ({', '.join(BOOKING_COLUMNS)}) FROM STDIN") as copy:
                        for row in bookings:
                            copy.write_row(row)
                    with cur.copy(f"COPY occurrences ({', '.join(OCCURRENCE_COLUMNS)}) FROM STDIN") as copy:
                        for row in occurrences:
                            copy.write_row(row)
                # Explicit ids bypass the sequences; move them on so the app's inserts do not collide.
                for table in ("bookings", "occurrences"):
                    cur.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                    )
            conn.commit()

    def analyze(self) -> None:
        # VACUUM too, so the freshly loaded table has its visibility map, as a settled database would.
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE) bookings, occurrences, booking_audit, resources")
            conn.execute("ANALYZE")
            # Flush the load's dirty pages now rather than during the measurements.
            with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
                conn.execute("CHECKPOINT")

    def explain(self, statement: str, parameters: Any) -> str:
        rows = db.session.connection().exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
        return "\n".join(str(row[0]) for row in rows)


# --- measurements ------------------------------------------------------------------------------


def call_create(admin: User, target: Target, title: str) -> tuple[bool, list[str]]:
    try:
        create_booking(
            admin,
            resource_id=target.resource_id,
            start=target.local_start,
            end=target.local_end,
            title=title,
            now=NOW,
        )
        db.session.commit()
        return True, []
    except BookingConflict as exc:
        db.session.rollback()
        return False, sorted({c.reason for c in exc.clashes})


def measure_creates(
    world: World, plan: CreatePlan, queries: QueryLog, seeded: int, control: list[float]
) -> dict[str, Any]:
    admin = db.session.get(User, world.admin_id)
    assert admin is not None
    for target in plan.warmup:
        call_create(admin, target, "Benchmark warm-up")
    free_times: list[float] = []
    clash_times: list[float] = []
    free_queries: list[int] = []
    clash_queries: list[int] = []
    pass_p50: list[float] = []
    unexpected: list[dict[str, Any]] = []
    for number in range(CREATE_PASSES):
        calls = plan.calls if number == 0 else [(t, clash) for t, clash in plan.calls if not clash]
        this_pass: list[float] = []
        for i, (target, expect_clash) in enumerate(calls):
            before = queries.count
            started = time.perf_counter()
            booked, reasons = call_create(admin, target, f"Benchmark booking {number}.{i}")
            elapsed = time.perf_counter() - started
            (this_pass if booked else clash_times).append(elapsed)
            (free_queries if booked else clash_queries).append(queries.count - before)
            control.append(control_call(admin, target.resource_id))
            if booked == expect_clash:
                unexpected.append(
                    {
                        "pass": number,
                        "call": i,
                        "resource_id": target.resource_id,
                        "start": target.local_start.isoformat(),
                        "reasons": reasons,
                    }
                )
        free_times += this_pass
        pass_p50.append(round(statistics.median(this_pass) * 1000, 3) if this_pass else float("nan"))
        remove_benchmark_bookings(seeded)
    return {
        "created": summary(free_times),
        "created_p50_ms_per_pass": pass_p50,
        "refused": summary(clash_times),
        "queries_per_create": statistics.median(free_queries) if free_queries else None,
        "queries_per_refusal": statistics.median(clash_queries) if clash_queries else None,
        "unexpected_outcomes": unexpected,
    }


def remove_benchmark_bookings(seeded: int) -> None:
    """Delete what the round booked (ids above the history), so every round sees the same history."""
    db.session.execute(delete(AuditEntry).where(AuditEntry.booking_id > seeded))
    db.session.execute(delete(Occurrence).where(Occurrence.booking_id > seeded))
    db.session.execute(delete(Booking).where(Booking.id > seeded))
    db.session.commit()


def search_window(i: int) -> tuple[datetime, datetime]:
    day = SEARCH_DAYS[i % len(SEARCH_DAYS)]
    return (
        datetime.combine(day, clock_time(SEARCH_HOURS[0])),
        datetime.combine(day, clock_time(SEARCH_HOURS[1])),
    )


def run_search(viewer: User, i: int):
    free_from, free_to = search_window(i)
    return search_resources(
        viewer,
        kind="lab",
        min_capacity=10,
        free_from=free_from,
        free_to=free_to,
        page=1,
        per_page=20,
    )


def measure_searches(world: World, queries: QueryLog, control: list[float]) -> dict[str, Any]:
    times: list[float] = []
    found: list[int] = []
    counts: list[int] = []
    for i in range(-WARMUP_SEARCHES, SEARCH_CALLS):
        viewer = db.session.get(User, world.viewer_id)
        assert viewer is not None
        before = queries.count
        started = time.perf_counter()
        result = run_search(viewer, i)
        elapsed = time.perf_counter() - started
        counts.append(queries.count - before)
        db.session.rollback()  # each request has its own session
        if i >= 0:
            times.append(elapsed)
            found.append(result.total)
            control.append(control_call(viewer, result.items[0].id if result.items else 1))
    return {
        **summary(times),
        "queries_per_search": statistics.median(counts),
        "free_labs_found": {"min": min(found), "max": max(found)},
    }


READ_CALLS = 60
READ_GOALS = {"availability": 5, "free filter": 5, "week calendar": 20, "timeline": 20}


def measure_reads(app: Flask, world: World) -> dict[str, Any]:
    """The reading pages' JSON twins through the whole stack (Flask test client, a member's token), each as a
    ratio to `/healthz` timed in the same moments: a resource's availability for a week, the catalogue's free
    filter, a week calendar and the timeline of every resource (the demo has 69; the API pages at 100)."""
    viewer = db.session.get(User, world.viewer_id)
    assert viewer is not None
    secret, _ = issue_token(viewer, name="bench-reads")
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    client = app.test_client()
    day = SEARCH_DAYS[0]
    lab = world.resource_ids[0]
    paths = {
        "/healthz": "/healthz",
        "availability": f"/api/v1/resources/{lab}/availability?from={day}T00:00&to={day + timedelta(days=7)}T00:00",
        "free filter": f"/api/v1/resources?kind=lab&min_capacity=10&free_from={day}T10:00&free_to={day}T12:00",
        "week calendar": f"/api/v1/resources/{lab}/calendar?week={day}",
        "timeline": f"/api/v1/timeline?date={day}&limit=100",
    }
    times: dict[str, list[float]] = {name: [] for name in paths}
    for i in range(-5, READ_CALLS):
        for name, path in paths.items():
            started = time.perf_counter()
            response = client.get(path, headers=headers)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:300])
            if i >= 0:
                times[name].append(elapsed)
    floor = statistics.median(times["/healthz"])
    return {name: {**summary(values), "ratio": statistics.median(values) / floor} for name, values in times.items()}


REPORT_CALLS = 3


def measure_report(world: World) -> dict[str, Any]:
    """A year's utilisation of the whole alliance (every resource, one row each), as an admin asks it."""
    admin = db.session.get(User, world.admin_id)
    assert admin is not None
    when = reports.period(date(2026, 1, 1), date(2026, 12, 31))
    times: dict[str, list[float]] = {"utilisation": [], "heatmap": [], "trends": [], "exchange": []}
    calls = {
        "utilisation": lambda: reports.utilisation(admin, when),
        "heatmap": lambda: reports.heatmap(admin, when),
        "trends": lambda: reports.trends(admin, when),
        "exchange": lambda: reports.exchange(admin, when),
    }
    rows = []
    for _ in range(REPORT_CALLS):
        for name, call in calls.items():
            started = time.perf_counter()
            answer = call()
            times[name].append(time.perf_counter() - started)
            db.session.rollback()
            if name == "utilisation":
                rows = answer
    return {
        **summary(times["utilisation"]),
        "rows": len(rows),
        **{f"{name}_p50_ms": summary(values)["p50_ms"] for name, values in times.items() if name != "utilisation"},
    }


def control_call(admin: User, resource_id: int) -> float:
    """`get_resource` + commit: app, driver and database round trips that never touch occurrences.

    One runs after every measured call, so its p50 tracks the machine over the same moments.
    """
    started = time.perf_counter()
    get_resource(admin, resource_id)
    db.session.commit()
    return time.perf_counter() - started


def explain_round(backend: Backend, world: World, plan: CreatePlan, queries: QueryLog, seeded: int) -> dict[str, Any]:
    """Plans of the statements on occurrences run by one create and one search, with their real parameters."""
    admin = db.session.get(User, world.admin_id)
    viewer = db.session.get(User, world.viewer_id)
    assert admin is not None and viewer is not None
    target = plan.warmup[0]
    plans: dict[str, Any] = {}
    queries.capture()
    booked, reasons = call_create(admin, target, "Benchmark explain")
    create_statements = queries.stop()
    queries.capture()
    run_search(viewer, 0)
    search_statements = queries.stop()
    db.session.rollback()
    for label, statements in (("create", create_statements), ("search", search_statements)):
        explained = []
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT") or "occurrences" not in statement:
                continue
            explained.append({"sql": statement, "plan": backend.explain(statement, parameters)})
        db.session.rollback()
        plans[label] = explained
    plans["create_outcome"] = "booked" if booked else f"refused: {reasons}"
    remove_benchmark_bookings(seeded)
    return plans


def plan_headline(plan: str) -> str:
    """The first plan line and, for PostgreSQL, the execution time."""
    lines = [line.strip() for line in plan.splitlines() if line.strip()]
    head = lines[0] if lines else ""
    timing = next((line for line in lines if line.startswith("Execution Time")), "")
    return f"{head} | {timing}" if timing else " / ".join(lines)


# --- orchestration -----------------------------------------------------------------------------


def run_backend(backend: Backend, sizes: list[int], layout_cache: dict[str, Any]) -> dict[str, Any]:
    log(f"\n== {backend.name}: preparing a fresh database")
    backend.reset()
    app: Flask = create_app(backend.config())
    results: dict[str, Any] = {"backend": backend.name, "url": backend.url, "rounds": []}
    with app.app_context():
        started = time.perf_counter()
        upgrade()
        counts = load_demo()
        db.session.commit()
        db.session.execute(update(Resource).values(longest_booking_minutes=LONGEST_MINUTES))
        db.session.commit()
        results["schema_and_demo_seconds"] = round(time.perf_counter() - started, 2)
        results["version"] = backend.version
        log(
            f"   schema + demo ({counts['resources']} resources, {counts['users']} users): "
            f"{results['schema_and_demo_seconds']} s"
        )
        world = describe_world()
        plan = plan_creates()
        key = json.dumps([world.resource_ids, world.user_ids])
        if layout_cache.get("key") != key:
            started = time.perf_counter()
            layout_cache["layout"] = build_layout(world, plan, max(LAYOUT_MIN_TOTAL, *sizes))
            layout_cache["key"] = key
            log(
                f"   history layout: {len(layout_cache['layout']):,} sessions until "
                f"{layout_cache['layout'].end_time():%Y-%m-%d} ({time.perf_counter() - started:.1f} s)"
            )
        layout: Layout = layout_cache["layout"]
        results["history_period"] = [LAYOUT_START.date().isoformat(), layout.end_time().date().isoformat()]

        queries = QueryLog()
        event.listen(db.engine, "before_cursor_execute", queries)
        seeded = 0
        for size in sizes:
            log(f"-- {backend.name}, {size:,} occurrences")
            db.session.commit()
            started = time.perf_counter()
            backend.grow(world, layout, seeded, size)
            inserted = time.perf_counter() - started
            backend.analyze()
            seed_seconds = time.perf_counter() - started
            seeded = size
            actual = db.session.scalar(select(func.count()).select_from(Occurrence)) or 0
            db.session.commit()
            assert actual == size, f"expected {size} occurrences, found {actual}"
            log(f"   grew to {actual:,} occurrences in {seed_seconds:.1f} s (insert {inserted:.1f} s)")

            started = time.perf_counter()
            control: list[float] = []
            creates = measure_creates(world, plan, queries, seeded, control)
            searches = measure_searches(world, queries, control)
            reads = measure_reads(app, world)
            report = measure_report(world)
            plans = explain_round(backend, world, plan, queries, seeded)
            longest = db.session.scalar(select(func.max(Resource.longest_booking_minutes)))
            db.session.commit()
            measure_seconds = time.perf_counter() - started
            log(
                f"   create p50 {creates['created']['p50_ms']} ms, p95 {creates['created']['p95_ms']} ms "
                f"({creates['created']['n']} booked, {creates['refused']['n']} refused, refused p50 "
                f"{creates['refused']['p50_ms']} ms); search p50 {searches['p50_ms']} ms, p95 {searches['p95_ms']} ms "
                f"(control p50 {summary(control)['p50_ms']} ms; {measure_seconds:.1f} s)"
            )
            if creates["unexpected_outcomes"]:
                log(f"   UNEXPECTED outcomes: {creates['unexpected_outcomes'][:5]}")
            for label in ("create", "search"):
                for item in plans[label]:
                    log(f"   plan ({label}): {plan_headline(item['plan'])}")
            results["rounds"].append(
                {
                    "occurrences": size,
                    "seed_seconds": round(seed_seconds, 2),
                    "insert_seconds": round(inserted, 2),
                    "measure_seconds": round(measure_seconds, 2),
                    "create": creates,
                    "search": searches,
                    "reads": reads,
                    "report": report,
                    "control": summary(control),
                    "longest_booking_minutes_after": longest,
                    "plans": plans,
                }
            )
        event.remove(db.engine, "before_cursor_execute", queries)
        db.session.remove()
        db.engine.dispose()
    return results


def machine() -> dict[str, Any]:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 0
    return {
        "nproc": cpus,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def verdicts(backends: list[dict[str, Any]]) -> list[str]:
    lines = []
    for result in backends:
        rounds = {r["occurrences"]: r for r in result["rounds"]}
        name = result["backend"]
        if 1_000 in rounds and 1_000_000 in rounds:
            small = rounds[1_000]["create"]["created"]["p50_ms"]
            large = rounds[1_000_000]["create"]["created"]["p50_ms"]
            ratio = large / small
            drift = rounds[1_000_000]["control"]["p50_ms"] / rounds[1_000]["control"]["p50_ms"]
            verdict = "meets" if ratio <= CREATE_RATIO_TARGET else "MISSES"
            adjusted = ratio / drift
            lines.append(
                f"- {name}: create p50 at 1M / at 1k = {large:.2f} / {small:.2f} = **{ratio:.3f}** "
                f"({verdict} the ≤ {CREATE_RATIO_TARGET} target); the control moved by {drift:.3f}x between "
                f"those rounds, so **{adjusted:.3f}** with machine drift taken out "
                f"({'meets' if adjusted <= CREATE_RATIO_TARGET else 'MISSES'} the target)"
            )
            result["create_ratio_1m_1k"] = round(ratio, 3)
            result["create_ratio_1m_1k_drift_adjusted"] = round(adjusted, 3)
        else:
            lines.append(f"- {name}: create ratio 1M/1k not measured (needs sizes 1000 and 1000000)")
        if 1_000_000 in rounds:
            p50 = rounds[1_000_000]["search"]["p50_ms"]
            ok = p50 < SEARCH_P50_TARGET_MS
            lines.append(
                f"- {name}: search p50 at 1M = **{p50:.2f} ms** "
                f"({'under' if ok else 'NOT under'} the {SEARCH_P50_TARGET_MS:.0f} ms target)"
            )
            result["search_p50_1m_under_target"] = ok
    return lines


def write_results(report: dict[str, Any]) -> str:
    backends = report["backends"]
    info = report["machine"]
    lines = [
        "# Benchmark: conflict-checked create and availability search vs. history size",
        "",
        "Generated by `make bench` (`python -m bench.run`); see the docstring of `bench/run.py` for the method.",
        "",
        f"Machine: nproc={info['nproc']}, Python {info['python']}, {info['platform']}; "
        + ", ".join(r["version"] for r in backends)
        + f"; run on {info['date']}; total runtime {report['total_seconds']:.0f} s.",
        "",
        "| backend | occurrences | create p50 ms | create p95 ms | search p50 ms | search p95 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in backends:
        for r in result["rounds"]:
            lines.append(
                f"| {result['backend']} | {r['occurrences']:,} | {fmt(r['create']['created']['p50_ms'])} | "
                f"{fmt(r['create']['created']['p95_ms'])} | {fmt(r['search']['p50_ms'])} | {fmt(r['search']['p95_ms'])} |"
            )
    lines += ["", "Targets:", *verdicts(backends), ""]
    lines += [
        f"Details: create = `create_booking` + commit of a free slot ({CREATE_PASSES} passes over the same slots,",
        "the round's bookings deleted after each); refused = a re-request of a slot booked earlier in the round",
        "(409 `BookingConflict`, which also computes suggestions); search = `search_resources` for free labs",
        "(capacity >= 10) on a Tuesday 10:00-12:00; seeding = bulk insert of the added history plus ANALYZE",
        "(PostgreSQL: VACUUM ANALYZE and CHECKPOINT; SQLite: WAL checkpoint); control = `get_resource` + commit,",
        "which never reads occurrences: when it moves between rounds, the machine did, not the history.",
        "",
        "| backend | occurrences | booked | create p50 per pass ms | refused | refused p50 ms | refused p95 ms"
        " | queries/create | queries/refusal | queries/search | free labs found | control p50 ms | unexpected"
        " | seeding s |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for result in backends:
        for r in result["rounds"]:
            c = r["create"]
            per_pass = " / ".join(f"{v:.2f}" for v in c["created_p50_ms_per_pass"])
            found = r["search"]["free_labs_found"]
            lines.append(
                f"| {result['backend']} | {r['occurrences']:,} | {c['created']['n']} | {per_pass} | "
                f"{c['refused']['n']} | {fmt(c['refused']['p50_ms'])} | {fmt(c['refused']['p95_ms'])} | "
                f"{c['queries_per_create']:g} | {c['queries_per_refusal']:g} | {r['search']['queries_per_search']:g} | "
                f"{found['min']}-{found['max']} | {fmt(r['control']['p50_ms'])} | {len(c['unexpected_outcomes'])} | "
                f"{r['seed_seconds']:.1f} |"
            )
    lines += [
        "",
        "Reading through the whole stack (Flask test client, a member's token), p50 in ms and as a ratio to "
        "`/healthz` timed in the same moments (goals of issue 13: availability and the free filter ≤ 5×, the week "
        "calendar and the timeline ≤ 20×, at 1M occurrences):",
        "",
        "| backend | occurrences | /healthz | "
        + " | ".join(f"{name} (≤ {goal}×)" for name, goal in READ_GOALS.items())
        + " |",
        "|---|---:|---:|" + "---:|" * len(READ_GOALS),
    ]
    for result in backends:
        for r in result["rounds"]:
            reads = r["reads"]
            cells = [
                f"{fmt(reads[name]['p50_ms'])} = {'**' if reads[name]['ratio'] <= goal else ''}"
                f"{reads[name]['ratio']:.1f}×{'**' if reads[name]['ratio'] <= goal else ''}"
                for name, goal in READ_GOALS.items()
            ]
            lines.append(
                f"| {result['backend']} | {r['occurrences']:,} | {fmt(reads['/healthz']['p50_ms'])} | "
                + " | ".join(cells)
                + " |"
            )
    lines += ["", "A ratio in bold meets its goal.", ""]
    lines += [
        "A year's utilisation of the whole alliance (`reports.services.utilisation`, 2026, every resource, as an "
        "admin; goal ≤ 1 s at 1M occurrences):",
        "",
        "| backend | occurrences | rows | p50 ms | max ms | heat map p50 ms | trends p50 ms | exchange p50 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in backends:
        for r in result["rounds"]:
            rep_ = r["report"]
            lines.append(
                f"| {result['backend']} | {r['occurrences']:,} | {rep_['rows']} | {fmt(rep_['p50_ms'])} | "
                f"{fmt(rep_['max_ms'])} | {fmt(rep_.get('heatmap_p50_ms'))} | {fmt(rep_.get('trends_p50_ms'))} | "
                f"{fmt(rep_.get('exchange_p50_ms'))} |"
            )
    for note in report.get("notes", []):
        lines += ["", note]
    RESULTS_MD.write_text("\n".join(lines) + "\n", encoding="utf-8")
    RESULTS_JSON.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES), help="comma-separated sizes")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="sqlite,postgresql")
    args = parser.parse_args(argv)
    try:
        args.sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        parser.error("--sizes takes comma-separated integers")
    if not args.sizes or min(args.sizes) < 1:
        parser.error("--sizes must be positive")
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backends) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backends: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    report: dict[str, Any] = {"machine": machine(), "sizes": args.sizes, "backends": [], "notes": []}
    layout_cache: dict[str, Any] = {}
    for name in args.backends:
        if name == "sqlite":
            backend: Backend | None = SQLiteBackend()
        else:
            backend = PostgresBackend.discover()
            if backend is None:
                report["notes"].append("PostgreSQL was unreachable; it was skipped.")
                continue
        assert backend is not None
        report["backends"].append(run_backend(backend, args.sizes, layout_cache))
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    table = write_results(report)
    log("\n" + table)
    log(
        f"\nwrote {RESULTS_MD.relative_to(ROOT)} and {RESULTS_JSON.relative_to(ROOT)}; total {report['total_seconds']} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
