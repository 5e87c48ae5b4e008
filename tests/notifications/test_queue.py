"""The outbox as a queue, against a real SMTP server on loopback (aiosmtpd): each mail sent exactly once
by any number of concurrent senders, one connection per run, a mail that cannot be built or that the
server refuses for good parked with its error (never holding the others back), transient refusals
retried with backoff, parked mail listed for admins with a retry."""

from __future__ import annotations

import asyncio
import os
import smtplib
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.extensions import db
from bookings.models import Booking
from notifications import services
from notifications.models import OutboxMessage
from tests.notifications.conftest import Inbox

ROOT = Path(__file__).resolve().parents[2]
D = "2026-11-03"


class Picky(Inbox):
    """Answers 550 (for good) or 451 (try later) to the recipients named, takes the others."""

    def __init__(self, refuse: dict[str, str]) -> None:
        super().__init__()
        self.refuse = refuse
        self.connections = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def picky(smtp_port):
    handler = Picky({"gone@uvt.example.org": "550 5.1.1 no such user", "full@uvt.example.org": "451 4.2.2 try later"})
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield handler
    controller.stop()


def rendered(to: str, now, subject: str = "Salut") -> OutboxMessage:
    """A row with its text already rendered (the legacy form compose() sends as it is): quick to make."""
    return OutboxMessage(
        kind="confirmed",
        to_email=to,
        snapshot={"rendered": {"subject": subject, "body": "Corp", "ics": "", "ics_method": ""}},
        next_attempt_at=now,
    )


def test_550_for_one_recipient_parks_it_451_retries_and_the_others_go_over_one_connection(app, picky, runner):
    now = app.config["CLOCK_NOW"]
    rows = [rendered(f"{name}@uvt.example.org", now) for name in ("ana", "gone", "full", "ion", "eva")]
    db.session.add_all(rows)
    db.session.commit()

    output = runner.invoke(args=["jobs", "run", "send-mail"]).output
    assert "3 sent, 1 failed (will retry), 1 set aside" in output
    assert sorted(m["To"] for m in picky.messages) == [
        "ana@uvt.example.org",
        "eva@uvt.example.org",
        "ion@uvt.example.org",
    ]
    assert picky.connections == 1  # one SMTP connection for the whole run
    db.session.expire_all()
    ana, gone, full, *_ = rows
    assert ana.sent_at == now and ana.claimed_by is None
    assert gone.set_aside_at == now and gone.sent_at is None and "550" in gone.last_error and gone.claimed_by is None
    assert full.set_aside_at is None and full.sent_at is None and full.attempts == 1 and "451" in full.last_error
    assert full.next_attempt_at == now + timedelta(minutes=2)

    app.config["CLOCK_NOW"] = now + timedelta(minutes=3)
    picky.refuse.clear()  # the mailbox has room again; the parked one is not retried by itself
    assert "1 sent, 0 failed" in runner.invoke(args=["jobs", "run", "send-mail"]).output
    assert Counter(m["To"] for m in picky.messages)["full@uvt.example.org"] == 1
    assert "0 sent" in runner.invoke(args=["jobs", "run", "send-mail"]).output


def test_a_lf_in_a_title_no_longer_stops_the_reminders(app, inbox, runner, api_for, make_user, make_resource):
    """A legacy row (from before titles were checked) with a line feed in its title. Its mail used to raise
    on every run, so nothing queued after it was ever sent; now the header is made one line at the edge
    and both reminders go (a mail that still cannot be built is parked: the test below)."""
    user = make_user("UVT", email="ion@uvt.example.org")
    lab = make_resource("UVT")
    api = api_for(user)
    bad = api.book(lab, f"{D}T10:00", f"{D}T11:00", title="Rău")
    api.book(lab, f"{D}T12:00", f"{D}T13:00", title="Bun")
    db.session.get(Booking, bad["id"]).title = "Rău\nrând"
    db.session.commit()
    assert "2 sent" in runner.invoke(args=["jobs", "run", "send-mail"]).output
    inbox.messages.clear()

    app.config["CLOCK_NOW"] = app.config["CLOCK_NOW"].replace(hour=11)  # both start within 24 hours
    reminders = runner.invoke(args=["jobs", "run", "reminders"])
    assert reminders.exception is None and "2 reminder(s) queued" in reminders.output
    result = runner.invoke(args=["jobs", "run", "send-mail"])
    assert result.exception is None and "2 sent, 0 failed (will retry)" in result.output
    subjects = sorted(m["Subject"] for m in inbox.messages)
    assert subjects == ["Memento: Bun", "Memento: Rău rând"]
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.set_aside_at.is_not(None))) is None


