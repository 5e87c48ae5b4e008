"""Two scheduler processes never run the same job for the same slot; time is controlled, not waited for."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.scheduler import jobs, run_scheduled, slot_of
from notifications.models import JobRun

ROOT = Path(__file__).resolve().parents[2]


def test_slots_follow_the_interval():
    job = jobs()["import-feeds"]  # hourly
    assert slot_of(job, datetime(2026, 11, 2, 7, 59, tzinfo=UTC)) == datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
    assert slot_of(job, datetime(2026, 11, 2, 8, 0, tzinfo=UTC)) == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def test_a_slot_runs_once_and_the_next_slot_runs_again(app):
    now = app.config["CLOCK_NOW"]
    assert run_scheduled("expire-pending", now=now, holder="a") is not None
    assert run_scheduled("expire-pending", now=now, holder="b") is None
    assert run_scheduled("expire-pending", now=now + timedelta(minutes=5), holder="b") is not None
    runs = db.session.scalars(select(JobRun).order_by(JobRun.id)).all()
    assert [(r.holder, r.summary) for r in runs] == [
        ("a", "0 pending request(s) expired"),
        ("b", "0 pending request(s) expired"),
    ]


@pytest.mark.committed  # the scheduler processes claim jobs through their own connections
def test_two_scheduler_processes_never_run_a_job_twice(app, database):
    env = {**os.environ, "DATABASE_URL": database, "ATU_CONFIG": "testing", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "tick"]
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    lines = [line for out, _ in outputs for line in out.splitlines()]
    ran = [line.split(":")[0] for line in lines if "already run" not in line]
    skipped = [line.split(":")[0] for line in lines if "already run" in line]
    assert sorted(ran) == sorted(jobs()) and sorted(skipped) == sorted(jobs())  # each job once, in one process
    per_job = db.session.execute(select(JobRun.job, func.count()).group_by(JobRun.job)).all()
    assert sorted(per_job) == sorted((name, 1) for name in jobs())


def test_purge_removes_only_what_is_past_its_use(app, runner, make_user):
    from calendars.models import CalendarFeed
    from notifications.models import OutboxMessage

    now = app.config["CLOCK_NOW"]
    user = make_user()
    db.session.add_all(
        [
            OutboxMessage(kind="x", to_email="a@b.example.org", sent_at=now - timedelta(days=91)),
            OutboxMessage(kind="x", to_email="a@b.example.org", sent_at=now - timedelta(days=89)),
            OutboxMessage(kind="x", to_email="a@b.example.org"),  # unsent: kept
            CalendarFeed(user=user, scope="mine", nonce="n1", token_hash="h1", revoked_at=now - timedelta(days=91)),
            CalendarFeed(user=user, scope="mine", nonce="n2", token_hash="h2"),
            JobRun(job="send-mail", slot=now - timedelta(days=31), holder="old"),
        ]
    )
    db.session.commit()
    result = runner.invoke(args=["jobs", "run", "purge"])
    assert "purged 1 sent mail(s), 1 job run(s), 1 revoked feed(s)" in result.output
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 2
    assert db.session.scalar(select(func.count(CalendarFeed.id))) == 1


def test_a_failing_job_does_not_stop_a_tick(app, runner, monkeypatch):
    """Cron's `flask scheduler tick`: one job raising is logged and reported, every other job still runs,
    and the command exits 1."""
    from app import scheduler

    real = scheduler.jobs()

    def broken() -> str:
        raise RuntimeError("the import server is on fire")

    monkeypatch.setattr(
        scheduler, "jobs", lambda: {**real, "import-feeds": scheduler.Job("import-feeds", broken, 60, "broken")}
    )
    result = runner.invoke(args=["scheduler", "tick"])
    assert result.exit_code == 1, result.output
    assert "import-feeds: failed (see the log)" in result.output
    finished = set(db.session.scalars(select(JobRun.job).where(JobRun.finished_at.is_not(None))))
    assert finished == set(real) - {"import-feeds"}
