"""Database outages (issue 18), on a real gunicorn (2 workers x 2 threads) and a real PostgreSQL.

- While PostgreSQL is down (stopped with `pg_ctl stop -m fast` or `-m immediate`, or killed), every request
  that needs it answers a 503 with Retry-After at once: problem+json for the API, the feeds and /healthz,
  the friendly page in the page's language for pages (signed in or not); never a 500, never a hung worker.
- Nothing is written half-way, no booking answered 201 is missing, and a booking refused with a 503 asked
  again with its Idempotency-Key exists exactly once.
- When the database is back the same gunicorn serves normally within a fraction of a second. A restart
  between requests costs at most one 503 per pooled connection (the pool does not ping).
- A database host that accepts connections and never answers costs a request the connect timeout, not
  for ever. A commit that went through is answered 201 even if the database goes away right after it; a
  COMMIT cut short is a 503 that says its outcome is unknown.
- The scheduler's loop logs an outage and goes on; after a restart or an outage its jobs run again.

The database is a private cluster (tests/pgcluster.py), independent of TEST_DATABASE_URL: these tests run
once, in the PostgreSQL half of the suite, and are skipped when PostgreSQL's initdb is not installed.
"""

from __future__ import annotations

import http.client
import itertools
import json
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from accounts import services as accounts
from app import scheduler
from app.database import CONNECT_TIMEOUT_SECONDS
from app.extensions import db
from app.factory import create_app
from bookings.models import Booking
from calendars import services as calendars
from config import TestingConfig, database_url
from resources import services as catalogue
from tests.pgcluster import Cluster
from tests.servers import gunicorn

PASSWORD = "correct-horse-9"
FRIENDLY = {  # templates/errors/error.html's 503 text, in each language
    "en": "The service is briefly unavailable. Please try again in a few seconds.",
    "ro": "Serviciul este indisponibil pentru scurt timp.",
}
SLOW = 5.0  # seconds: no answer may take longer, during the outage or after it
FIRE_SECONDS = 3.0  # how long requests are fired at the app while the database is down
WORKERS, THREADS = 2, 2  # gunicorn's
CLIENTS = 6  # client threads firing at the app


# --- the private cluster, the schema, the data, gunicorn ---------------------------------------------


@pytest.fixture(scope="module")
def cluster(database: str) -> Iterator[Cluster]:
    if not database.startswith("postgresql"):
        pytest.skip("run once, in the PostgreSQL half, on a private cluster of their own (tests/pgcluster.py)")
    made = Cluster.create()
    if made is None:
        pytest.skip("PostgreSQL's initdb and pg_ctl were not found (set PG_BINDIR to their folder)")
    try:
        made.start()
        yield made
    finally:
        made.teardown()


@dataclass
class Stack:
    cluster: Cluster
    app: Flask  # in this process, on the cluster: for the scheduler and requests timed against a commit
    base: str  # gunicorn on the cluster
    log: Path  # gunicorn's output
    lab: int
    token: str
    feed: str
    cookie: str  # a signed-in member's session


@pytest.fixture(scope="module")
def stack(cluster: Cluster) -> Iterator[Stack]:
    raw = cluster.createdb("atu")
    config = type("OutageConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": database_url(raw)})
    app = create_app(config)
    with app.app_context():
        upgrade()  # the real migrations, as the suite's own databases get them (tests/conftest.py)
        admin = accounts.create_user(
            email="admin@uvt.example.org", password=PASSWORD, institution_code="UVT", role="admin"
        )
        member = accounts.create_user(
            email="member@uvt.example.org", password=PASSWORD, institution_code="UVT", role="member"
        )
        lab = catalogue.create_resource(
            admin, {"name": "Laborator de pană", "kind": "lab", "institution": "UVT", "visibility": "public"}
        )
        token = accounts.issue_token(member)[0]
        feed = calendars.create_feed(member, "mine")[1]
        db.session.commit()
        lab_id = lab.id
        db.session.remove()
        db.engine.dispose()
    log = cluster.root / "gunicorn.log"  # removed with the cluster
    try:
        with gunicorn(raw, log, workers=WORKERS, threads=THREADS) as base:
            cookie = sign_in(base, "member@uvt.example.org")
            yield Stack(cluster, app, base, log, lab_id, token, feed, cookie)
    finally:
        with app.app_context():
            db.engine.dispose()


def sign_in(base: str, email: str) -> str:
    answer = call(
        base,
        "POST",
        "/login",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=urlencode({"email": email, "password": PASSWORD}).encode(),
    )
    assert answer.status == 302, answer.body[:500]
    cookies = [c.split(";", 1)[0] for c in answer.headers["set-cookie"].split("\n")]
    return next(c for c in cookies if c.startswith("session="))


