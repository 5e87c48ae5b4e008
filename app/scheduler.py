"""Background jobs: a registry by name, `flask jobs list|run NAME`, and `flask scheduler run`.

Each job is a plain function that does its work in the app context and returns a
one-line summary; it must be safe to run again at any time.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import click
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.exc import DBAPIError, IntegrityError

from app import clock
from app.database import utcnow
from app.extensions import db
from app.transactions import unit_of_work
from bookings.tasks import expire_pending_requests, release_no_show_sessions, send_reminders, waitlist_offers
from calendars.tasks import import_feeds, import_pending
from notifications.models import JobRun
from notifications.tasks import purge, send_mail

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[[], str]
    minutes: int
    description: str


def jobs() -> dict[str, Job]:
    found = [
        Job("expire-pending", expire_pending_requests, 5, "Reject requests not decided within their deadline"),
        Job("no-shows", release_no_show_sessions, 5, "Release sessions of check-in resources nobody checked in to"),
        Job("waitlist", waitlist_offers, 5, "Offer freed slots to the first in line; lapse unaccepted holds"),
        Job("import-feeds", import_feeds, 60, "Refresh external iCal feeds imported as busy time"),
        Job("import-pending", import_pending, 1, "Fetch imported feeds just added or asked to refresh"),
        Job("send-mail", send_mail, 1, "Send queued mail by SMTP, retrying with backoff"),
        Job("purge", purge, 24 * 60, "Delete sent mail, old job claims and long-revoked feeds"),
        Job("reminders", send_reminders, 15, "Queue a reminder 24 hours before each confirmed booking"),
    ]
    return {job.name: job for job in found}


def run_job(name: str) -> str:
    """One run is one unit of work: committed when the job returns, rolled back if it raises (a job
    that keeps each item on its own opens a `unit_of_work()` per item inside)."""
    job = jobs()[name]
    with unit_of_work():
        return job.func()


def slot_of(job: Job, now: datetime) -> datetime:
    """The start of the interval `now` falls in (intervals counted from the Unix epoch, UTC)."""
    seconds = job.minutes * 60
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, UTC)


def run_scheduled(name: str, *, now: datetime, holder: str) -> str | None:
    """Run the job for the current slot unless another scheduler already claimed it; None when skipped."""
    job = jobs()[name]
    claim = JobRun(job=name, slot=slot_of(job, now), holder=holder)
    try:
        with unit_of_work():  # the claim is committed before the work, so a crash cannot make a second run
            db.session.add(claim)
    except IntegrityError:
        return None
    summary = run_job(name)
    with unit_of_work():
        claim.finished_at, claim.summary = utcnow(), summary[:500]
    return summary


def run_guarded(app: Flask, name: str, *, holder: str, now: datetime | None = None) -> str | None:
    """One turn of the scheduler's loop for job `name`, in an app context of its own: the job's summary,
    None when another scheduler had this slot or the run failed. A failure (the database unreachable, a
    fault in the job) is logged and goes no further: the loop goes on, and the job's next interval runs it
    again. A connection the database closed since the last run (a restart: the pool does not ping) fails
    the run's first statement; the pool has then replaced its connections, and the run is tried once more
    at once, so a job does not wait for its next interval (a day for `purge`) after every restart."""
    with app.app_context():
        now = now or clock.now()
        for attempt in (1, 2):
            try:
                summary = run_scheduled(name, now=now, holder=holder)
            except DBAPIError as error:
                if attempt == 1 and error.connection_invalidated:
                    log.info("job %s: the database connection was lost; trying again with a new one", name)
                    continue
                log.exception("job %s failed; its next interval runs it again", name)
                return None
            except Exception:
                log.exception("job %s failed; its next interval runs it again", name)
                return None
            log.info("%s: %s", name, summary if summary is not None else "claimed by another scheduler")
            return summary
    return None


jobs_cli = AppGroup("jobs", help="Scheduled jobs.")
scheduler_cli = AppGroup("scheduler", help="The background-job process.")


@jobs_cli.command("list")
def list_jobs() -> None:
    """Every scheduled job by name, with its interval."""
    for job in jobs().values():
        click.echo(f"{job.name:<16} every {job.minutes:>4} min  {job.description}")


@jobs_cli.command("run")
@click.argument("name")
def run_once(name: str) -> None:
    """Run the job NAME once, now."""
    if name not in jobs():
        raise click.ClickException(f"unknown job {name!r}; see `flask jobs list`")
    click.echo(f"{name}: {run_job(name)}")


@scheduler_cli.command("run")
def run_scheduler() -> None:
    """Run every job on its interval until stopped; several such processes never run a job twice per slot."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    scheduler = BlockingScheduler(timezone="UTC")

    holder = f"{socket.gethostname()}:{os.getpid()}"

    for job in jobs().values():
        scheduler.add_job(
            run_guarded,
            "interval",
            minutes=job.minutes,
            args=[app, job.name],
            kwargs={"holder": holder},
            id=job.name,
            max_instances=1,
            coalesce=True,
        )
    click.echo(f"scheduler: {len(jobs())} jobs; Ctrl-C to stop")
    scheduler.start()


@scheduler_cli.command("tick")
def run_tick() -> None:
    """Run every job once for the current slot (for cron); jobs already claimed elsewhere are skipped. A job
    that fails (the database away, a fault) is logged and reported, the others still run, and the command
    exits with 1 so cron tells someone."""
    holder = f"{socket.gethostname()}:{os.getpid()}"
    now = clock.now()
    failed = []
    for name in jobs():
        try:
            summary = run_scheduled(name, now=now, holder=holder)
        except Exception:
            log.exception("job %s failed; the next tick runs it again", name)
            failed.append(name)
            click.echo(f"{name}: failed (see the log)")
            continue
        click.echo(f"{name}: {summary if summary is not None else 'already run for this slot'}")
    if failed:
        raise click.exceptions.Exit(1)


def register_scheduler_commands(app: Flask) -> None:
    app.cli.add_command(jobs_cli)
    app.cli.add_command(scheduler_cli)
