"""Hostile feeds, served for real on loopback: a server that drips, a recurrence bomb, a name that
resolves to a public address and then to loopback, IPv6 forms of private addresses, and times in a
spring-forward gap. Each refusal is quick and keeps the last good busy time."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from calendars.expansion import ImportFailed, busy_spans, read_isolated
from calendars.imports import is_public_address
from calendars.models import FeedImport
from tests.calendars import test_imports
from tests.calendars.test_imports import NOW, ONE, FeedServer, ics, imported, make_import, refresh

BUDGET = 1.0


@pytest.fixture
def app_config():
    return {"IMPORT_ALLOW_PRIVATE_HOSTS": True, "IMPORT_TIMEOUT_SECONDS": BUDGET}


@pytest.fixture
def feeds():
    server = FeedServer()
    yield server
    server.close()


@pytest.fixture
def lab(make_resource):
    return make_resource(visibility="public", timezone="Europe/Bucharest")


class DripServer:
    """Answers every connection by sending `head` and then one byte of `drip` every `gap` seconds:
    each read is quick, the whole answer is not. Bounded: it stops after the drip bytes."""

    def __init__(self, head: bytes, drip: bytes, gap: float) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.head, self.drip, self.gap = head, drip, gap
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/drip.ics"

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            with conn:
                try:
                    conn.recv(4096)
                    conn.sendall(self.head)
                    for byte in self.drip:
                        if self.stop.wait(self.gap):
                            break
                        conn.sendall(bytes([byte]))
                except OSError:
                    pass

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.listener.close()


@pytest.mark.parametrize("where", ["body", "headers"])
def test_a_dripping_server_is_cut_off_at_the_total_budget(feeds, lab, where):
    feed = make_import(lab, feeds.serve("/cal.ics", ONE))
    assert refresh(feed)
    good = imported(lab.id)
    if where == "body":  # headers at once, then the body a byte every 0.4 s (each read is within the budget)
        server = DripServer(b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\n", b"BEGIN:VCAL", 0.4)
    else:
        server = DripServer(b"HTTP/1.0 200 OK\r\n", b"X-Slow: aaaaaaaa\r\n\r\n", 0.4)
    try:
        feed.url = server.url
        started = time.monotonic()
        assert not refresh(feed)
        elapsed = time.monotonic() - started
    finally:
        server.close()
    assert elapsed < BUDGET + 0.8
    assert "took longer than 1 s" in feed.last_error
    assert imported(lab.id) == good


@pytest.mark.parametrize("freq", ["MINUTELY", "SECONDLY", "MINUTELY;INTERVAL=30"])
def test_a_recurrence_bomb_is_refused_quickly(app, feeds, lab, freq, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_TIMEOUT_SECONDS", 30)  # the cap must stop it, not the budget
    feed = make_import(lab, feeds.serve("/cal.ics", ONE))
    assert refresh(feed)
    good = imported(lab.id)
    bomb = ics(f"UID:b\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261101T000000Z\r\nDURATION:PT1S\r\nRRULE:FREQ={freq}")
    assert len(bomb) < 300
    feeds.serve("/cal.ics", bomb)
    started = time.monotonic()
    assert not refresh(feed)
    assert time.monotonic() - started < 3
    assert "would expand past 10,000 occurrences" in feed.last_error
    assert imported(lab.id) == good and feed.event_count == 1


def test_rules_stepping_from_long_ago_are_bounded(feeds, lab):
    old = ics("UID:o\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20000101T000000Z\r\nDURATION:PT1S\r\nRRULE:FREQ=MINUTELY")
    feed = make_import(lab, feeds.serve("/old.ics", old))
    started = time.monotonic()
    assert not refresh(feed)
    assert time.monotonic() - started < 3
    # 100,000 steps or the 1 s budget, whichever comes first on a busy machine.
    assert "would expand past 100,000 occurrences" in feed.last_error or "took longer than 1 s" in feed.last_error


def test_a_rule_that_never_occurs_is_not_searched_for(feeds, lab):
    never = ics(
        "UID:n\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261101T000000Z\r\nDURATION:PT1S\r\n"
        "RRULE:FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30",
        "UID:a\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261110T080000Z\r\nDTEND:20261110T100000Z",
    )
    feed = make_import(lab, feeds.serve("/never.ics", never))
    started = time.monotonic()
    assert refresh(feed)
    assert time.monotonic() - started < 3 and feed.event_count == 1


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;INTERVAL=7;BYDAY=MO",  # from a Tuesday: every 7th day is a Tuesday
        "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=1;BYDAY=MO;BYSETPOS=2",  # a set of at most one has no second
        "FREQ=YEARLY;BYWEEKNO=53;BYMONTH=1;BYDAY=TH",  # week 53's Thursday is never in January
    ],
)
def test_rules_that_make_dateutil_search_to_9999_are_stopped_by_the_budget(app, feeds, lab, rule):
    """dateutil never hands control back while it looks for such a rule's next occurrence (about half a
    second each): 200 of them took minutes in the web worker. The reader is a child process, killed
    when the budget runs out; the import keeps its last good busy time."""
    feed = make_import(lab, feeds.serve("/cal.ics", ONE))
    assert refresh(feed)
    good = imported(lab.id)
    never = "UID:n{}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261103T080000Z\r\nDURATION:PT1H\r\nRRULE:" + rule
    feeds.serve("/cal.ics", ics(*(never.format(i) for i in range(200))))
    started = time.monotonic()
    assert not refresh(feed)
    assert time.monotonic() - started < BUDGET + 1.5
    assert "took longer than 1 s to read" in feed.last_error
    assert imported(lab.id) == good and feed.event_count == 1


def test_a_feed_needing_more_memory_than_allowed_is_refused(app, feeds, lab, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_TIMEOUT_SECONDS", 30)
    feed = make_import(lab, feeds.serve("/cal.ics", ONE))
    assert refresh(feed)
    good = imported(lab.id)
    # 4 MB of description, read by icalendar into several copies: more than the 60 MB the reader may map.
    big = "UID:big\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261110T080000Z\r\nDTEND:20261110T090000Z\r\n"
    feeds.serve("/cal.ics", ics(big + "DESCRIPTION:" + "x" * 4_000_000))
    monkeypatch.setitem(app.config, "IMPORT_MEMORY_MB", 60)
    assert not refresh(feed)
    assert "needs more than 60 MB" in feed.last_error or "ran out of memory" in feed.last_error
    assert imported(lab.id) == good
    monkeypatch.setitem(app.config, "IMPORT_MEMORY_MB", 512)
    assert refresh(feed) and feed.event_count == 1


def test_ordinary_recurrences_still_expand(feeds, lab):
    daily = ics(
        "UID:d\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20200101T080000Z\r\nDTEND:20200101T090000Z\r\nRRULE:FREQ=DAILY"
    )
    feed = make_import(lab, feeds.serve("/daily.ics", daily))
    assert refresh(feed) and 360 <= feed.event_count <= 370


class TestPinnedConnection:
    @pytest.fixture
    def app_config(self):
        return {"IMPORT_ALLOW_PRIVATE_HOSTS": False, "IMPORT_TIMEOUT_SECONDS": BUDGET}

    def test_the_checked_address_is_the_one_connected_to(self, feeds, lab, monkeypatch):
        """The first lookup says public, every later one says loopback (a DNS rebind)."""
        port = feeds.server.server_port
        public = "93.184.216.34"
        real_getaddrinfo = socket.getaddrinfo
        lookups: list[str] = []

        def rebinding(host, *args, **kwargs):
            if host != "rebind.example":
                return real_getaddrinfo(host, *args, **kwargs)
            lookups.append(host)
            address = public if len(lookups) == 1 else "127.0.0.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

        connected: list[tuple] = []

        class RecordingSocket(socket.socket):
            def connect(self, address):
                connected.append(address)
                if address[0] == public:  # never leave the machine: the public address refuses
                    raise ConnectionRefusedError("refused (test)")
                return super().connect(address)

        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        monkeypatch.setattr(socket, "socket", RecordingSocket)
        feeds.serve("/cal.ics", ONE)
        feed = make_import(lab, f"http://rebind.example:{port}/cal.ics")
        assert not refresh(feed)
        assert connected == [(public, port)]
        assert "cannot fetch" in feed.last_error and imported(lab.id) == []

    @pytest.mark.parametrize(
        "address",
        [
            "::ffff:127.0.0.1",  # IPv4-mapped
            "::7f00:1",  # IPv4-compatible loopback
            "::a00:1",  # IPv4-compatible 10.0.0.1
            "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
            "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
            "64:ff9b:1::1",  # local-use NAT64
            "2002:7f00:1::1",  # 6to4 of 127.0.0.1
            "::",
            "fe80::1%1",
            "fc00::1",
            "ff02::1",
        ],
    )
    def test_ipv6_forms_of_private_addresses_are_refused(self, lab, monkeypatch, address):
        def resolve(host, port, *args, **kwargs):
            return [(socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0))]

        monkeypatch.setattr(socket, "getaddrinfo", resolve)
        feed = make_import(lab, "http://sneaky.example/cal.ics")
        assert not refresh(feed)
        assert "not allowed" in feed.last_error
        assert not is_public_address(address)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("64:ff9b::5db8:d822", True),  # NAT64 of 93.184.216.34
        ("::ffff:93.184.216.34", True),
        ("127.0.0.1", False),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
    ],
)
def test_public_address_judgement(address, public):
    assert is_public_address(address) is public


def resolve_to_loopback(monkeypatch, name: str, port: int) -> None:
    """`name` resolves to this machine's loopback (where the test's feed server listens)."""
    real_getaddrinfo = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if host == name:
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", port))]
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def test_the_host_header_names_the_host_not_the_address(feeds, lab, monkeypatch):
    port = feeds.server.server_port
    resolve_to_loopback(monkeypatch, "feeds.example", port)
    feeds.serve("/cal.ics", ONE)
    feed = make_import(lab, f"http://feeds.example:{port}/cal.ics")
    assert refresh(feed) and feed.event_count == 1
    assert feeds.hosts[-1] == f"feeds.example:{port}"


GAP = ics(
    # Bucharest skips 03:00-04:00 on 28 March 2027: 03:30 is read with the offset before the gap (+02:00).
    "UID:f\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20270328T033000\r\nDTEND:20270328T050000",
    "UID:z\r\nDTSTAMP:20261101T000000Z\r\nDTSTART;TZID=Europe/Bucharest:20270328T033000\r\n"
    "DTEND;TZID=Europe/Bucharest:20270328T053000",
    "UID:r\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20270321T033000\r\nDTEND:20270321T050000\r\n"
    "RRULE:FREQ=WEEKLY;COUNT=2",
)


def test_times_in_a_spring_forward_gap_are_moved_forward(feeds, lab):
    feed = make_import(lab, feeds.serve("/gap.ics", GAP))
    assert refresh(feed)
    spans = imported(lab.id)
    gap_start = datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # 04:30 EEST
    assert (gap_start, datetime(2027, 3, 28, 2, 0, tzinfo=UTC)) in spans  # floating, ends 05:00 EEST
    assert (gap_start, datetime(2027, 3, 28, 2, 30, tzinfo=UTC)) in spans  # zoned, ends 05:30 EEST
    assert (datetime(2027, 3, 21, 1, 30, tzinfo=UTC), datetime(2027, 3, 21, 3, 0, tzinfo=UTC)) in spans
    assert spans.count((gap_start, datetime(2027, 3, 28, 2, 0, tzinfo=UTC))) == 2  # the recurrence's second one
    assert feed.event_count == 4


def test_a_feed_import_row_is_untouched_by_a_failed_parse(feeds, lab):
    feed = make_import(lab, feeds.serve("/cal.ics", b"BEGIN:VCALENDAR\r\nnonsense"))
    assert not refresh(feed)
    assert db.session.get(FeedImport, feed.id).last_status == "error"
    assert NOW.year == 2026


def _self_signed(tmp_path, name: str) -> tuple[str, str]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = str(tmp_path / f"{name}.pem"), str(tmp_path / f"{name}.key")
    request = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}"]
    request += ["-addext", f"subjectAltName=DNS:{name}", "-keyout", key, "-out", cert]
    subprocess.run(
        request,
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


@pytest.mark.parametrize(("certified", "works"), [("feeds.example", True), ("other.example", False)])
def test_https_to_the_checked_address_sends_the_name_and_checks_the_certificate(
    feeds, lab, monkeypatch, tmp_path, certified, works
):
    cert, key = _self_signed(tmp_path, certified)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    names: list[str | None] = []
    server_context.sni_callback = lambda sock, name, context: names.append(name)
    feeds.server.socket = server_context.wrap_socket(feeds.server.socket, server_side=True)
    real_context = ssl.create_default_context

    def trusting(*args, **kwargs):
        context = real_context(*args, **kwargs)
        context.load_verify_locations(cert)
        return context

    monkeypatch.setattr(ssl, "create_default_context", trusting)
    port = feeds.server.server_port
    resolve_to_loopback(monkeypatch, "feeds.example", port)
    feeds.serve("/cal.ics", ONE)
    feed = make_import(lab, f"https://feeds.example:{port}/cal.ics")
    assert refresh(feed) is works
    assert names == ["feeds.example"]
    if works:
        assert feed.event_count == 1 and feeds.hosts[-1] == f"feeds.example:{port}"
    else:
        assert "certificate" in feed.last_error.lower() or "hostname" in feed.last_error.lower()


BOMB = ics("UID:b\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261101T000000Z\r\nDURATION:PT1S\r\nRRULE:FREQ=MINUTELY")


@pytest.mark.parametrize("name", ["ONE", "WEEKLY", "ALL_DAY_AND_SKIPPED", "GAP", "BOMB", "garbage"])
def test_the_isolated_reader_answers_as_the_reader_in_this_process(app, name):
    """read_isolated is busy_spans in a child process: the same spans, or the same refusal."""
    data = {"GAP": GAP, "BOMB": BOMB, "garbage": b"BEGIN:VCALENDAR\r\nnot ical"}.get(name) or getattr(
        test_imports, name
    )
    window = (NOW - timedelta(days=1), NOW + timedelta(days=366))

    def answer(read):
        try:
            return read()
        except ImportFailed as exc:
            return f"refused: {exc}"

    here = answer(lambda: busy_spans(data, "Europe/Bucharest", *window))
    there = answer(lambda: read_isolated(data, "Europe/Bucharest", *window, seconds=20, memory_mb=512))
    assert here == there
    assert (name in ("BOMB", "garbage")) == isinstance(here, str)
