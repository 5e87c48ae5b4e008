"""Observability (app/observability.py, monitoring/): every answer carries a request id that is in every log record
of the request; JSON log lines; /metrics only for the token's bearer or this host; bookings made and refused
counted from the signals (a rolled-back booking not at all); the outbox, job and import gauges read from the
database; request latency by endpoint, never by raw path; and gunicorn's worker processes adding up in
multiprocess mode."""

from __future__ import annotations

import io
import json
import logging
import re
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app import clock
from app.extensions import db
from app.observability import log_handler
from calendars.models import FeedImport
from monitoring import collectors
from notifications.models import JobRun, OutboxMessage
from tests.servers import gunicorn

D = "2026-11-10"  # a Tuesday, after the tests' CLOCK_NOW
REMOTE = {"REMOTE_ADDR": "203.0.113.9"}
LATENCY = "atu_http_request_duration_seconds"

Samples = dict[tuple[str, frozenset], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    return parse(response.get_data(as_text=True))


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def with_label(samples: Samples, name: str, label: str, wanted: str) -> list[tuple[dict[str, str], float]]:
    return [(dict(labels), v) for (n, labels), v in samples.items() if n == name and dict(labels).get(label) == wanted]


# --- request id ----------------------------------------------------------------------------------------------


def test_every_answer_carries_a_fresh_request_id(client):
    first, second = client.get("/healthz"), client.get("/no-such-page")
    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["X-Request-ID"])
    assert re.fullmatch(r"[0-9a-f]{32}", second.headers["X-Request-ID"])  # error answers too
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("4f1c9a7e-trace.42_x", True),
        ("x" * 64, True),
        ("x" * 65, False),
        ("two words", False),
        ("<script>", False),
        ("ünïcode", False),
        ("a\tb", False),
    ],
)
def test_an_incoming_request_id_is_kept_only_when_sane(client, incoming, kept):
    answered = client.get("/healthz", headers={"X-Request-ID": incoming}).headers["X-Request-ID"]
    if kept:
        assert answered == incoming
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", answered)


# --- logs ----------------------------------------------------------------------------------------------------


@contextmanager
def captured_logs(caplog, log_format: str) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = log_handler(stream, log_format)
    caplog.set_level(logging.INFO)
    logging.getLogger().addHandler(handler)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)


@pytest.mark.own_app
def test_json_log_lines_carry_the_request_id(app, client, caplog):
    probe = logging.getLogger("tests.probe")

    def noisy():
        probe.warning("about to divide")
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            probe.exception("division failed")
        return "done"

    app.add_url_rule("/noisy", "noisy", noisy)
    with captured_logs(caplog, "json") as stream:
        client.get("/noisy", headers={"X-Request-ID": "trace-42"})
        client.get("/healthz")

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]  # every line is one JSON object
    ours = [line for line in lines if line["request_id"] == "trace-42"]
    assert [line["logger"] for line in ours] == ["tests.probe", "tests.probe", "app.access"]
    warning, failure, access = ours
    assert warning["level"] == "WARNING" and warning["message"] == "about to divide"
    assert (warning["method"], warning["path"]) == ("GET", "/noisy")
    assert failure["level"] == "ERROR" and "ZeroDivisionError" in failure["exception"]
    assert access["level"] == "INFO" and access["message"] == "GET /noisy 200"
    assert (access["method"], access["path"], access["status"], access["endpoint"]) == ("GET", "/noisy", 200, "noisy")
    assert 0 <= access["duration_ms"] < 10_000
    assert datetime.fromisoformat(access["time"]).utcoffset() == timedelta(0)
    assert access["time"].endswith("Z")
    # The other request has an id of its own and one access line.
    other = [line for line in lines if line["request_id"] != "trace-42"]
    assert [line["path"] for line in other if line["logger"] == "app.access"] == ["/healthz"]


