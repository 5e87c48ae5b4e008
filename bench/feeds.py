"""Feed benchmark: a private feed of 10,000 events, full render, cached 200 and the 304 path,
against /healthz as the floor. Writes bench/feeds-results.md and prints it.

Runs in-process through the Flask test client (no network), on SQLite and, when reachable,
PostgreSQL (`BENCH_DATABASE_URL`, default a fresh `atu_bench_feeds` database on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import icalendar  # noqa: E402
import psycopg  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import delete, insert, select, text  # noqa: E402

from accounts.models import User  # noqa: E402
from app.extensions import db  # noqa: E402
from app.factory import create_app  # noqa: E402
from bookings.models import Booking, Occurrence  # noqa: E402
from calendars import services as calendars  # noqa: E402
from calendars.models import FeedRender  # noqa: E402
from config import TestingConfig  # noqa: E402
from resources.demo import load_demo  # noqa: E402
from resources.models import Resource  # noqa: E402

WORK = ROOT / "bench" / ".work"
RESULTS = ROOT / "bench" / "feeds-results.md"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000


def _postgres_url() -> str | None:
    url = os.environ.get("BENCH_FEEDS_DATABASE_URL")
    if url:
        return url
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute("DROP DATABASE IF EXISTS atu_bench_feeds WITH (FORCE)")
            conn.execute("CREATE DATABASE atu_bench_feeds")
    except psycopg.Error as exc:
        print(f"PostgreSQL not reachable ({exc}); feeds benchmark on SQLite only")
        return None
    return "postgresql+psycopg://postgres@127.0.0.1:5432/atu_bench_feeds"


def seed(count: int) -> tuple[User, list[Resource]]:
    load_demo()
    db.session.commit()
    user = db.session.scalar(select(User).where(User.email == "member.uvt@demo.atu.ro"))
    resources = list(db.session.scalars(select(Resource).where(Resource.kind == "lab").order_by(Resource.id)))
    start = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)
    now = datetime.now(UTC)
    bookings, occurrences = [], []
    booking_id = (db.session.scalar(select(Booking.id).order_by(Booking.id.desc()).limit(1)) or 0) + 1
    for i in range(count):
        resource = resources[i % len(resources)]
        begin = start + timedelta(hours=2 * (i // len(resources)))
        bookings.append(
            {
                "id": booking_id + i,
                "resource_id": resource.id,
                "requester_id": user.id,
                "title": f"Sesiune {i}",
                "units": 1,
                "status": "confirmed",
                "all_day": False,
                "price_amount": 0,
                "currency": "RON",
                "requester_class": "own",
                "project_code": "",
                "decision_reason": "",
                "created_at": now,
                "updated_at": now,
            }
        )
        occurrences.append(
            {
                "booking_id": booking_id + i,
                "resource_id": resource.id,
                "start_at": begin,
                "end_at": begin + timedelta(hours=1),
                "units": 1,
                "exclusive": True,
                "active": True,
                "sequence": 0,
                "uid": f"{secrets.token_hex(16)}@atu-facilities",
                "updated_at": now,
            }
        )
    db.session.execute(insert(Booking), bookings)
    db.session.execute(insert(Occurrence), occurrences)
    db.session.commit()
    return user, resources


def measure(label: str, url: str, count: int, runs: int) -> dict:
    config = type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(config)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        user, _ = seed(count)
        _, token = calendars.create_feed(user, "mine")
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
    client = app.test_client()
    path = f"/calendars/feeds/{token}.ics"

    def timed(**headers) -> tuple[float, object]:
        begin = time.perf_counter()
        response = client.get(path, headers=headers)
        return time.perf_counter() - begin, response

    from calendars import render as rendering

    def forget_shared() -> None:
        with app.app_context():
            db.session.execute(delete(FeedRender))
            db.session.commit()

    cold, full, shared = [], [], []
    for _ in range(max(3, runs // 40)):
        calendars._cache.clear()  # nothing cached: every event serialised by icalendar
        rendering._event_cache.clear()
        forget_shared()
        seconds, response = timed()
        cold.append(seconds)
    for _ in range(max(3, runs // 20)):
        calendars._cache.clear()  # the feed re-read and re-assembled, as after a change to it
        forget_shared()
        seconds, response = timed()
        full.append(seconds)
    timed()  # rendered once more, and shared
    for _ in range(max(3, runs // 20)):
        calendars._cache.clear()  # a worker that never rendered this feed: the bytes come from feed_renders
        rendering._event_cache.clear()
        seconds, response = timed()
        shared.append(seconds)
    body = response.data  # type: ignore[attr-defined]
    # The floor of a first render: icalendar serialising the same calendar, already built in memory.
    parsed = icalendar.Calendar.from_ical(body)
    serialise = []
    for _ in range(3):
        begin = time.perf_counter()
        parsed.to_ical()
        serialise.append(time.perf_counter() - begin)
    etag = response.headers["ETag"]  # type: ignore[attr-defined]
    events = body.count(b"BEGIN:VEVENT")
    cached = [timed()[0] for _ in range(runs)]
    not_modified = []
    for _ in range(runs):
        seconds, response = timed(**{"If-None-Match": etag})
        assert response.status_code == 304  # type: ignore[attr-defined]
        not_modified.append(seconds)
    health = []
    for _ in range(runs):
        begin = time.perf_counter()
        client.get("/healthz")
        health.append(time.perf_counter() - begin)
    with app.app_context():
        db.engine.dispose()
    return {
        "backend": label,
        "events": events,
        "bytes": len(body),
        "cold": _ms(cold),
        "full": _ms(full),
        "shared": _ms(shared),
        "icalendar": _ms(serialise),
        "cached": _ms(cached),
        "not_modified": _ms(not_modified),
        "healthz": _ms(health),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    sqlite_file = WORK / "feeds.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(str(sqlite_file) + suffix).unlink(missing_ok=True)
    targets = [("sqlite", f"sqlite:///{sqlite_file}")]
    pg = _postgres_url()
    if pg:
        targets.append(("postgresql", pg))
    started = time.perf_counter()
    rows = [measure(label, url, args.events, args.runs) for label, url in targets]
    lines = [
        "# Benchmark: a private iCal feed of 10,000 events",
        "",
        f"Generated by `make bench` (`python -m bench.feeds`) on {platform.node() and 'this machine'}: "
        f"nproc={os.cpu_count()}, Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"in-process (Flask test client), {args.runs} requests per path; total {time.perf_counter() - started:.0f} s.",
        "",
        "| backend | events | bytes | first render p50 / p95 ms | after a change p50 / p95 ms | a new worker (shared render) p50 / p95 ms | unchanged 200 p50 / p95 ms | 304 p50 / p95 ms | /healthz p50 / p95 ms |",
        "|---|---:|---:|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['backend']} | {r['events']:,} | {r['bytes']:,} | {r['cold'][0]:.0f} / {r['cold'][1]:.0f} | "
            f"{r['full'][0]:.0f} / {r['full'][1]:.0f} | {r['shared'][0]:.0f} / {r['shared'][1]:.0f} | "
            f"{r['cached'][0]:.2f} / {r['cached'][1]:.2f} | {r['not_modified'][0]:.2f} / {r['not_modified'][1]:.2f} | "
            f"{r['healthz'][0]:.2f} / {r['healthz'][1]:.2f} |"
        )
    lines += [
        "",
        "First render = every event serialised by icalendar (all caches cleared, the shared render deleted). After a "
        "change = the feed's rows read again and the calendar re-assembled from the per-event cache (what a poll "
        "costs after one of its bookings changed). A new worker = a process that never rendered the feed: its "
        "fingerprint is computed and the bytes come from `feed_renders`, rendered by another process or host. "
        "Unchanged 200 and 304 = the token lookup and the global change marker (five index lookups in one query), "
        "the rendered bytes being kept in the process.",
    ]
    lines += ["", "Goals (issue 13), as ratios measured in the same run:", ""]
    for r in rows:
        first = r["cold"][0] / r["icalendar"][0]
        poll = r["not_modified"][0] / r["healthz"][0]
        unchanged = r["cached"][0] / r["healthz"][0]
        lines += [
            f"- {r['backend']}: first render {r['cold'][0]:.0f} ms = **{first:.2f}×** icalendar's own `to_ical()` of the "
            f"same calendar ({r['icalendar'][0]:.0f} ms; goal ≤ 1.2×: {'met' if first <= 1.2 else 'not met'}); "
            f"a 304 poll **{poll:.1f}×** and an unchanged 200 **{unchanged:.1f}×** `/healthz` "
            f"(goal ≤ 1.5×: {'met' if max(poll, unchanged) <= 1.5 else 'not met'})",
        ]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