def test_any_exception_building_one_mail_parks_it_only(app, inbox, runner, monkeypatch):
    now = app.config["CLOCK_NOW"]
    rows = [rendered(f"u{i}@uvt.example.org", now) for i in range(3)]
    db.session.add_all(rows)
    db.session.commit()
    real = services.build_email

    def build(message, sender):
        if message.id == rows[0].id:
            raise RuntimeError("boom")
        return real(message, sender)

    monkeypatch.setattr(services, "build_email", build)
    assert "2 sent, 0 failed (will retry), 1 set aside" in runner.invoke(args=["jobs", "run", "send-mail"]).output
    db.session.expire_all()
    assert rows[0].set_aside_at == now and "RuntimeError: boom" in rows[0].last_error


def test_connection_refused_retries_everything_with_backoff_and_opens_one_connection(
    app, smtp_port, runner, monkeypatch
):
    now = app.config["CLOCK_NOW"]
    rows = [rendered(f"u{i}@uvt.example.org", now) for i in range(3)]
    db.session.add_all(rows)
    db.session.commit()
    attempts = []
    real = smtplib.SMTP

    def counting(*args, **kwargs):
        attempts.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(services.smtplib, "SMTP", counting)
    assert "0 sent, 3 failed (will retry)" in runner.invoke(args=["jobs", "run", "send-mail"]).output
    assert len(attempts) == 1  # nobody listens: not one connection attempt per mail
    db.session.expire_all()
    assert all(
        r.attempts == 1 and r.next_attempt_at == now + timedelta(minutes=2) and r.claimed_by is None for r in rows
    )


def test_a_claim_keeps_other_senders_off_until_it_expires(app, inbox, runner):
    now = app.config["CLOCK_NOW"]
    held, crashed, free = (rendered(f"{n}@uvt.example.org", now) for n in ("held", "crashed", "free"))
    held.claimed_by, held.claimed_until = "another-run", now + timedelta(minutes=5)
    crashed.claimed_by, crashed.claimed_until = "a-crashed-run", now - timedelta(seconds=1)
    db.session.add_all([held, crashed, free])
    db.session.commit()
    assert "2 sent" in runner.invoke(args=["jobs", "run", "send-mail"]).output
    assert sorted(m["To"] for m in inbox.messages) == ["crashed@uvt.example.org", "free@uvt.example.org"]
    app.config["CLOCK_NOW"] = now + timedelta(minutes=6)  # the other run died holding it: retried later
    assert "1 sent" in runner.invoke(args=["jobs", "run", "send-mail"]).output
    assert Counter(m["To"] for m in inbox.messages) == Counter(
        {"held@uvt.example.org": 1, "crashed@uvt.example.org": 1, "free@uvt.example.org": 1}
    )


def test_two_claims_never_share_a_row(app):
    now = app.config["CLOCK_NOW"]
    db.session.add_all([rendered(f"u{i}@uvt.example.org", now) for i in range(5)])
    db.session.commit()
    first = services._claim(now=now, limit=3, token="a")
    second = services._claim(now=now, limit=10, token="b")
    assert len(first) == 3 and len(second) == 2 and not set(first) & set(second)
    assert services._claim(now=now, limit=10, token="c") == []


