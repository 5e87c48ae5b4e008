"""External feeds imported as busy time, served for real on loopback: good, recurring, changed,
malformed, huge, slow, unreachable; the last good data survives every failure."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from app.extensions import db
from calendars.imports import refresh_import
from calendars.models import FeedImport
from resources.models import Block

NOW = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)


def ics(*events: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n".encode()


ONE = ics(
    "UID:a\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261110T080000Z\r\nDTEND:20261110T100000Z\r\nSUMMARY:Private title"
)
WEEKLY = ics(
    "UID:w\r\nDTSTAMP:20261101T000000Z\r\nDTSTART;TZID=Europe/Bucharest:20261110T100000\r\n"
    "DTEND;TZID=Europe/Bucharest:20261110T110000\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nEXDATE;TZID=Europe/Bucharest:20261117T100000"
)
ALL_DAY_AND_SKIPPED = ics(
    "UID:d\r\nDTSTAMP:20261101T000000Z\r\nDTSTART;VALUE=DATE:20261120\r\nDTEND;VALUE=DATE:20261121",
    "UID:t\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261121T080000Z\r\nDTEND:20261121T090000Z\r\nTRANSP:TRANSPARENT",
    "UID:c\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261122T080000Z\r\nDTEND:20261122T090000Z\r\nSTATUS:CANCELLED",
)


class FeedServer:
    """A real HTTP server on 127.0.0.1 whose answers the test sets per path."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes, float]] = {}
        self.hosts: list[str] = []
        routes, hosts = self.routes, self.hosts

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                hosts.append(self.headers.get("Host", ""))
                status, body, delay = routes.get(self.path, (404, b"not found", 0))
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/calendar")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # Polled every 50 ms, not 0.5 s, so shutdown() at teardown returns at once.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def serve(self, path: str, body: bytes, status: int = 200, delay: float = 0) -> str:
        self.routes[path] = (status, body, delay)
        return self.url(path)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def app_config():
    return {"IMPORT_ALLOW_PRIVATE_HOSTS": True, "IMPORT_TIMEOUT_SECONDS": 0.5}


@pytest.fixture
def feeds():
    server = FeedServer()
    yield server
    server.close()


@pytest.fixture
def lab(make_resource):
    return make_resource(visibility="public")


def imported(resource_id: int) -> list[tuple[datetime, datetime]]:
    db.session.expire_all()
    return [
        (b.start_at, b.end_at)
        for b in db.session.scalars(
            select(Block).where(Block.resource_id == resource_id, Block.source == "import").order_by(Block.start_at)
        )
    ]


def make_import(lab, url: str) -> FeedImport:
    feed = FeedImport(resource_id=lab.id, url=url)
    db.session.add(feed)
    db.session.commit()
    return feed


def refresh(feed: FeedImport) -> bool:
    ok = refresh_import(feed, now=NOW)
    db.session.commit()
    return ok


def test_good_feed_blocks_bookings(feeds, lab, api):
    feed = make_import(lab, feeds.serve("/one.ics", ONE))
    assert refresh(feed) and feed.last_status == "ok" and feed.event_count == 1
    assert imported(lab.id) == [(datetime(2026, 11, 10, 8, tzinfo=UTC), datetime(2026, 11, 10, 10, tzinfo=UTC))]
    refused = api.book(lab, "2026-11-10T11:00", "2026-11-10T11:30", expect=409)
    assert refused["conflicts"][0]["reason"] == "imported"
    assert "Private title" not in str(refused)  # the external calendar's titles stay out


def test_recurring_feed_with_exdate(feeds, lab):
    feed = make_import(lab, feeds.serve("/weekly.ics", WEEKLY))
    assert refresh(feed)
    starts = [s for s, _ in imported(lab.id)]
    assert [s.isoformat() for s in starts] == [
        "2026-11-10T08:00:00+00:00",
        "2026-11-24T08:00:00+00:00",
        "2026-12-01T08:00:00+00:00",
    ]


def test_all_day_transparent_and_cancelled(feeds, lab):
    feed = make_import(lab, feeds.serve("/mixed.ics", ALL_DAY_AND_SKIPPED))
    assert refresh(feed)
    # The all-day event covers the resource's local day (EET, +02:00); the other two are skipped.
    assert imported(lab.id) == [(datetime(2026, 11, 19, 22, tzinfo=UTC), datetime(2026, 11, 20, 22, tzinfo=UTC))]


def test_changed_feed_replaces_the_blocks(feeds, lab):
    url = feeds.serve("/cal.ics", ONE)
    feed = make_import(lab, url)
    refresh(feed)
    feeds.serve("/cal.ics", WEEKLY)
    refresh(feed)
    assert len(imported(lab.id)) == 3 and feed.event_count == 3


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("malformed", "not a valid iCalendar"),
        ("huge", "larger than"),
        ("slow", "took longer than 0.5 s"),
        ("missing", "answered 404"),
        ("unreachable", "cannot fetch"),
    ],
)
def test_failures_keep_the_last_good_data(feeds, lab, case, message):
    feed = make_import(lab, feeds.serve("/cal.ics", ONE))
    assert refresh(feed)
    good = imported(lab.id)
    if case == "malformed":
        feeds.serve("/cal.ics", b"BEGIN:VCALENDAR\r\nthis is not ical\r\nBEGIN:VEVENT\r\nDTSTART:garbage\r\n")
    elif case == "huge":
        feeds.serve("/cal.ics", ONE + b"X" * (6 * 1024 * 1024))
    elif case == "slow":
        feeds.serve("/cal.ics", ONE, delay=2)
    elif case == "missing":
        feeds.serve("/cal.ics", b"gone", status=404)
    else:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        feed.url = f"http://127.0.0.1:{port}/cal.ics"
    assert not refresh(feed)
    assert feed.last_status == "error" and message in feed.last_error
    assert imported(lab.id) == good
    assert feed.last_success_at is not None and feed.last_attempt_at >= feed.last_success_at


