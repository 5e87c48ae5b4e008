"""HTTP benchmark: booking throughput and races through gunicorn, on PostgreSQL and SQLite.

Writes bench/http-results.md and prints it. For comparison with MRBS, measured on a machine like
this one with PostgreSQL: 38-43 bookings/s with 4 clients (p50 about 48 ms), and a double booking
in 9 of 48 races of 16 simultaneous requests.

Per backend (a fresh PostgreSQL database `atu_bench_http` on 127.0.0.1, and a SQLite file under
bench/.work/): migrate, load the demo catalogue, create the client users and their API tokens
directly (the token endpoint is rate limited), then start gunicorn (4 worker processes x 4
threads, `ATU_CONFIG=testing`: the business clock is pinned at 2026-11-02 07:00 UTC and rate
limits are off) and, over real HTTP:

1. throughput: N client threads, each with its own user, token and keep-alive connection, POST
   /api/v1/bookings one after another for distinct one-hour slots that the demo resources'
   own rules accept (opening hours, notice, booking window, buffers; no approval, no training,
   no quota, no linked resources), for a fixed time or a number of bookings each;
2. races: rounds of 16 simultaneous requests (a barrier releases them, 16 users, one connection
   each opened beforehand) for the same slot on one single-unit resource;

then checks the database: every 201 is one active occurrence, every booking is confirmed, and
no two active occurrences of a single-unit resource overlap.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, func, select, text  # noqa: E402

from accounts import services as accounts  # noqa: E402
from accounts.models import Role, User  # noqa: E402
from app.extensions import db  # noqa: E402
from app.factory import create_app  # noqa: E402
from availability.intervals import Span  # noqa: E402
from availability.rules import BusyTime, asker_for, check_span  # noqa: E402
from bookings.models import Booking, Occurrence  # noqa: E402
from bookings.services import needs_approval, requester_class  # noqa: E402
from config import TestingConfig  # noqa: E402
from resources import services as catalogue  # noqa: E402
from resources.demo import load_demo  # noqa: E402
from resources.models import Block, Kind, Resource, resource_links  # noqa: E402

WORK = ROOT / "bench" / ".work"
GUNICORN = "-w 4 --threads 4"  # chosen by measurement: see the README's benchmark section
RESULTS = ROOT / "bench" / "http-results.md"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_NAME = "atu_bench_http"
NOW = TestingConfig.CLOCK_NOW  # what the server's business clock says (ATU_CONFIG=testing)
# The time rules alone (notice, window, hours): a calendar with nothing in it.
NOTHING_BUSY = BusyTime(NOW, NOW, {}, {}, {})
INSTITUTIONS = ("UVT", "UPT", "UMFT", "USVT")
PASSWORD = "bench-http-2026"
MRBS = "MRBS on PostgreSQL: 38-43 bookings/s with 4 clients (p50 ≈ 48 ms); a double booking in 9 of 48 races"


# --- setup (in this process, through the services) ---------------------------------------------


@dataclass
class Client:
    user: str
    token: str
    slots: list[tuple[int, datetime, datetime]] = field(default_factory=list)
    booked: list[tuple[int, datetime, datetime]] = field(default_factory=list)


def _make_app(url: str) -> Flask:
    config = type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    return create_app(config)


def _new_user(institution: str, n: int) -> tuple[User, str]:
    user = accounts.create_user(
        email=f"bench{n}@{institution.lower()}.bench.example.org", password=PASSWORD, institution_code=institution
    )
    secret, _ = accounts.issue_token(user, name="bench")
    return user, secret


def _bookable_slots(resource: Resource, user: User, horizon_days: int) -> list[tuple[datetime, datetime]]:
    """One-hour slots the resource's own rules accept for `user`, spaced so its buffer never bites."""
    step = timedelta(hours=math.ceil((60 + resource.buffer_minutes) / 60))
    first = NOW + timedelta(minutes=resource.min_notice_minutes)
    start = first.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    last = NOW + timedelta(days=min(resource.max_advance_days or horizon_days, horizon_days))
    slots = []
    while start <= last:
        span = Span(start, start + timedelta(hours=1), 1)
        if check_span(resource, span, NOTHING_BUSY, asker_for(resource, user), NOW) is None:
            slots.append((span.start, span.end))
            start += step
        else:
            start += timedelta(hours=1)
    return slots


