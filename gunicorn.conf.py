"""gunicorn's settings file, read from the working directory (the checkout) whenever gunicorn starts there; the
command line (deploy/atu-facilities.service) keeps the workers, threads and address.

Metrics across workers: gunicorn's workers are separate processes, so a counter kept in memory would give each
scrape of /metrics one worker's numbers. With PROMETHEUS_MULTIPROC_DIR set (a directory for this server alone,
e.g. /run/atu-facilities/metrics under systemd), prometheus-client writes every worker's counters and histograms
to files there and /metrics adds them up (app/observability.py). The directory is emptied when the server starts
(counters restart from zero, as a restarted process's do), and a worker that exits is marked dead. The variable
must be in the environment before gunicorn starts: the workers read it when prometheus-client is imported.
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import multiprocess


def _metrics_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def on_starting(server) -> None:
    """Before the first worker: a fresh, empty directory (files of a previous run would be added in)."""
    if path := _metrics_dir():
        Path(path).mkdir(parents=True, exist_ok=True)
        for stale in Path(path).glob("*.db"):
            stale.unlink()


def child_exit(server, worker) -> None:
    """A worker exited (a restart, a HUP, a crash): its live gauges go; its counters stay in the sums."""
    if _metrics_dir():
        multiprocess.mark_process_dead(worker.pid)
