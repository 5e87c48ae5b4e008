"""Pending requests expire after their resource's deadline and free their units."""

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from bookings.models import AuditEntry


def test_undecided_requests_expire_and_free_the_slot(app, runner, api_for, make_user, make_resource):
    aula = make_resource("UMFT", "room", approval="all", approval_deadline_hours=72)
    guest = api_for(make_user("UPT"))
    request = guest.book(aula, "2026-11-20T10:00", "2026-11-20T12:00")
    assert request["status"] == "pending"
    app.config["CLOCK_NOW"] += timedelta(hours=71, minutes=59)
    assert "0 pending" in runner.invoke(args=["jobs", "run", "expire-pending"]).output
    guest.book(aula, "2026-11-20T10:00", "2026-11-20T12:00", expect=409)  # still held
    app.config["CLOCK_NOW"] += timedelta(minutes=1)
    result = runner.invoke(args=["jobs", "run", "expire-pending"])
    assert result.exit_code == 0 and "1 pending" in result.output
    expired = guest.get(f"/api/v1/bookings/{request['id']}").get_json()
    assert expired["status"] == "rejected" and "72 hours" in expired["decision_reason"]
    guest.book(aula, "2026-11-20T10:00", "2026-11-20T12:00")  # free again
    assert "0 pending" in runner.invoke(args=["jobs", "run", "expire-pending"]).output  # the new one is fresh
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.booking_id == request["id"])).all()
    assert actions == ["created", "expired"]


def test_jobs_list_names_every_job(runner):
    output = runner.invoke(args=["jobs", "list"]).output
    assert "expire-pending" in output and "import-feeds" in output