def _interleave(pools: list[list[tuple[int, datetime, datetime]]]) -> list[tuple[int, datetime, datetime]]:
    """Round-robin over the resources, so consecutive bookings of a client hit different resources."""
    out: list[tuple[int, datetime, datetime]] = []
    for i in range(max((len(p) for p in pools), default=0)):
        out.extend(p[i] for p in pools if i < len(p))
    return out


def setup(app: Flask, clients: int, racers: int, horizon_days: int) -> tuple[list[Client], list[Client], int, int]:
    """Demo catalogue, client users and tokens, each client's slots, the race resource and its users."""
    with app.app_context():
        upgrade()
        load_demo()
        users = [_new_user(INSTITUTIONS[i % len(INSTITUTIONS)], i) for i in range(clients)]
        bookers = [Client(u.email, secret) for u, secret in users]
        linked = {rid for pair in db.session.execute(select(resource_links)) for rid in pair}
        blocked = set(db.session.scalars(select(Block.resource_id)))
        resources = db.session.scalars(select(Resource).where(Resource.active).order_by(Resource.id)).all()
        pools: list[list[list[tuple[int, datetime, datetime]]]] = [[] for _ in bookers]
        taken = [0] * len(bookers)
        used = 0
        for resource in resources:
            if resource.kind == Kind.DORM or resource.quota_hours_per_week or resource.id in linked | blocked:
                continue
            eligible = []
            for i, (user, _) in enumerate(users):
                visible = db.session.scalar(
                    select(Resource.id).where(Resource.id == resource.id, catalogue.visibility_clause(user))
                )
                partner_refused = not resource.allow_partners and requester_class(user, resource) == "partner"
                allowed = not partner_refused and catalogue.is_authorized(user, resource, NOW)
                if visible and allowed and not needs_approval(user, resource):
                    eligible.append(i)
            if not eligible:
                continue
            owner = min(eligible, key=lambda i: taken[i])  # each resource serves one client only
            slots = _bookable_slots(resource, users[owner][0], horizon_days)
            if slots:
                pools[owner].append([(resource.id, s, e) for s, e in slots])
                taken[owner] += len(slots)
                used += 1
        for client, pool in zip(bookers, pools, strict=True):
            client.slots = _interleave(pool)
        admin = User(role=Role.ADMIN.value, email="bench-admin@bench.local", institution_id=0)
        arena = catalogue.create_resource(
            admin, {"name": "Bench race room", "kind": "room", "institution": "UVT", "units": 1, "approval": "none"}
        )
        race_users = [_new_user("UVT", 1000 + i) for i in range(racers)]
        race = [Client(u.email, secret) for u, secret in race_users]
        db.session.commit()
        arena_id = arena.id
        db.engine.dispose()
    return bookers, race, arena_id, used


