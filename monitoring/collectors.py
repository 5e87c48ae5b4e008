"""Gauges read from the database when Prometheus scrapes /metrics: the mail outbox, the scheduled jobs' runs and
the imported calendars. They are computed per scrape from shared rows, so they are right whatever process answers
(gunicorn workers, several hosts) and need no multiprocess files. "Now" is the app's clock (app.clock: the wall
clock, unless CLOCK_NOW pins it in tests), the one the rows were written with."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app import clock
from app.extensions import db
from app.transactions import abandon
from calendars.models import FeedImport
from notifications.models import JobRun, OutboxMessage

log = logging.getLogger(__name__)

JOB_WINDOW = timedelta(hours=24)
IMPORT_STATUSES = ("new", "pending", "ok", "error")
JOB_OUTCOMES = ("ok", "partial", "failed", "running")


class DatabaseCollector(Collector):
    """One scrape's reading of the database; a database that cannot answer gives `atu_database_up 0` and the
    process's own metrics still go out."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("atu_database_up", "1 when the scrape could read the database, else 0")
        try:
            now = clock.now()
            found = [*outbox_metrics(now), *job_metrics(now), import_metrics()]
        except SQLAlchemyError:
            log.warning("metrics: the database could not be read", exc_info=True)
            abandon()
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from found


def outbox_metrics(now: datetime) -> list[Metric]:
    """Mail waiting to be sent (not parked), how long the oldest has waited, and mail parked for an admin."""
    unsent = OutboxMessage.sent_at.is_(None)
    backlog, oldest = db.session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(unsent, OutboxMessage.set_aside_at.is_(None))
    ).one()
    parked = db.session.scalar(select(func.count()).where(unsent, OutboxMessage.set_aside_at.is_not(None)))
    return [
        GaugeMetricFamily(
            "atu_outbox_backlog", "Mail queued in the outbox and not sent yet (parked mail aside)", backlog
        ),
        GaugeMetricFamily(
            "atu_outbox_oldest_age_seconds",
            "Seconds the oldest queued mail has waited (0 when none waits)",
            max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        ),
        GaugeMetricFamily("atu_outbox_parked", "Mail set aside with an error, waiting for an admin's retry", parked),
    ]


def job_metrics(now: datetime) -> list[Metric]:
    """Runs of each job claimed in the last 24 hours by outcome, and when each job last finished a run.

    A run that raised or whose process died keeps its claim unfinished; it counts as `failed` once a later run
    of the job has been claimed, and as `running` while it is the job's latest. A finished run whose summary
    ends in "N failed" (app.transactions.ItemGuard) had items that failed: `partial`.
    """
    runs = GaugeMetricFamily(
        "atu_job_runs", "Runs of each scheduled job claimed in the last 24 hours, by outcome", labels=["job", "outcome"]
    )
    rows = db.session.execute(
        select(JobRun.job, JobRun.slot, JobRun.finished_at.is_not(None), JobRun.summary.like("% failed"))
        .where(JobRun.started_at >= now - JOB_WINDOW)
        .order_by(JobRun.job, JobRun.slot)
    ).all()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(JOB_OUTCOMES, 0))
    for index, (job, _slot, done, had_failures) in enumerate(rows):
        latest = index + 1 == len(rows) or rows[index + 1].job != job
        outcome = ("partial" if had_failures else "ok") if done else ("running" if latest else "failed")
        counts[job][outcome] += 1
    for job, by_outcome in sorted(counts.items()):
        for outcome, count in by_outcome.items():
            runs.add_metric([job, outcome], count)

    last_finished = GaugeMetricFamily(
        "atu_job_last_finished_timestamp_seconds",
        "When each scheduled job last finished a run (Unix time), as long as its claims are kept",
        labels=["job"],
    )
    latest = select(JobRun.job, func.max(JobRun.finished_at)).group_by(JobRun.job)
    for job, at in db.session.execute(latest):
        if at is not None:  # a job none of whose kept runs has finished has no sample
            last_finished.add_metric([job], at.timestamp())
    return [runs, last_finished]


def import_metrics() -> Metric:
    """Imported calendar feeds by the state of their last fetch: `error` are the failing ones (each keeps its
    last good busy time and its `last_error`)."""
    imports = GaugeMetricFamily(
        "atu_calendar_imports", "Imported calendar feeds by the state of their last fetch", labels=["status"]
    )
    by_status = select(FeedImport.last_status, func.count()).group_by(FeedImport.last_status)
    found: dict[str, int] = dict(db.session.execute(by_status).all())
    for status in dict.fromkeys([*IMPORT_STATUSES, *found]):
        imports.add_metric([status], found.get(status, 0))
    return imports