def test_a_feed_token_is_never_logged(client, caplog):
    with captured_logs(caplog, "json") as stream:
        client.get("/calendars/feeds/secret-feed-token-123.ics")
    access = [json.loads(line) for line in stream.getvalue().splitlines()][-1]
    assert access["path"] == "/calendars/feeds/[secret].ics"
    assert "secret-feed-token-123" not in stream.getvalue()


def test_text_log_lines_carry_the_request_id_and_cannot_be_forged(client, caplog):
    with captured_logs(caplog, "text") as stream:
        client.get("/healthz", headers={"X-Request-ID": "trace-7"})
        client.get("/x%0A2026-01-01 INFO app.access [forged] GET /y 200")
    lines = stream.getvalue().splitlines()
    assert re.fullmatch(r".* INFO app\.access \[trace-7\] GET /healthz 200", lines[0])
    assert len(lines) == 2 and "/x%0A2026-01-01%20INFO" in lines[1]


# --- who may scrape ------------------------------------------------------------------------------------------


def test_metrics_answer_the_token_or_this_host_and_hide_from_everyone_else(app, client):
    app.config["METRICS_TOKEN"] = "scrape-token-0123456789"
    unknown = client.get("/no-such-page", environ_base=REMOTE)
    hidden = client.get("/metrics", environ_base=REMOTE)
    assert (hidden.status_code, hidden.content_type) == (404, unknown.content_type)  # as if there were nothing
    wrong = client.get("/metrics", environ_base=REMOTE, headers={"Authorization": "Bearer scrape-token-0123456788"})
    assert wrong.status_code == 404
    bearer = client.get("/metrics", environ_base=REMOTE, headers={"Authorization": "Bearer scrape-token-0123456789"})
    assert bearer.status_code == 200 and bearer.content_type.startswith("text/plain")
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": address}).status_code == 200, address


def test_without_a_token_only_this_host_may_scrape(app, client):
    app.config["METRICS_TOKEN"] = None
    assert client.get("/metrics", environ_base=REMOTE, headers={"Authorization": "Bearer "}).status_code == 404
    assert client.get("/metrics", environ_base=REMOTE, headers={"Authorization": "Bearer None"}).status_code == 404
    assert client.get("/metrics").status_code == 200


class TestBehindNginx:
    """nginx on this host connects from loopback; the address checked is the client's it forwarded."""

    @pytest.fixture
    def app_config(self):
        return {"TRUSTED_PROXIES": 1}

    def test_a_remote_client_through_the_proxy_is_not_this_host(self, client):
        assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404
        assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200


# --- what is counted -----------------------------------------------------------------------------------------


