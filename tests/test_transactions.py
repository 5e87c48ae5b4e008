"""The transaction rule: one commit per request (below 400) in app/database.py, a rollback for any error
answer, exception or refused form; jobs as units of work, per item where a job says so; services flush
and undo their own partial work only through savepoints (dry runs, refusals, the database's backstop)."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

import pytest
from sqlalchemy import event, func, select

from accounts import services as accounts
from accounts.models import User
from app import scheduler
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.transactions import unit_of_work
from bookings import services as booking_service
from bookings.models import AuditEntry, Booking
from events import services as event_service
from events.models import Event
from notifications.models import OutboxMessage
from tests.conftest import PASSWORD

# The transaction rule is about what is really committed: these tests commit for real.
pytestmark = pytest.mark.committed

D = "2026-11-10"  # a Tuesday, after the test clock


@pytest.fixture
def app_config() -> dict:
    # Faults answer 500 as in production instead of reaching the test.
    return {"PROPAGATE_EXCEPTIONS": False}


def counts() -> tuple[int, int, int]:
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count(Booking.id))) or 0,
        db.session.scalar(select(func.count(AuditEntry.id))) or 0,
        db.session.scalar(select(func.count(OutboxMessage.id))) or 0,
    )


def committed_users(email: str) -> int:
    """What survives a rollback of the test's session: only what was committed. (Under a test-wide outer
    transaction, a commit is a released savepoint, which a rollback keeps as well.)"""
    db.session.rollback()
    return db.session.scalar(select(func.count(User.id)).where(User.email == email)) or 0


def _book_then(error: Exception):
    """The real booking service, which writes the booking, its audit entry and its mail, then a fault."""
    real = booking_service.create_booking

    def book(*args, **kwargs):
        real(*args, **kwargs)
        raise error

    return book


# --- requests ----------------------------------------------------------------------------------


def test_a_request_that_fails_after_writing_leaves_nothing(api, make_resource, monkeypatch):
    lab = make_resource()
    before = counts()
    monkeypatch.setattr(booking_service, "create_booking", _book_then(RuntimeError("after the write")))
    response = api.book(lab, f"{D}T10:00", f"{D}T11:00", expect=500)
    assert response["status"] == 500
    assert counts() == before


def test_a_success_commits_once_after_the_view(api, make_resource):
    lab = make_resource()
    booked = api.book(lab, f"{D}T10:00", f"{D}T11:00")
    db.session.rollback()
    assert db.session.scalars(select(Booking.id)).all() == [booked["id"]]
    assert all(counts())  # its audit entry and its mail with it


def test_a_commit_that_fails_answers_500_and_keeps_nothing(app, api, make_resource, monkeypatch):
    lab = make_resource()
    before = counts()
    session_class = type(db.session())
    real_commit = session_class.commit

    def failing_commit(self):
        raise RuntimeError("the database went away at commit")

    monkeypatch.setattr(session_class, "commit", failing_commit)
    response = api.book(lab, f"{D}T10:00", f"{D}T11:00", expect=500)
    monkeypatch.setattr(session_class, "commit", real_commit)
    assert response["status"] == 500 and response["title"] == "Internal server error"
    assert counts() == before


def test_an_error_answer_rolls_back_what_the_view_wrote(api, make_resource, monkeypatch):
    lab = make_resource()
    before = counts()
    monkeypatch.setattr(booking_service, "create_booking", _book_then(Conflict("refused after writing")))
    assert api.book(lab, f"{D}T10:00", f"{D}T11:00", expect=409)["detail"] == "refused after writing"
    assert counts() == before


def test_a_4xx_form_re_render_leaves_nothing(client, auth, member, make_resource, monkeypatch):
    lab = make_resource()
    auth.login(member.email)
    before = counts()
    monkeypatch.setattr(booking_service, "create_booking", _book_then(InvalidInput({"start": "too many"})))
    form = {"title": "Seminar", "date": D, "start_time": "10:00", "end_time": "11:00", "units": "1"}
    response = client.post(f"/resources/{lab.id}/book", data=form, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "too many" in response.get_data(as_text=True)  # the message is on the form
    assert counts() == before


def test_a_refusal_that_flashes_and_redirects_leaves_nothing(client, auth, member, make_resource, monkeypatch):
    """A redirect is a success status, but the page reported a refused action: nothing is kept."""
    lab = make_resource()
    auth.login(member.email)
    before = counts()
    real = booking_service.create_booking

    def check_in_after_writing(actor, booking_id, *, now, **kwargs):
        start, end = datetime(2026, 11, 10, 12), datetime(2026, 11, 10, 13)
        real(actor, resource_id=lab.id, start=start, end=end, title="x", now=now)
        raise Conflict("not yet")

    monkeypatch.setattr(booking_service, "check_in", check_in_after_writing)
    response = client.post("/bookings/1/check-in", headers={"Accept-Language": "en"})
    assert response.status_code == 302
    assert counts() == before


def test_a_read_only_request_ends_its_transaction_once(app, client, make_resource):
    """The commit after a GET costs what the old rollback at teardown did: one end of transaction."""
    make_resource()
    ends: list[str] = []
    listeners = {"commit": lambda conn: ends.append("commit"), "rollback": lambda conn: ends.append("rollback")}
    for name, listener in listeners.items():
        event.listen(db.engine, name, listener)
    try:
        assert client.get("/resources").status_code == 200
    finally:
        for name, listener in listeners.items():
            event.remove(db.engine, name, listener)
    assert ends == ["commit"]


# --- jobs --------------------------------------------------------------------------------------


def _job(monkeypatch, func) -> None:
    monkeypatch.setattr(scheduler, "jobs", lambda: {"test": scheduler.Job("test", func, 1, "a test job")})


def test_a_job_that_fails_half_way_leaves_nothing(app, runner, monkeypatch):
    def half_way() -> str:
        accounts.create_user(email="half@uvt.example.org", password=PASSWORD, institution_code="UVT")
        db.session.flush()
        raise RuntimeError("half way")

    _job(monkeypatch, half_way)
    result = runner.invoke(args=["jobs", "run", "test"])
    assert isinstance(result.exception, RuntimeError)
    assert committed_users("half@uvt.example.org") == 0


def test_a_job_run_is_committed(app, monkeypatch):
    def works() -> str:
        accounts.create_user(email="job@uvt.example.org", password=PASSWORD, institution_code="UVT")
        return "done"

    _job(monkeypatch, works)
    assert scheduler.run_job("test") == "done"
    assert committed_users("job@uvt.example.org") == 1


def test_units_of_work_inside_a_job_hold_when_a_later_item_fails(app, monkeypatch):
    def per_item() -> str:
        with unit_of_work():
            accounts.create_user(email="first@uvt.example.org", password=PASSWORD, institution_code="UVT")
        with unit_of_work():
            accounts.create_user(email="second@uvt.example.org", password=PASSWORD, institution_code="UVT")
            db.session.flush()
            raise RuntimeError("the second item fails")

    _job(monkeypatch, per_item)
    with pytest.raises(RuntimeError):
        scheduler.run_job("test")
    assert committed_users("first@uvt.example.org") == 1
    assert committed_users("second@uvt.example.org") == 0


def test_send_mail_keeps_each_message_sent_before_a_fault(app, monkeypatch):
    """One row claimed and sent is committed on its own: a fault on the next cannot make it go twice."""
    import smtplib

    from notifications import services as mail

    now = app.config["CLOCK_NOW"]
    first, second = (
        OutboxMessage(kind="confirmed", to_email=f"{n}@uvt.example.org", snapshot={}, next_attempt_at=now)
        for n in ("a", "b")
    )
    db.session.add_all([first, second])
    db.session.commit()
    sent: list[str] = []

    class FakeSMTP:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def quit(self):
            pass

        def send_message(self, email):
            if email["To"] == "b@uvt.example.org":
                raise RuntimeError("not an SMTP error: a bug")
            sent.append(email["To"])

    def build(message, sender):
        email = EmailMessage()
        email["To"] = message.to_email
        return email

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setattr(mail, "build_email", build)
    # The fault parks that one mail (with its error) and the run goes on (issue 12: the outbox as a queue).
    assert "1 sent, 0 failed (will retry), 1 set aside" in scheduler.run_job("send-mail")
    db.session.expire_all()
    assert sent == ["a@uvt.example.org"]
    assert first.sent_at is not None and second.sent_at is None and "a bug" in second.last_error


def test_waitlist_offers_made_before_a_fault_are_kept(app, api_for, make_user, make_resource):
    """Each offer is its own unit of work (it also releases the resource's lock for the next one)."""
    from bookings import signals
    from bookings.models import WaitlistEntry

    slot = {"start": f"{D}T18:00", "end": f"{D}T19:00"}
    courts = [make_resource("UVT", "sports") for _ in range(2)]
    holder, waiter = api_for(make_user("UVT")), api_for(make_user("UVT"))
    taken = [holder.book(court, **slot) for court in courts]
    for court in courts:
        assert waiter.post("/api/v1/waitlist", {"resource_id": court.id, "title": "Tenis", **slot}).status_code == 201
    for booking in taken:
        assert holder.delete(f"/api/v1/bookings/{booking['id']}").status_code == 200
    offers: list[int] = []

    def second_offer_breaks(hold, **kwargs):
        offers.append(hold.id)
        if len(offers) == 2:
            raise RuntimeError("the second offer fails")

    with signals.waitlist_offered.connected_to(second_offer_breaks):
        # Item by item (issue 12): the failed offer is undone alone and counted; the job does not fail.
        assert "1 hold(s) offered, 0 lapsed, 1 failed" in scheduler.run_job("waitlist")
    statuses = db.session.scalars(select(WaitlistEntry.status).order_by(WaitlistEntry.id)).all()
    assert statuses == ["offered", "waiting"]
    assert "1 hold(s) offered" in scheduler.run_job("waitlist")  # the next run offers the other


# --- savepoints --------------------------------------------------------------------------------


def test_a_released_savepoint_stays_inside_the_outer_transaction(app):
    """pysqlite would let a SAVEPOINT open the transaction and its release commit it; app/database.py
    begins first. The savepoint here is the first statement of the transaction on purpose."""
    db.session.rollback()
    with db.session.begin_nested():
        accounts.create_user(email="nested@uvt.example.org", password=PASSWORD, institution_code="UVT")
    assert committed_users("nested@uvt.example.org") == 0


def _items(*resources):
    return [
        event_service.Item(resource_id=r.id, start=datetime(2026, 11, 10, 9), end=datetime(2026, 11, 10, 10))
        for r in resources
    ]


def test_a_dry_run_leaves_nothing_and_keeps_the_outer_transaction(app, admin, make_resource):
    lab, hall = make_resource(), make_resource()
    now = app.config["CLOCK_NOW"]
    pending = accounts.create_user(email="pending@uvt.example.org", password=PASSWORD, institution_code="UVT")
    db.session.flush()  # written in this transaction, not committed

    preview = event_service.create_event(admin, title="Zi", items=_items(lab, hall), now=now, dry_run=True)

    assert len(preview.items) == 2
    assert db.session().in_transaction() and db.session.get(User, pending.id) is pending  # the transaction goes on
    assert db.session.scalar(select(func.count(Event.id))) == 0
    assert db.session.scalar(select(func.count(Booking.id))) == 0
    assert committed_users("pending@uvt.example.org") == 0  # the savepoint's end committed nothing


def test_a_refused_event_undoes_its_items_and_the_caller_goes_on(app, admin, make_resource):
    lab, hall = make_resource(), make_resource()
    now = app.config["CLOCK_NOW"]
    booking_service.create_booking(
        admin, resource_id=hall.id, start=datetime(2026, 11, 10, 9), end=datetime(2026, 11, 10, 10), title="x", now=now
    )
    with pytest.raises(event_service.EventConflict):
        event_service.create_event(admin, title="Zi", items=_items(lab, hall), now=now)
    # The lab's item, booked before the hall was refused, is gone; the earlier booking is still here.
    assert db.session.scalar(select(func.count(Booking.id))) == 1
    assert db.session.scalar(select(func.count(Event.id))) == 0
    db.session.commit()
    assert counts()[0] == 1


def test_the_database_backstop_leaves_the_session_usable(app, admin, make_resource, monkeypatch):
    """A plain booking writes without a savepoint (two round trips fewer): when the exclusion constraint
    fires, the transaction is abandoned as a whole, and the session can still read."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the exclusion constraint is PostgreSQL's")
    lab = make_resource()
    now = app.config["CLOCK_NOW"]
    start, end = datetime(2026, 11, 10, 9), datetime(2026, 11, 10, 10)
    booking_service.create_booking(admin, resource_id=lab.id, start=start, end=end, title="first", now=now)
    db.session.commit()
    monkeypatch.setattr(booking_service, "find_clashes", lambda *args, **kwargs: [])
    with pytest.raises(booking_service.BookingConflict):
        booking_service.create_booking(admin, resource_id=lab.id, start=start, end=end, title="second", now=now)
    assert db.session.scalars(select(Booking.title)).all() == ["first"]
    db.session.commit()
    assert counts()[0] == 1


def test_the_database_backstop_undoes_only_its_savepoint_inside_a_larger_step(app, admin, make_resource, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the exclusion constraint is PostgreSQL's")
    lab = make_resource()
    now = app.config["CLOCK_NOW"]
    start, end = datetime(2026, 11, 10, 9), datetime(2026, 11, 10, 10)
    booking_service.create_booking(admin, resource_id=lab.id, start=start, end=end, title="first", now=now)
    monkeypatch.setattr(booking_service, "find_clashes", lambda *args, **kwargs: [])
    with db.session.begin_nested():  # an all-or-nothing step, as an event's items are booked
        with pytest.raises(booking_service.BookingConflict):
            booking_service.create_booking(admin, resource_id=lab.id, start=start, end=end, title="second", now=now)
        # Only the inner savepoint was undone: the step and the transaction still hold the first booking.
        assert db.session.scalars(select(Booking.title)).all() == ["first"]
    db.session.commit()
    assert counts()[0] == 1


# --- the form-error helper ---------------------------------------------------------------------


def test_apply_errors_puts_each_message_on_its_field_and_marks_the_rollback(app):
    from flask import g, get_flashed_messages
    from wtforms import FieldList, Form, StringField

    from app.forms import apply_errors

    class Page(Form):
        date = StringField()
        title = StringField()
        rows = FieldList(StringField(), min_entries=1)

    with app.test_request_context():
        form = Page()
        errors = {"start": "too early", "title": "too long", "units": "too many", "rows": "incomplete", "": "no"}
        apply_errors(form, InvalidInput(errors), fields={"start": form.date}, fallback=form.title)
        assert form.date.errors == ["too early"]  # mapped
        assert form.title.errors == ["too long", "too many", "no"]  # by name, then the fallback
        assert get_flashed_messages() == ["incomplete"]  # a list of rows without row errors: flashed
        assert g.rollback_transaction is True

    with app.test_request_context():
        form = Page()
        apply_errors(form, Conflict("taken"))  # no fallback: flashed whole
        assert get_flashed_messages() == ["taken"]
