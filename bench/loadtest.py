"""Load test: simulated users (locust, headless) against two app instances on one PostgreSQL database holding
1,000 resources and 1M occurrences; a realistic mix of searches, week calendars, timelines, availability,
bookings, cancellations and feed polls. Goal (issue 18): no errors, and every request type's p95 under 10x
the /healthz p95 measured in the same run.

1. A fresh database `atu_load` (or LOAD_DATABASE_URL, whose public schema is dropped): the real migrations,
   the demo catalogue, its resources copied until there are 1,000, then the history bulk-loaded as
   `bench.run` does (one confirmed booking per session, 1-3 h, ~5% cancelled), and VACUUM ANALYZE.
2. Users with tokens, one per simulated user, in `bench/.work/load-users.json`.
3. Two gunicorn instances (each `--workers 2 --threads 4`, the same database) on loopback ports.
4. `locust --headless` with bench/locustfile.py for `--seconds`, `--users` users spawned at `--spawn-rate`
   a second; each user keeps to one instance (half on each), as behind a load balancer with sticky sessions.
5. bench/loadtest-results.md: requests, failures, p50 and p95 per request type, and the verdicts.

Run with `make loadtest` or `.venv/bin/python -m bench.loadtest [--users 200] [--seconds 60]`. A refused
booking (409, the slot was taken) is an answer, not an error; anything else off the expected statuses is.
The clients run on the same 2-core machine as the servers and the database: the ratios compare, the
absolute figures are this machine's.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import select, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from accounts import services as accounts  # noqa: E402
from app.extensions import db  # noqa: E402
from app.factory import create_app  # noqa: E402
from bench.http import gunicorn  # noqa: E402
from bench.run import (  # noqa: E402
    LONGEST_MINUTES,
    PG_ADMIN_URL,
    PostgresBackend,
    build_layout,
    describe_world,
    plan_creates,
)
from config import database_url  # noqa: E402
from resources.demo import load_demo  # noqa: E402
from resources.models import Kind, Resource  # noqa: E402

WORK = ROOT / "bench" / ".work"
RESULTS = ROOT / "bench" / "loadtest-results.md"
USERS_FILE = WORK / "load-users.json"
LOAD_DB = "atu_load"
INSTITUTIONS = ("UVT", "UPT", "UMFT", "USVT")
INSTANCE = "--workers 2 --threads 4 --keep-alive 10"
# Clients wait up to 2 s between requests on one connection: a keep-alive shorter than that (gunicorn's 2 s)
# races them, the server closing as the next request arrives. Behind nginx (HTTP/1.0 upstream) it cannot happen.
GOAL_RATIO = 10.0
# Copied resource columns (everything but identity, names and timestamps).
SKIPPED = {"id", "name", "name_en", "created_at", "updated_at"}


def log(message: str) -> None:
    print(message, flush=True)


def backend(fresh: bool) -> PostgresBackend:
    """The load test's database; with `fresh`, made anew (else the last run's, kept by --reuse)."""
    raw = os.environ.get("LOAD_DATABASE_URL")
    if raw:
        return PostgresBackend(database_url(raw), reset_schema=True)
    if fresh:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {LOAD_DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {LOAD_DB}")
    url = make_url(database_url(PG_ADMIN_URL)).set(database=LOAD_DB)
    return PostgresBackend(url.render_as_string(hide_password=False), reset_schema=True)


def prepare(target: PostgresBackend, resources: int, occurrences: int, users: int) -> dict:
    started = time.perf_counter()
    target.reset()
    app = create_app(target.config())
    with app.app_context():
        upgrade()
        load_demo()
        db.session.commit()
        originals = list(db.session.scalars(select(Resource).where(Resource.active).order_by(Resource.id)))
        copies = 0
        while len(originals) + copies < resources:
            source = originals[copies % len(originals)]
            values = {c.key: getattr(source, c.key) for c in Resource.__table__.columns if c.key not in SKIPPED}
            number = copies // len(originals) + 2
            db.session.add(
                Resource(
                    **values, name=f"{source.name} ({number})", name_en=f"{source.name_en or source.name} ({number})"
                )
            )
            copies += 1
        db.session.commit()
        db.session.execute(update(Resource).values(longest_booking_minutes=LONGEST_MINUTES))
        db.session.commit()
        world = describe_world()
        layout = build_layout(world, plan_creates(), occurrences)
        log(f"   {len(world.resource_ids):,} resources; loading {occurrences:,} occurrences")
        target.grow(world, layout, 0, occurrences)
        target.analyze()
        people = []
        for n in range(users):
            user = accounts.create_user(
                email=f"load{n}@{INSTITUTIONS[n % 4].lower()}.load.example.org",
                password="load-test-password",
                institution_code=INSTITUTIONS[n % 4],
            )
            secret, _ = accounts.issue_token(user, name="load")
            people.append(secret)
        bookable = [
            r.id
            for r in db.session.scalars(select(Resource).where(Resource.active).order_by(Resource.id))
            if r.kind != Kind.DORM
            and r.visibility in ("public", "alliance")
            and not r.requires_authorization
            and r.allow_partners
            and r.approval == "none"
        ]
        readable = list(
            db.session.scalars(
                select(Resource.id).where(Resource.active, Resource.visibility.in_(("public", "alliance")))
            )
        )
        db.session.commit()
        db.engine.dispose()
    data = {"tokens": people, "bookable": bookable, "readable": readable}
    WORK.mkdir(parents=True, exist_ok=True)
    USERS_FILE.write_text(json.dumps(data), encoding="utf-8")
    log(f"   prepared in {time.perf_counter() - started:.0f} s ({len(bookable)} bookable resources)")
    return data


def run_locust(hosts: list[str], users: int, spawn_rate: int, seconds: int) -> Path:
    prefix = WORK / "locust"
    env = {**os.environ, "LOAD_HOSTS": ",".join(hosts), "LOAD_USERS_FILE": str(USERS_FILE)}
    command = [
        str(Path(sys.executable).with_name("locust")),
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        f"{seconds}s",
        "--host",
        hosts[0],
        "--csv",
        str(prefix),
        "--only-summary",
        "--stop-timeout",
        "10",
        "--loglevel",
        "WARNING",
    ]
    subprocess.run(command, cwd=ROOT, env=env, check=False, timeout=seconds + 120)
    return prefix.with_name(prefix.name + "_stats.csv")


def read_stats(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["Name"] != "Aggregated"]


def write_results(rows: list[dict], args: argparse.Namespace, failures: list[dict], prepared: float) -> str:
    floor = next((float(r["95%"]) for r in rows if r["Name"] == "healthz"), None)
    lines = [
        f"# Load test: two app instances on one PostgreSQL ({args.resources:,} resources, "
        f"{args.occurrences:,} occurrences)",
        "",
        f"Generated by `make loadtest` (`python -m bench.loadtest`) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"machine: nproc={os.cpu_count()}, Python {platform.python_version()}; {args.users} simulated users "
        f"(locust, headless, spawned at {args.spawn_rate}/s) for {args.seconds} s against two gunicorn instances "
        f"(`{INSTANCE}` each) on one database; the clients, both servers and PostgreSQL share the machine. "
        f"Preparing the database took {prepared:.0f} s. The method: the docstring of `bench/loadtest.py`.",
        "",
        f"Goal: no errors, and each request type's p95 under {GOAL_RATIO:.0f}x the /healthz p95 of the same run"
        + (f" ({floor:.0f} ms)." if floor else "."),
        "",
        "| request | requests | errors | p50 ms | p95 ms | p95 / healthz p95 | met |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in sorted(rows, key=lambda r: r["Name"]):
        p95 = float(r["95%"])
        ratio = p95 / floor if floor else None
        met = int(r["Failure Count"]) == 0 and (ratio is None or ratio <= GOAL_RATIO)
        lines.append(
            f"| {r['Type']} {r['Name']} | {int(r['Request Count']):,} | {r['Failure Count']} | {r['50%']} | "
            f"{r['95%']} | {'–' if ratio is None else f'{ratio:.1f}x'} | {'yes' if met else '**no**'} |"
        )
    total = sum(int(r["Request Count"]) for r in rows)
    errors = sum(int(r["Failure Count"]) for r in rows)
    lines += ["", f"{total:,} requests, {errors} errors ({total / args.seconds:.0f} requests/s)."]
    if failures:
        lines += ["", "Errors:", ""]
        lines += [f"- {f['Method']} {f['Name']}: {f['Error']} ({f['Occurrences']})" for f in failures[:20]]
    text = "\n".join(lines) + "\n"
    RESULTS.write_text(text, encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--spawn-rate", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--resources", type=int, default=1_000)
    parser.add_argument("--occurrences", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep the database and users of the last run")
    args = parser.parse_args(argv)
    reuse = args.reuse and USERS_FILE.exists()
    target = backend(fresh=not reuse)
    started = time.perf_counter()
    if not reuse:
        log(f"== preparing {args.resources:,} resources and {args.occurrences:,} occurrences")
        prepare(target, args.resources, args.occurrences, args.users)
    prepared = time.perf_counter() - started
    server = make_url(target.url).set(drivername="postgresql").render_as_string(hide_password=False)
    with gunicorn(server, "load-a", INSTANCE) as first, gunicorn(server, "load-b", INSTANCE) as second:
        hosts = [f"http://127.0.0.1:{first}", f"http://127.0.0.1:{second}"]
        log(f"== {args.users} users for {args.seconds} s against {', '.join(hosts)}")
        stats = run_locust(hosts, args.users, args.spawn_rate, args.seconds)
    failures_file = stats.with_name(stats.name.replace("_stats.csv", "_failures.csv"))
    failures = list(csv.DictReader(failures_file.open(encoding="utf-8"))) if failures_file.exists() else []
    text = write_results(read_stats(stats), args, failures, prepared)
    log(text)
    log(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