def test_bookings_made_and_refused_are_counted_by_reason(client, api, make_resource, make_block):
    lab = make_resource()
    make_block(lab, datetime(2026, 11, 10, 14), datetime(2026, 11, 10, 16), reason="Mentenanță")
    before = scrape(client)
    api.book(lab, f"{D}T10:00", f"{D}T11:00")
    api.book(lab, f"{D}T10:30", f"{D}T11:30", expect=409)
    api.book(lab, f"{D}T15:00", f"{D}T16:00", expect=409)
    api.book(lab, f"{D}T12:00", f"{D}T13:00")
    after = scrape(client)

    def change(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert change("atu_bookings_created_total", status="confirmed") == 2
    assert change("atu_bookings_created_total", status="pending") == 0
    assert change("atu_bookings_refused_total", reason="overlap") == 1
    assert change("atu_bookings_refused_total", reason="blocked") == 1


def test_a_booking_rolled_back_is_not_counted(client, api, make_resource):
    room = make_resource("UVT", "room")
    event = {"title": "Simpozion", "items": [{"resource_id": room.id, "start": f"{D}T09:00", "end": f"{D}T12:00"}]}
    before = scrape(client)
    preview = api.post("/api/v1/events", {**event, "dry_run": True})  # books inside a savepoint, then undoes it
    assert preview.status_code == 200, preview.get_json()
    middle = scrape(client)
    assert api.post("/api/v1/events", event).status_code == 201
    after = scrape(client)
    created = "atu_bookings_created_total"
    assert value(middle, created, status="confirmed") == value(before, created, status="confirmed")
    assert value(after, created, status="confirmed") == value(before, created, status="confirmed") + 1


def _mail(**fields) -> OutboxMessage:
    return OutboxMessage(kind="confirmed", to_email="someone@example.org", **fields)


def test_outbox_backlog_and_oldest_age(client, api, make_resource):
    api.book(make_resource(), f"{D}T10:00", f"{D}T11:00")  # queues the booking's mails
    now = clock.now()
    db.session.add_all(
        [
            _mail(created_at=now - timedelta(hours=1)),
            _mail(created_at=now - timedelta(days=2), sent_at=now - timedelta(days=1)),  # sent: not waiting
            _mail(created_at=now - timedelta(days=3), set_aside_at=now, last_error="550 no such user"),  # parked
        ]
    )
    db.session.commit()
    queued = db.session.scalar(
        select(func.count()).where(OutboxMessage.sent_at.is_(None), OutboxMessage.set_aside_at.is_(None))
    )
    assert queued >= 2

    samples = scrape(client)
    assert value(samples, "atu_outbox_backlog") == queued
    assert 3600 <= value(samples, "atu_outbox_oldest_age_seconds") < 3600 + 120
    assert value(samples, "atu_outbox_parked") == 1


def test_an_empty_outbox_has_waited_nothing(client):
    samples = scrape(client)
    assert value(samples, "atu_outbox_backlog") == 0 and value(samples, "atu_outbox_oldest_age_seconds") == 0
    assert value(samples, "atu_database_up") == 1


def test_a_database_that_cannot_answer_still_leaves_the_process_metrics(client, monkeypatch):
    def unreachable(now):
        raise OperationalError("SELECT", {}, Exception("the server closed the connection"))

    monkeypatch.setattr(collectors, "outbox_metrics", unreachable)
    client.get("/healthz")
    samples = scrape(client)
    assert value(samples, "atu_database_up") == 0
    assert value(samples, f"{LATENCY}_count", endpoint="healthz", method="GET", status="2xx") >= 1
    assert not [key for key in samples if key[0].startswith("atu_outbox")]


def test_job_runs_by_outcome_and_last_finish(client):
    now = clock.now().replace(second=0, microsecond=0)

    def run(job: str, minutes_ago: int, finished: bool = True, summary: str = "sent 1") -> JobRun:
        at = now - timedelta(minutes=minutes_ago)
        done = at + timedelta(seconds=5) if finished else None
        return JobRun(job=job, slot=at, holder="host:1", started_at=at, finished_at=done, summary=summary)

    db.session.add_all(
        [
            run("send-mail", 5),
            run("send-mail", 4, summary="sent 2, 1 failed"),  # an item failed
            run("send-mail", 3, finished=False),  # raised or died: a later run was claimed
            run("send-mail", 2),
            run("send-mail", 1, finished=False),  # the latest: still running
            run("purge", 60 * 30),  # 30 hours ago: outside the window, still the last finish
        ]
    )
    db.session.commit()

    samples = scrape(client)
    outcomes = {"ok": 2, "partial": 1, "failed": 1, "running": 1}
    for outcome, count in outcomes.items():
        assert value(samples, "atu_job_runs", job="send-mail", outcome=outcome) == count, outcome
    assert not with_label(samples, "atu_job_runs", "job", "purge")
    last = "atu_job_last_finished_timestamp_seconds"
    assert value(samples, last, job="send-mail") == (now - timedelta(minutes=2, seconds=-5)).timestamp()
    assert value(samples, last, job="purge") == (now - timedelta(minutes=60 * 30, seconds=-5)).timestamp()


def test_calendar_imports_by_state(client, make_resource):
    lab = make_resource()
    states = ["error", "error", "ok", "pending"]
    db.session.add_all(
        [FeedImport(resource_id=lab.id, url="https://example.org/a.ics", last_status=state) for state in states]
    )
    db.session.commit()
    samples = scrape(client)
    expected = {"error": 2, "ok": 1, "pending": 1, "new": 0}
    assert {status: value(samples, "atu_calendar_imports", status=status) for status in expected} == expected


def test_latency_is_labelled_by_endpoint_not_by_path(app, client, api, make_resource):
    booking = api.book(make_resource(), f"{D}T10:00", f"{D}T11:00")
    path = f"/api/v1/bookings/{booking['id']}"
    endpoint = app.url_map.bind("localhost").match(path)[0]
    before = scrape(client)
    assert api.get(path).status_code == 200
    assert client.open("/no-such-page", method="BREW").status_code in (404, 405)
    after = scrape(client)

    count = f"{LATENCY}_count"
    labels = {"endpoint": endpoint, "method": "GET", "status": "2xx"}
    assert value(after, count, **labels) == value(before, count, **labels) + 1
    assert value(after, f"{LATENCY}_bucket", **labels, le="+Inf") == value(after, count, **labels)
    assert value(after, count, endpoint="none", method="other", status="4xx") >= 1  # no route, no method: bounded
    endpoints = {dict(labels_)["endpoint"] for (name, labels_) in after if name.startswith(LATENCY)}
    assert not any(v.startswith("/") or "/bookings/" in v for v in endpoints), endpoints


# --- several gunicorn workers --------------------------------------------------------------------------------


@contextmanager
def multiprocess_gunicorn(database: str, metrics_dir: Path, workers: int = 2) -> Iterator[str]:
    """gunicorn with sync workers on the test database, in multiprocess mode (gunicorn.conf.py is read from the
    checkout, as in production)."""
    with gunicorn(
        database,
        metrics_dir.parent / "gunicorn.log",
        workers=workers,
        threads=None,
        env={"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
    ) as base:
        yield base


def _counts_per_worker(metrics_dir: Path, endpoint: str) -> dict[str, float]:
    """Each worker's own count of requests to the endpoint, read from its file."""
    counts = {}
    for path in metrics_dir.glob("histogram_*.db"):
        merged = MultiProcessCollector.merge([str(path)])
        counts[path.stem.removeprefix("histogram_")] = sum(
            sample.value
            for metric in merged
            for sample in metric.samples
            if sample.name == f"{LATENCY}_count" and sample.labels.get("endpoint") == endpoint
        )
    return counts


def test_gunicorn_workers_add_up_in_multiprocess_mode(database, tmp_path):
    metrics_dir = tmp_path / "metrics"
    endpoint = "api.accounts_api.list_institutions"
    with multiprocess_gunicorn(database, metrics_dir) as base, ThreadPoolExecutor(max_workers=8) as pool:
        sent = 0
        # Eight at a time, so both single-threaded workers take some; until each has answered a few.
        while sent < 200:
            list(pool.map(lambda _: urllib.request.urlopen(f"{base}/api/v1/institutions").read(), range(8)))
            sent += 8
            per_worker = _counts_per_worker(metrics_dir, endpoint)
            if len(per_worker) == 2 and all(per_worker.values()):
                break
        assert len(per_worker) == 2 and all(per_worker.values()), per_worker
        assert sum(per_worker.values()) == sent

        # Any worker answers the scrape with the sum, and the database gauges once.
        for _ in range(4):
            samples = parse(urllib.request.urlopen(f"{base}/metrics").read().decode())
            count = [v for labels, v in with_label(samples, f"{LATENCY}_count", "endpoint", endpoint)]
            assert count == [sent], count
            assert value(samples, "atu_database_up") == 1
            assert len([key for key in samples if key[0] == "atu_outbox_backlog"]) == 1