# --- HTTP -----------------------------------------------------------------------------------------------


@dataclass
class Answer:
    kind: str
    status: int  # 0: no answer (refused, reset, timed out)
    headers: dict[str, str]
    body: bytes
    started: float
    seconds: float
    key: str | None = None  # the Idempotency-Key of a booking request

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


def call(
    base: str,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    kind: str = "",
    key: str | None = None,
    timeout: float = 10,
) -> Answer:
    host, port = base.removeprefix("http://").split(":")
    started = time.monotonic()
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        status, content = response.status, response.read()
        found = {k.lower(): v for k, v in response.getheaders()}
        found["set-cookie"] = "\n".join(response.headers.get_all("Set-Cookie") or [])
    except (OSError, http.client.HTTPException) as exc:
        status, found, content = 0, {}, repr(exc).encode()
    finally:
        connection.close()
    return Answer(kind, status, found, content, started, time.monotonic() - started, key)


# The local start of the n-th booking asked for: one hour each from Tuesday 10 November 2026 (after the
# testing clock's "now"), so no two ever clash.
_slots = itertools.count()


def booking_body(stack: Stack, title: str) -> bytes:
    start = datetime(2026, 11, 10) + timedelta(hours=next(_slots))
    end = start + timedelta(hours=1)
    fields = {"resource_id": stack.lab, "start": start.isoformat(), "end": end.isoformat(), "title": title}
    return json.dumps(fields).encode()


def book(stack: Stack, key: str, body: bytes | None = None) -> Answer:
    body = body or booking_body(stack, key)
    headers = {"Authorization": f"Bearer {stack.token}", "Content-Type": "application/json", "Idempotency-Key": key}
    return call(stack.base, "POST", "/api/v1/bookings", headers=headers, body=body, kind="book", key=key)


@dataclass(frozen=True)
class Probe:
    kind: str
    send: Callable[[], Answer]
    normal: int  # the status when the database is up
    page: str | None = None  # a page's language; None: a problem+json answer


def probes(stack: Stack, tag: str) -> list[Probe]:
    """The mix fired at the app: pages (anonymous and signed in, Romanian and English), the API's catalogue,
    availability and bookings, a private feed, and the health check."""
    numbers = itertools.count()  # shared by the client threads (a generator would refuse them)
    bearer = {"Authorization": f"Bearer {stack.token}"}
    signed_in = {"Cookie": stack.cookie}

    def get(kind: str, path: str, headers: dict[str, str]) -> Callable[[], Answer]:
        return lambda: call(stack.base, "GET", path, headers=headers, kind=kind)

    search = "/?date=2026-11-10&start_time=10:00&end_time=11:00"
    return [
        Probe("search page", get("search page", search, {"Accept-Language": "ro"}), 200, "ro"),
        Probe("catalogue page", get("catalogue page", "/resources", {**signed_in, "Accept-Language": "en"}), 200, "en"),
        Probe("resource page", get("resource page", f"/resources/{stack.lab}", {"Cookie": f"{stack.cookie}; lang=ro"}), 200, "ro"),
        Probe("api catalogue", get("api catalogue", "/api/v1/resources", bearer), 200),
        Probe(
            "availability",
            get("availability", f"/api/v1/resources/{stack.lab}/availability?from=2026-11-10&to=2026-11-11", bearer),
            200,
        ),
        Probe("book", lambda: book(stack, f"{tag}-{next(numbers)}"), 201),
        Probe("feed", get("feed", f"/calendars/feeds/{stack.feed}.ics", {}), 200),
        Probe("healthz", get("healthz", "/healthz", {}), 200),
    ]  # fmt: skip


class Fire:
    """CLIENTS threads sending the probes round-robin, back to back, until stopped."""

    def __init__(self, mix: list[Probe]) -> None:
        self.mix, self.stopping = mix, threading.Event()
        self.answers: list[Answer] = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(CLIENTS)]

    def _run(self, offset: int) -> None:
        for n in itertools.count(offset):
            if self.stopping.is_set():
                return
            answer = self.mix[n % len(self.mix)].send()
            with self.lock:
                self.answers.append(answer)

    def __enter__(self) -> Fire:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in self.threads), "a client thread never got its answer"

    def since(self, moment: float) -> list[Answer]:
        with self.lock:
            return [a for a in self.answers if a.started >= moment]