# --- the server ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, label: str, options: str = GUNICORN) -> Iterator[int]:
    """gunicorn on the benchmark database (by default 4 worker processes x 4 threads); stopped with SIGTERM."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "ATU_CONFIG": "testing", "PYTHONPATH": str(ROOT)}
    log = (WORK / f"gunicorn-{label}.log").open("wb")
    command = [sys.executable, "-m", "gunicorn", *options.split(), "-b", f"127.0.0.1:{port}"]
    command += ["--log-level", "warning", "wsgi:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start; see {log.name}") from None
                time.sleep(0.1)
        yield port
        WORKERS_RSS[label] = _workers_rss(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


WORKERS_RSS: dict[str, list[int]] = {}


def _workers_rss(master: int) -> list[int]:
    """Resident memory (MB) of each gunicorn worker, read from /proc before the server stops."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return []
    sizes = []
    for child in children:
        for line in Path(f"/proc/{child}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) // 1024)
    return sizes


# --- the clients ---------------------------------------------------------------------------------


def _body(resource_id: int, start: datetime | str, end: datetime | str, title: str) -> bytes:
    as_text = [v.isoformat() if isinstance(v, datetime) else v for v in (start, end)]
    return json.dumps({"resource_id": resource_id, "start": as_text[0], "end": as_text[1], "title": title}).encode()


def _post(conn: http.client.HTTPConnection, token: str, body: bytes) -> int:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request("POST", "/api/v1/bookings", body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


@dataclass
class Run:
    clients: int
    seconds: float = 0.0
    created: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.created / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        if q == 50:
            return statistics.median(ordered) * 1000
        return ordered[max(0, math.ceil(len(ordered) * q / 100) - 1)] * 1000


def throughput(port: int, clients: list[Client], seconds: float, per_client: int) -> Run:
    """Each client books its own slots one after another until the time or its count runs out."""
    run = Run(len(clients))
    lock = threading.Lock()
    barrier = threading.Barrier(len(clients) + 1)
    deadline = [0.0]

    def work(client: Client) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.connect()
        latencies: list[float] = []
        errors: Counter[str] = Counter()
        created = 0
        barrier.wait()
        for n in range(per_client):
            if time.perf_counter() >= deadline[0] or not client.slots:
                break
            resource_id, start, end = client.slots.pop(0)
            begin = time.perf_counter()
            try:
                status = _post(conn, client.token, _body(resource_id, start, end, f"Bench {n}"))
            except (OSError, http.client.HTTPException) as exc:
                status = 0
                errors[type(exc).__name__] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            latencies.append(time.perf_counter() - begin)
            if status == 201:
                created += 1
                client.booked.append((resource_id, start, end))
            elif status:
                errors[str(status)] += 1
        conn.close()
        with lock:
            run.latencies.extend(latencies)
            run.errors.update(errors)
            run.created += created

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    started = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - started
    return run


def floor(port: int, threads: int, seconds: float) -> Run:
    """The floor of the same run: `GET /healthz` (one `SELECT 1` through the whole stack), each thread
    on its own keep-alive connection, one request after another."""
    run = Run(threads)
    lock = threading.Lock()
    barrier = threading.Barrier(threads + 1)
    deadline = [0.0]

    def work() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.connect()
        latencies: list[float] = []
        barrier.wait()
        while time.perf_counter() < deadline[0]:
            begin = time.perf_counter()
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            response.read()
            latencies.append(time.perf_counter() - begin)
        conn.close()
        with lock:
            run.latencies.extend(latencies)
            run.created += len(latencies)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for thread in pool:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    started = time.perf_counter()
    barrier.wait()
    for thread in pool:
        thread.join()
    run.seconds = time.perf_counter() - started
    return run


def refusals(port: int, client: Client, count: int, single_unit: set[int]) -> Run:
    """One client asks again for slots it booked on single-unit resources: each answer is a 409 with
    suggestions (the nearest free slots of the same length and equivalent resources free then)."""
    run = Run(1)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    taken = [slot for slot in client.booked if slot[0] in single_unit]
    for resource_id, start, end in taken[:count]:
        begin = time.perf_counter()
        status = _post(conn, client.token, _body(resource_id, start, end, "again"))
        run.latencies.append(time.perf_counter() - begin)
        if status == 409:
            run.created += 1
        else:
            run.errors[str(status)] += 1
    conn.close()
    run.seconds = time.perf_counter() - started
    return run


def round_trips(app: Flask, creates: int = 5) -> tuple[int, int, int]:
    """(SQL statements, PostgreSQL round trips) of one `POST /api/v1/bookings`, the median of `creates`
    runs through the Flask test client, and the round trips of asking for the same slot again (a 409 with
    suggestions, and its count kept for the reports after the rollback). Round trips are counted on the wire: libpq's trace of every
    message the client sends, one per Sync (extended protocol) or Query (BEGIN, COMMIT, the pre-ping)."""
    with app.app_context():
        user, secret = _new_user("UVT", 9_000)
        resource = next(
            r
            for r in db.session.scalars(select(Resource).where(Resource.kind == Kind.SPORTS, Resource.active))
            if not r.quota_hours_per_week and not needs_approval(user, r) and not r.requires_authorization
        )
        slots = _bookable_slots(resource, user, 60)[-creates:]
        resource_id = resource.id
        db.session.commit()
        engine = db.engine
        engine.dispose()
    statements: list[int] = []
    trace = (WORK / "libpq-trace.txt").open("w+")

    def count_statement(*args: Any) -> None:
        statements[-1] += 1

    def trace_connection(dbapi_connection: Any, *args: Any) -> None:
        dbapi_connection.pgconn.trace(trace.fileno())

    event.listen(engine, "before_cursor_execute", count_statement)
    event.listen(engine, "checkout", trace_connection)
    client = app.test_client()
    trips, refusal_trips = [], []

    def sent_trips() -> int:
        trace.flush()
        trace.seek(0)
        sent = [line.split("\t") for line in trace.read().splitlines()]
        trace.seek(0)
        trace.truncate()
        return sum(1 for parts in sent if len(parts) > 3 and parts[1] == "F" and parts[3] in ("Sync", "Query"))

    try:
        for start, end in slots:
            statements.append(0)
            trace.seek(0)
            trace.truncate()
            response = client.post(
                "/api/v1/bookings",
                data=_body(resource_id, start, end, "round trips"),
                headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
            )
            assert response.status_code == 201, response.get_data(as_text=True)
            trips.append(sent_trips())
            statements.append(0)
            again = client.post(
                "/api/v1/bookings",
                data=_body(resource_id, start, end, "round trips again"),
                headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
            )
            assert again.status_code == 409, again.get_data(as_text=True)
            refusal_trips.append(sent_trips())
            statements.pop()
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)
        event.remove(engine, "checkout", trace_connection)
        with app.app_context():
            db.engine.dispose()  # no traced connection left in the pool
        trace.close()
    return int(statistics.median(statements)), int(statistics.median(trips)), int(statistics.median(refusal_trips))


@dataclass
class Races:
    rounds: int = 0
    requests: int = 0
    one_winner: int = 0
    double: int = 0
    no_winner: int = 0
    statuses: Counter = field(default_factory=Counter)
    seconds: float = 0.0


def races(port: int, racers: list[Client], arena_id: int, rounds: int) -> Races:
    """Every round, all racers ask for the same hour of the same single-unit resource at once."""
    result = Races(rounds=rounds, requests=rounds * len(racers))
    barrier = threading.Barrier(len(racers))
    started = time.perf_counter()

    def race(client: Client, body: bytes) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.connect()
            barrier.wait()
            return _post(conn, client.token, body)
        except (OSError, http.client.HTTPException):
            return 0
        finally:
            conn.close()

    with ThreadPoolExecutor(max_workers=len(racers)) as pool:
        for round_ in range(rounds):
            day = datetime(2026, 11, 9, 10) + timedelta(days=round_)  # wall clock of the resource
            body = _body(arena_id, day.isoformat(), (day + timedelta(hours=1)).isoformat(), f"Race {round_}")
            statuses = list(pool.map(race, racers, [body] * len(racers)))
            result.statuses.update(statuses)
            wins = statuses.count(201)
            result.one_winner += wins == 1
            result.double += wins > 1
            result.no_winner += wins == 0
    result.seconds = time.perf_counter() - started
    return result


# --- checks --------------------------------------------------------------------------------------


def check(app: Flask, arena_id: int) -> dict[str, Any]:
    """Occurrences, statuses and overlaps as stored (single-unit resources: none may overlap)."""
    with app.app_context():
        active = db.session.execute(
            select(Occurrence.resource_id, Occurrence.start_at, Occurrence.end_at, Resource.units)
            .join(Resource, Resource.id == Occurrence.resource_id)
            .where(Occurrence.active)
            .order_by(Occurrence.resource_id, Occurrence.start_at)
        ).all()
        overlaps, arena_overlaps, arena_count = 0, 0, 0
        resource_id, reach = None, None  # the latest end so far on the current resource
        for row in active:
            arena_count += row.resource_id == arena_id
            if row.resource_id != resource_id:
                resource_id, reach = row.resource_id, row.end_at
                continue
            if row.units == 1 and reach is not None and row.start_at < reach:
                overlaps += 1
                arena_overlaps += row.resource_id == arena_id
            reach = max(reach, row.end_at) if reach is not None else row.end_at
        not_confirmed = db.session.scalar(select(func.count(Booking.id)).where(Booking.status != "confirmed")) or 0
        if db.engine.dialect.name == "postgresql":
            version = "PostgreSQL " + str(db.session.scalar(text("SHOW server_version"))).split()[0]
        else:
            version = f"SQLite {sqlite3.sqlite_version}"
        db.engine.dispose()
    return {
        "active": len(active),
        "overlaps": overlaps,
        "arena_active": arena_count,
        "arena_overlaps": arena_overlaps,
        "not_confirmed": not_confirmed,
        "version": version,
    }


# --- one backend ---------------------------------------------------------------------------------


def _postgres() -> tuple[str, str] | None:
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")  # this benchmark's own database
            conn.execute(f"CREATE DATABASE {PG_NAME}")
    except psycopg.Error as exc:
        print(f"PostgreSQL not reachable ({exc}); HTTP benchmark on SQLite only")
        return None
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_NAME}", f"postgresql://postgres@127.0.0.1:5432/{PG_NAME}"