class Slow(Inbox):
    """Takes a little while per mail, so the senders' runs overlap."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.committed  # the senders are other processes, reading and claiming through their own connections
def test_concurrent_send_mail_processes_send_each_mail_exactly_once(app, database, smtp_port):
    now = app.config["CLOCK_NOW"]
    count = 60
    db.session.add_all([rendered(f"u{i}@uvt.example.org", now, subject=f"m{i}") for i in range(count)])
    db.session.commit()
    handler = Slow()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        env = {
            **os.environ,
            "DATABASE_URL": database,
            "ATU_CONFIG": "testing",
            "PYTHONPATH": str(ROOT),
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(smtp_port),
            "MAIL_BATCH": "4",
        }
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "run", "send-mail"]
        processes = [
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(4)
        ]
        outputs = [p.communicate(timeout=120) for p in processes]
    finally:
        controller.stop()
    assert all(p.returncode == 0 for p in processes), outputs
    received = Counter(m["Subject"] for m in handler.messages)
    assert received == Counter({f"m{i}": 1 for i in range(count)})  # every mail, each exactly once
    sent = [int(out.split(": ")[1].split(" sent")[0]) for out, _ in outputs]
    assert sum(sent) == count, outputs
    db.session.expire_all()
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert all(r.sent_at is not None and r.attempts == 1 and r.claimed_by is None for r in rows)


def park(now, to: str = "gone@uvt.example.org") -> OutboxMessage:
    message = rendered(to, now)
    message.set_aside_at, message.last_error = now, "refused: (550, b'5.1.1 no such user')"
    db.session.add(message)
    db.session.commit()
    return message


def test_admins_list_parked_mail_and_retry_it_through_the_api(app, inbox, runner, api_for, make_user, admin):
    now = app.config["CLOCK_NOW"]
    parked = park(now)
    db.session.add(rendered("queued@uvt.example.org", now))
    db.session.commit()
    api = api_for(admin)

    listing = api.get("/api/v1/mail?state=parked")
    assert listing.status_code == 200
    body = listing.get_json()
    assert body["total"] == 1 and body["items"][0]["id"] == parked.id and "550" in body["items"][0]["last_error"]
    assert api.get("/api/v1/mail?state=queued").get_json()["total"] == 1
    assert api.get("/api/v1/mail?state=lost").status_code == 422

    assert "1 sent" in runner.invoke(args=["jobs", "run", "send-mail"]).output  # the parked one stays
    retried = api.post(f"/api/v1/mail/{parked.id}/retry")
    assert retried.status_code == 200 and retried.get_json()["set_aside_at"] is None
    assert api.post(f"/api/v1/mail/{parked.id}/retry").status_code == 409  # no longer parked
    assert api.post("/api/v1/mail/999999/retry").status_code == 404
    assert "1 sent" in runner.invoke(args=["jobs", "run", "send-mail"]).output
    assert sorted(m["To"] for m in inbox.messages) == ["gone@uvt.example.org", "queued@uvt.example.org"]

    member, manager = api_for(make_user("UVT")), api_for(make_user("UVT", "manager"))
    for other in (member, manager):
        assert other.get("/api/v1/mail").status_code == 403
        assert other.post(f"/api/v1/mail/{parked.id}/retry").status_code == 403


def test_admins_see_parked_mail_on_a_page_and_retry_it(app, client, auth, make_user, admin):
    now = app.config["CLOCK_NOW"]
    parked = park(now)
    auth.login(admin.email)
    page = client.get("/admin/mail", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "gone@uvt.example.org" in html and "5.1.1 no such user" in html and "Retry" in html
    assert 'href="/admin/mail"' in client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    romanian = client.get("/admin/mail", headers={"Accept-Language": "ro"}).get_data(as_text=True)
    assert "Reîncearcă" in romanian and "Puse deoparte" in romanian

    done = client.post(f"/admin/mail/{parked.id}/retry", headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "is queued again" in done.get_data(as_text=True)
    db.session.expire_all()
    assert parked.set_aside_at is None and parked.next_attempt_at == now
    again = client.post(f"/admin/mail/{parked.id}/retry", headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "Only a parked mail can be retried." in again.get_data(as_text=True)

    auth.logout()
    auth.login(make_user("UVT", "manager").email)
    assert client.get("/admin/mail").status_code == 403
    assert client.post(f"/admin/mail/{parked.id}/retry").status_code == 403
