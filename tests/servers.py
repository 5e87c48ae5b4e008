"""The app under a real gunicorn for the tests that need several processes or hosts: races across
processes and instances, shared metrics, database outages. One way to start and stop it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def gunicorn(
    database: str,
    log: Path,
    application: str = "wsgi:app",
    *,
    workers: int = 4,
    threads: int | None = 4,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """gunicorn serving `application` on `database` (testing config), `workers` processes with `threads`
    threads each (None: sync workers), its output in `log` (a pipe nobody reads would fill and block the
    workers); yields the base URL once /healthz answers, and stops it with SIGINT (the requests are all
    answered by then: nothing to drain)."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database,
        "ATU_CONFIG": "testing",
        "PYTHONPATH": str(ROOT),
        **(env or {}),
    }
    argv = [sys.executable, "-m", "gunicorn", "-w", str(workers)]
    argv += ["--threads", str(threads)] if threads else []
    argv += ["-b", f"127.0.0.1:{port}", "--log-level", "warning", application]
    with log.open("wb") as output:
        process = subprocess.Popen(argv, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _answers(base):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