def measure(label: str, url: str, server_url: str, args: argparse.Namespace) -> dict[str, Any]:
    began = time.perf_counter()
    app = _make_app(url)
    clients, racers, arena_id, used = setup(app, args.clients, args.racers, args.horizon_days)
    slots = sum(len(c.slots) for c in clients)
    fewest = min(len(c.slots) for c in clients)
    print(f"{label}: {used} demo resources, {slots} bookable slots for {len(clients)} clients (>= {fewest} each)")
    if fewest < 5 + 2 * args.per_client:
        print(f"{label}: a client may run out of slots; widen --horizon-days")
    with gunicorn(server_url, label, args.gunicorn) as port:
        floor(port, args.clients, 2.0)  # warm-up
        health_many = floor(port, args.clients, args.floor_seconds)
        health_one = floor(port, 1, args.floor_seconds)
        print(
            f"{label}: /healthz {health_many.rate:.0f}/s with {args.clients} clients, "
            f"p50 {health_one.percentile(50):.2f} ms with one",
            flush=True,
        )
        warmup = throughput(port, clients, 3.0, 5)
        many = throughput(port, clients, args.seconds, args.per_client)
        print(f"{label}: {many.clients} clients {many.rate:.1f}/s p50 {many.percentile(50):.0f} ms", flush=True)
        single = throughput(port, clients[:1], args.single_seconds, args.per_client)
        print(f"{label}: 1 client {single.rate:.1f}/s p50 {single.percentile(50):.0f} ms", flush=True)
        with app.app_context():
            single_unit = set(db.session.scalars(select(Resource.id).where(Resource.units == 1)))
        refused = refusals(port, clients[0], 200, single_unit)
        print(f"{label}: refusals p50 {refused.percentile(50):.1f} ms ({_errors(refused.errors)} not 409)", flush=True)
        contest = races(port, racers, arena_id, args.rounds)
        print(f"{label}: races {contest.double} double, {contest.no_winner} without a winner", flush=True)
    stored = check(app, arena_id)
    created = warmup.created + many.created + single.created + contest.statuses[201]
    trips = round_trips(app) if label == "postgresql" else None
    if trips:
        print(
            f"{label}: {trips[0]} SQL statements, {trips[1]} round trips per create, {trips[2]} per refusal",
            flush=True,
        )
    return {
        "floor": (health_many, health_one),
        "refused": refused,
        "trips": trips,
        "backend": label,
        "runs": [many, single],
        "warmup": warmup,
        "races": contest,
        "stored": stored,
        "created": created,
        "slots": slots,
        "demo_resources": used,
        "seconds": time.perf_counter() - began,
    }