class TestPrivateHostsRefused:
    @pytest.fixture
    def app_config(self):
        return {"IMPORT_ALLOW_PRIVATE_HOSTS": False}

    @pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "10.0.0.8", "192.168.1.1", "169.254.169.254"])
    def test_loopback_and_private_addresses_are_refused(self, lab, host):
        feed = make_import(lab, f"http://{host}:9/cal.ics")
        assert not refresh(feed)
        assert "not allowed" in feed.last_error


def test_api_and_job(feeds, lab, api_for, make_user, runner, api):
    manager = api_for(make_user("UVT", "manager"))
    url = feeds.serve("/api.ics", ONE)
    created = manager.post(f"/api/v1/resources/{lab.id}/imports", {"url": url})
    assert created.status_code == 201 and created.get_json()["last_status"] == "pending"
    assert api.post(f"/api/v1/resources/{lab.id}/imports", {"url": url}).status_code == 403
    assert manager.post(f"/api/v1/resources/{lab.id}/imports", {"url": "ftp://x/y"}).status_code == 422
    result = runner.invoke(args=["jobs", "run", "import-pending"])
    assert result.exit_code == 0 and "1 imported, 0 failed" in result.output
    listing = manager.get(f"/api/v1/resources/{lab.id}/imports").get_json()["items"]
    assert listing[0]["last_status"] == "ok" and listing[0]["event_count"] == 1
    assert "0 imported, 0 failed" in runner.invoke(args=["jobs", "run", "import-pending"]).output
    # The refresh is queued, not done in the request; the hourly job refreshes every import.
    refreshed = manager.post(f"/api/v1/resources/{lab.id}/imports/{listing[0]['id']}/refresh")
    assert refreshed.status_code == 200 and refreshed.get_json()["last_status"] == "pending"
    assert "1 imported, 0 failed" in runner.invoke(args=["jobs", "run", "import-pending"]).output
    assert "1 imported, 0 failed" in runner.invoke(args=["jobs", "run", "import-feeds"]).output
    assert manager.delete(f"/api/v1/resources/{lab.id}/imports/{listing[0]['id']}").status_code == 204
    assert imported(lab.id) == []
    assert runner.invoke(args=["jobs", "run", "nope"]).exit_code != 0


def test_conditional_get_keeps_data_when_unchanged(feeds, lab):
    seen: list[dict] = []

    from calendars import imports

    def recording_fetch(url, timeout, etag="", last_modified=""):
        seen.append({"etag": etag, "last_modified": last_modified})
        return imports.fetch(url, timeout, etag, last_modified)

    feeds.serve("/cond.ics", ONE)
    feed = make_import(lab, feeds.url("/cond.ics"))
    assert refresh_import(feed, now=NOW, fetcher=recording_fetch)
    db.session.commit()
    assert seen[0] == {"etag": "", "last_modified": ""}
    feed.remote_etag = '"v1"'
    db.session.commit()
    feeds.serve("/cond.ics", b"", status=304)  # the server says: unchanged
    assert refresh_import(feed, now=NOW, fetcher=recording_fetch)
    db.session.commit()
    assert seen[1]["etag"] == '"v1"'
    assert feed.last_status == "ok" and len(imported(lab.id)) == 1  # the stored busy time stays


def test_import_form_for_managers(feeds, lab, client, auth, make_user, runner):
    from tests.conftest import ENGLISH

    auth.login(make_user("UVT", "manager").email)
    page = client.get(f"/resources/{lab.id}", headers=ENGLISH).text
    assert f'href="/manage/resources/{lab.id}/imports">Imported calendars</a>' in page
    manage = f"/manage/resources/{lab.id}/imports"
    response = client.post(f"/resources/{lab.id}/imports", data={"url": feeds.serve("/form.ics", WEEKLY)})
    assert response.headers["Location"] == manage
    page = client.get(manage, headers=ENGLISH).text
    assert "refresh queued" in page and "3 busy periods" not in page  # nothing fetched in the request
    assert "1 imported" in runner.invoke(args=["jobs", "run", "import-pending"]).output
    page = client.get(manage, headers=ENGLISH).text
    assert "3 busy periods" in page
    client.post(f"/resources/{lab.id}/imports", data={"url": feeds.serve("/bad.ics", b"nonsense")})
    runner.invoke(args=["jobs", "run", "import-pending"])
    page = client.get(manage, headers=ENGLISH).text
    assert "last refresh failed" in page and "not a valid iCalendar" in page
    feed_id = db.session.scalars(select(FeedImport.id).where(FeedImport.url.endswith("/bad.ics"))).one()
    response = client.post(f"/resources/{lab.id}/imports/{feed_id}/refresh")
    page = client.get(manage, headers=ENGLISH).text
    assert "refresh queued" in page and "not a valid iCalendar" in page  # the last error stays shown
    assert client.post(f"/resources/{lab.id}/imports", data={"url": "gopher://x"}).status_code == 302


def test_import_form_is_not_for_members(lab, client, auth, make_user):
    from tests.conftest import ENGLISH

    auth.login(make_user("UVT").email)
    assert "Imported calendars" not in client.get(f"/resources/{lab.id}", headers=ENGLISH).text
    assert client.post(f"/resources/{lab.id}/imports", data={"url": "https://example.org/x.ics"}).status_code == 403