def wait_until(condition: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def take_down(cluster: Cluster, how: str) -> None:
    if how == "kill":
        cluster.kill()
    else:
        cluster.stop(how)


# --- the tests ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["fast", "immediate", "kill"])
def test_an_outage_is_a_503_everywhere_and_the_same_gunicorn_recovers(stack: Stack, how: str):
    before = book(stack, f"before-{how}")
    assert before.status == 201, before.text
    mix = probes(stack, how)
    normal = {probe.kind: probe.normal for probe in mix}
    pages = {probe.kind: probe.page for probe in mix}

    with Fire(mix) as fire:
        assert wait_until(lambda: len(fire.answers) >= 2 * len(mix), 10)
        take_down(stack.cluster, how)  # while requests are in flight
        down = time.monotonic()
        time.sleep(FIRE_SECONDS)
        during = [a for a in fire.since(down) if a.started + a.seconds < down + FIRE_SECONDS]
        stack.cluster.start()
        up = time.monotonic()

        def all_normal_again() -> bool:
            after = fire.since(up)
            return all(any(a.kind == kind and a.status == normal[kind] for a in after) for kind in normal)

        recovered = wait_until(all_normal_again, 10)
        recovered_at = time.monotonic()
        time.sleep(0.5)  # and they stay normal
    answers = fire.answers

    # While the database is down: a 503 with Retry-After for every request, in the right form.
    assert len(during) > 20 and {a.kind for a in during} == set(normal)
    assert Counter(a.status for a in during) == {503: len(during)}, Counter((a.kind, a.status) for a in during)
    for answer in during:
        assert answer.headers.get("retry-after") == "5", answer
        if pages[answer.kind] is None:
            assert answer.headers["content-type"] == "application/problem+json", answer
            assert json.loads(answer.body)["status"] == 503
        else:
            assert answer.headers["content-type"].startswith("text/html"), answer
            assert FRIENDLY[pages[answer.kind]] in answer.text, answer.text[:3000]
    # From the stop to the recovery, nothing else than a success or a 503, and nothing slow.
    assert {a.status for a in answers} <= {200, 201, 503}, Counter((a.kind, a.status) for a in answers)
    worst = max(a.seconds for a in answers)
    assert worst < SLOW, sorted((a.seconds, a.kind, a.status) for a in answers)[-5:]
    # Back without a restart: every kind of request answered normally, and nothing failed afterwards.
    assert recovered, Counter((a.kind, a.status) for a in fire.since(up))
    late = [a for a in answers if a.started >= recovered_at and a.status != normal[a.kind]]
    assert late == []
    failures_after_up = Counter(a.kind for a in fire.since(up) if a.status != normal[a.kind])

    # Nothing lost, nothing doubled, nothing half-written: each booking answered 201 is there; each one
    # refused with a 503 either was not written or (its commit cut short) was, and asking again with its
    # Idempotency-Key gives it once; every booking has its one occurrence.
    booked = [a for a in answers if a.kind == "book"]
    created = {a.key for a in booked if a.status == 201}
    with ThreadPoolExecutor(WORKERS * THREADS) as pool:  # each asked again (a new slot, a free one)
        again = list(pool.map(lambda a: book(stack, a.key), [a for a in booked if a.status != 201]))
    assert [a.text for a in again if a.status != 201] == []
    rows = query(
        stack,
        "SELECT b.idempotency_key, count(o.id) FROM bookings b LEFT JOIN occurrences o ON o.booking_id = b.id "
        "GROUP BY b.id",
    )
    keys = Counter(key for key, _ in rows)
    assert before.key in keys
    assert created <= set(keys)
    assert {a.key for a in booked} <= set(keys)
    assert max(keys.values()) == 1, [k for k, n in keys.items() if n > 1]
    assert {n for _, n in rows} == {1}

    print(
        f"\n{how}: {len(answers)} requests ({len(during)} while down: {dict(Counter(a.status for a in during))}), "
        f"worst {worst:.3f} s; normal again {recovered_at - up:.2f} s after the start "
        f"(failures after it: {dict(failures_after_up)}); bookings {len(created)} answered 201"
    )
    log = stack.log.read_text(errors="replace")
    assert "Exception on " not in log and "Error handling request" not in log, log[-3000:]


def test_a_restart_between_requests_costs_at_most_the_requests_on_its_dead_connections(stack: Stack):
    """Connections that sat in the pools through a restart are dead, and the pool does not ping (config.py):
    the first request on each one answers a 503 with Retry-After (never a 500) and makes its pool replace
    every connection older than the loss, so at most one request per worker thread is refused, and the
    rest are served."""
    mix = probes(stack, "restart")
    normal = {probe.kind: probe.normal for probe in mix}
    pages = {probe.kind: probe.page for probe in mix}
    with Fire(mix) as fire:  # every worker thread has pooled connections
        assert wait_until(lambda: len(fire.answers) >= 3 * len(mix), 10)
    pooled = query(stack, "SELECT count(*) FROM pg_stat_activity WHERE datname = 'atu' AND pid <> pg_backend_pid()")
    assert pooled[0][0] >= 2
    stack.cluster.stop("fast")
    stack.cluster.start()
    with Fire(mix) as fire:
        assert wait_until(lambda: len(fire.answers) >= 4 * len(mix), 10)
    answers = sorted(fire.answers, key=lambda a: a.started)
    refused = [a for a in answers if a.status != normal[a.kind]]
    assert len(refused) <= WORKERS * THREADS, [(a.kind, a.status) for a in refused]
    for answer in refused:
        assert answer.status == 503 and answer.headers["retry-after"] == "5", answer
        assert (pages[answer.kind] is None) == (answer.headers["content-type"] == "application/problem+json")
    if refused:
        last = max(a.started + a.seconds for a in refused)
        assert len([a for a in answers if a.started > last]) >= len(mix)  # and then everything is served
    print(f"\nrestart between requests: {len(refused)} of {len(answers)} refused (503)")


def test_a_database_host_that_does_not_answer_is_a_503_within_the_connect_timeout(cluster: Cluster):
    """A server that accepts the connection and never answers (a host gone dark, a hung server) holds a
    request no longer than the connect timeout (app.database.engine_options), not for ever."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # the kernel completes the handshakes; nobody ever answers
        url = database_url(f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/atu")
        app = create_app(type("SilentConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
        try:
            started = time.monotonic()
            with ThreadPoolExecutor(2) as pool:  # side by side: each waits out its own timeout
                asked = pool.submit(app.test_client().get, "/healthz")
                page = pool.submit(app.test_client().get, "/resources", headers={"Accept-Language": "ro"}).result()
                health = asked.result()
            elapsed = time.monotonic() - started
        finally:
            with app.app_context():
                db.engine.dispose()
    assert (health.status_code, health.headers["Retry-After"], health.content_type) == (
        503,
        "5",
        "application/problem+json",
    )
    assert page.status_code == 503 and FRIENDLY["ro"] in page.get_data(as_text=True)
    assert elapsed < CONNECT_TIMEOUT_SECONDS + 2


def test_a_booking_committed_just_before_the_database_goes_away_is_answered_201(stack: Stack):
    """Nothing after the commit reads the database: the 201 is built before it, so a commit that went
    through is never answered with an error, even when the database is gone a moment later."""
    with stack.app.app_context():
        db.engine.dispose()  # no connection from before the other tests' restarts
    client = stack.app.test_client()
    response = client.post("/api/v1/auth/tokens", json={"email": "member@uvt.example.org", "password": PASSWORD})
    token = response.get_json()["token"]
    body = json.loads(booking_body(stack, "committed"))

    def stop_after_commit(session: Session) -> None:
        if any(isinstance(o, Booking) for o in session.identity_map.values()):
            stack.cluster.stop("immediate")

    event.listen(Session, "after_commit", stop_after_commit)
    try:
        response = client.post("/api/v1/bookings", json=body, headers={"Authorization": f"Bearer {token}"})
    finally:
        event.remove(Session, "after_commit", stop_after_commit)
    try:
        assert not stack.cluster.running()
        assert response.status_code == 201, response.get_data(as_text=True)
        assert response.get_json()["title"] == "committed"
    finally:
        stack.cluster.start()
    assert query(stack, f"SELECT title FROM bookings WHERE id = {int(response.get_json()['id'])}") == [("committed",)]


def test_a_commit_cut_short_is_a_503_and_asking_again_books_once(stack: Stack, caplog: pytest.LogCaptureFixture):
    """The database goes away between a booking's last statement and its COMMIT: the answer is the 503
    (problem+json, or the page in its language), never a 500; the outcome is unknown to the app, and the
    problem says to ask again with the same Idempotency-Key, which gives the booking exactly once."""
    caplog.set_level(logging.INFO, logger="app.access")
    with stack.app.app_context():
        db.engine.dispose()  # no connection from before the other tests' restarts
    client = stack.app.test_client()
    token = client.post("/api/v1/auth/tokens", json={"email": "member@uvt.example.org", "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {token.get_json()['token']}", "Idempotency-Key": "cut-short"}
    body = json.loads(booking_body(stack, "cut short"))
    start, end = (datetime.fromisoformat(body[k]) for k in ("start", "end"))
    form = {"title": "pagina taiata", "date": start.date().isoformat(), "start_time": f"{start:%H:%M}",
            "end_time": f"{end:%H:%M}", "units": "1"}  # fmt: skip
    assert client.post("/login", data={"email": "member@uvt.example.org", "password": PASSWORD}).status_code == 302

    def stop_before_commit(session: Session) -> None:
        if any(isinstance(o, Booking) for o in session.identity_map.values()):
            stack.cluster.stop("immediate")

    event.listen(Session, "before_commit", stop_before_commit)
    try:
        answer = client.post("/api/v1/bookings", json=body, headers=bearer)
        stack.cluster.start()
        page = client.post(f"/resources/{stack.lab}/book", data=form, headers={"Accept-Language": "ro"})
    finally:
        event.remove(Session, "before_commit", stop_before_commit)
        if not stack.cluster.running():
            stack.cluster.start()

    assert (answer.status_code, answer.headers["Retry-After"], answer.content_type) == (
        503,
        "5",
        "application/problem+json",
    )
    assert "may or may not have been kept" in answer.get_json()["detail"]
    assert (page.status_code, page.headers["Retry-After"], page.mimetype) == (503, "5", "text/html")
    assert FRIENDLY["ro"] in page.get_data(as_text=True)
    assert page.headers["Content-Security-Policy"] and "Location" not in page.headers

    again = client.post("/api/v1/bookings", json=body, headers=bearer)
    assert again.status_code == 201, again.get_json()
    assert query(stack, "SELECT count(*) FROM bookings WHERE idempotency_key = 'cut-short'") == [(1,)]
    assert query(stack, "SELECT count(*) FROM bookings WHERE title = 'pagina taiata'") == [(0,)]
    mine = client.get("/bookings", headers={"Accept-Language": "ro"})
    assert mine.status_code == 200 and "pagina taiata" not in mine.get_data(as_text=True)  # nor its flash
    logged = [(r.getMessage().split()[1], r.status) for r in caplog.records if r.name == "app.access"]
    assert [line for line in logged if line[0].startswith(("/api/v1/bookings", "/resources/"))] == [
        ("/api/v1/bookings", 503),
        (f"/resources/{stack.lab}/book", 503),
        ("/api/v1/bookings", 201),
    ]  # the access lines say what was answered


def test_the_scheduler_loop_survives_a_restart_and_an_outage(stack: Stack, caplog: pytest.LogCaptureFixture):
    """The scheduler's loop (app.scheduler.run_guarded, what `flask scheduler run` calls on each interval)
    through the real jobs and claims: after a restart it runs every job at once on new connections; while
    the database is down each run fails fast, is logged and goes no further; when it is back they run."""
    app, holder = stack.app, "outage-test"
    names = list(scheduler.jobs())
    query(stack, "DELETE FROM outbox")  # the mail the other tests queued: sending it is not this test's subject
    first, second = TestingConfig.CLOCK_NOW, TestingConfig.CLOCK_NOW + timedelta(days=1)  # slots nobody claimed
    caplog.set_level(logging.INFO, logger="app.scheduler")
    with app.app_context():
        db.engine.dispose()  # none left from the other tests' restarts
        db.session.execute(text("SELECT 1"))  # a connection in the pool, as after the loop's last run
        db.session.remove()

    stack.cluster.stop("fast")  # a restart between two runs: that connection is dead
    stack.cluster.start()
    summaries = {name: scheduler.run_guarded(app, name, now=first, holder=holder) for name in names}
    assert all(summary is not None for summary in summaries.values()), summaries
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.args for r in caplog.records if "connection was lost" in r.getMessage()] == [(names[0],)]

    stack.cluster.stop("fast")  # an outage
    try:
        caplog.clear()
        started = time.monotonic()
        assert [scheduler.run_guarded(app, name, now=second, holder=holder) for name in names] == [None] * len(names)
        assert time.monotonic() - started < SLOW
        failed = [r.args[0] for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
        assert failed == names
    finally:
        stack.cluster.start()
    summaries = {name: scheduler.run_guarded(app, name, now=second, holder=holder) for name in names}
    assert all(summary is not None for summary in summaries.values()), summaries
    finished = query(stack, "SELECT job FROM job_runs WHERE finished_at IS NOT NULL GROUP BY job HAVING count(*) = 2")
    assert sorted(job for (job,) in finished) == sorted(names)
    with app.app_context():
        db.engine.dispose()


def query(stack: Stack, sql: str) -> list[tuple]:
    """Rows of `sql` on the cluster's database, on a connection of its own (committed at once)."""
    with psycopg.connect(stack.cluster.url("atu"), autocommit=True) as connection:
        cursor = connection.execute(sql)
        return cursor.fetchall() if cursor.description else []