# --- report --------------------------------------------------------------------------------------


def _errors(counter: Counter) -> str:
    total = sum(counter.values())
    return "0" if not total else f"{total} ({', '.join(f'{k}: {v}' for k, v in sorted(counter.items()))})"


def report(rows: list[dict[str, Any]], args: argparse.Namespace, load: tuple[float, ...], total: float) -> str:
    import gunicorn as gunicorn_package

    versions = ", ".join(r["stored"]["version"] for r in rows)
    lines = [
        "# Benchmark: bookings over HTTP through gunicorn, and races for one slot",
        "",
        f"Generated by `make bench` (`python -m bench.http`) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. "
        f"Machine: nproc={os.cpu_count()} (a shared VM: other jobs ran on it; load average "
        f"{load[0]:.2f} at the start), Python {platform.python_version()}, {platform.platform()}; {versions}; "
        f"gunicorn {gunicorn_package.__version__} with `{args.gunicorn}` (`ATU_CONFIG=testing`); "
        f"the clients ran on the same machine. Total runtime {total:.0f} s.",
        "",
        f"For comparison, {MRBS} of 16 simultaneous requests.",
        "",
        "## Throughput: `POST /api/v1/bookings`, each client its own user, token and keep-alive connection",
        "",
        "| backend | clients | run s | bookings (201) | errors | bookings/s | p50 ms | p95 ms |",
        "|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        for run in r["runs"]:
            lines.append(
                f"| {r['backend']} | {run.clients} | {run.seconds:.1f} | {run.created:,} | {_errors(run.errors)} | "
                f"**{run.rate:.1f}** | {run.percentile(50):.0f} | {run.percentile(95):.0f} |"
            )
    lines += [
        "",
        "Every request books a distinct free one-hour slot that the resource's own rules accept (opening hours, "
        "notice, booking window, buffer), on demo resources that need no approval or training, have no quota "
        "and no linked resources; each resource serves one client (slots per backend: "
        + ", ".join(f"{r['backend']} {r['slots']:,} on {r['demo_resources']} resources" for r in rows)
        + f"). A client stops after {args.per_client} bookings or the run's time ({args.seconds:.0f} s with "
        f"{args.clients} clients, {args.single_seconds:.0f} s with one); latency is measured in the client, from "
        f"sending the request to reading the whole response. Anything but 201 counts as an error. "
        f"A 3 s warm-up with every client (not counted) runs first.",
        "",
        f"## Races: {args.rounds} rounds of {args.racers} simultaneous requests for the same slot",
        "",
        "| backend | rounds | requests | one 201 | more than one 201 (double booking) | no 201 | statuses | "
        "overlapping active occurrences | run s |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        c, s = r["races"], r["stored"]
        statuses = ", ".join(f"{k or 'no response'}: {v}" for k, v in sorted(c.statuses.items()))
        lines.append(
            f"| {r['backend']} | {c.rounds} | {c.requests} | {c.one_winner} | **{c.double}** | {c.no_winner} | "
            f"{statuses} | {s['arena_overlaps']} (of {s['arena_active']} stored) | {c.seconds:.1f} |"
        )
    lines += [
        "",
        f"Each round, {args.racers} users (one connection each, opened before a barrier releases them together) ask "
        f"for the same hour of one single-unit room, a new hour every round; gunicorn's 16 threads take them "
        f"all at once.",
        "",
        "## Database afterwards",
        "",
        "| backend | 201 responses | active occurrences | bookings not confirmed | overlaps on single-unit resources |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        s = r["stored"]
        lines.append(
            f"| {r['backend']} | {r['created']:,} | {s['active']:,} | {s['not_confirmed']} | {s['overlaps']} |"
        )
    lines += [
        "",
        "201 responses include the warm-up. Every 201 should be one active occurrence, every booking confirmed "
        "(no approval was needed) and no two active occurrences of a single-unit resource should overlap.",
        "",
        "## Goals (issue 13), as ratios to the floor measured in the same run",
        "",
        f"The floor is `GET /healthz` (one `SELECT 1` through the whole stack) on the same server: {args.clients} "
        f"clients for {args.floor_seconds:.0f} s, then one. MRBS books 34/s with 4 clients on a machine like this "
        "one; the goal is five times that.",
        "",
        "| backend | goal | measured | met |",
        "|---|---|---:|---|",
    ]
    for r in rows:
        many, single = r["runs"]
        health_many, health_one = r["floor"]
        goals = [
            (
                "create p50 with one client ≤ 5× /healthz p50",
                single.percentile(50) / health_one.percentile(50),
                lambda v: v <= 5,
                "{:.1f}×",
            ),
            (
                f"create throughput with {many.clients} clients ≥ 0.15× /healthz requests/s",
                many.rate / health_many.rate,
                lambda v: v >= 0.15,
                "{:.3f}×",
            ),
            (
                f"create throughput with {many.clients} clients ≥ 172/s (5× MRBS)",
                many.rate,
                lambda v: v >= 172,
                "{:.0f}/s",
            ),
            (
                "a refusal with suggestions (409) p50 ≤ 2× a create p50, one client",
                r["refused"].percentile(50) / single.percentile(50),
                lambda v: v <= 2,
                "{:.2f}×",
            ),
        ]
        if r["trips"]:
            goals.append(("round trips per create ≤ 8", r["trips"][1], lambda v: v <= 8, "{:d}"))
        rss = WORKERS_RSS.get(r["backend"]) or [0]
        served = sum(len(run.latencies) for run in (r["warmup"], *r["runs"], *r["floor"], r["refused"]))
        served += r["races"].requests
        goals.append(
            (
                f"worker RSS < 250 MB after the run (~{served // len(rss):,} requests each)",
                max(rss),
                lambda v: 0 < v < 250,
                "{:d} MB",
            )
        )
        for name, value, met, shape in goals:
            lines.append(f"| {r['backend']} | {name} | {shape.format(value)} | {'yes' if met(value) else '**no**'} |")
    lines += [
        "",
        "Round trips are counted on the wire (libpq's trace of what the client sends: one per Sync or simple Query, "
        "so BEGIN and COMMIT count; the pool does not ping), through the Flask test client, median of five creates: "
        + ", ".join(
            f"{r['backend']} {r['trips'][0]} SQL statements, {r['trips'][1]} round trips per create and "
            f"{r['trips'][2]} per refusal (a 409 with suggestions, its count kept for the reports)"
            for r in rows
            if r["trips"]
        )
        + ".",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the multi-client run")
    parser.add_argument("--single-seconds", type=float, default=10.0, help="length of the one-client run")
    parser.add_argument("--per-client", type=int, default=300, help="bookings per client at most")
    parser.add_argument("--rounds", type=int, default=48)
    parser.add_argument("--gunicorn", default=GUNICORN, help="worker options, e.g. '-w 4 --threads 1'")
    parser.add_argument("--results", default=str(RESULTS), help="where to write the report")
    parser.add_argument("--floor-seconds", type=float, default=5.0, help="length of each /healthz run")
    parser.add_argument("--racers", type=int, default=16)
    parser.add_argument("--horizon-days", type=int, default=120)
    parser.add_argument("--backends", default="postgresql,sqlite")
    args = parser.parse_args()
    load = os.getloadavg()
    started = time.perf_counter()
    WORK.mkdir(parents=True, exist_ok=True)
    rows = []
    for backend in args.backends.split(","):
        if backend == "postgresql":
            pg = _postgres()
            if pg:
                rows.append(measure("postgresql", pg[0], pg[1], args))
        elif backend == "sqlite":
            path = WORK / "http.sqlite3"
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
            rows.append(measure("sqlite", f"sqlite:///{path}", f"sqlite:///{path}", args))
    text_ = report(rows, args, load, time.perf_counter() - started)
    Path(args.results).write_text(text_, encoding="utf-8")
    print(text_)


if __name__ == "__main__":
    main()
