"""A private PostgreSQL cluster for tests that must stop, kill and restart the database under the app
(tests/test_outage.py): initdb into a temporary folder, served on a free port of 127.0.0.1 and a socket
in that folder, never the machine's own server.

    cluster = Cluster.create()          # None when no initdb is installed
    try:
        cluster.start()
        cluster.createdb("atu")         # cluster.url("atu") -> postgresql://postgres@127.0.0.1:PORT/atu
        cluster.stop("fast")            # pg_ctl stop -m fast; or "immediate"; cluster.kill(): SIGKILL to all
        cluster.start()                 # crash recovery after a kill or an immediate stop
    finally:
        cluster.teardown()              # stops it and removes the folder

The binaries are looked up in $PG_BINDIR, `pg_config --bindir`, /usr/lib/postgresql/*/bin, then PATH.
PostgreSQL refuses to run as root: under root the cluster belongs to the `postgres` account (or `nobody`).

The postmaster is started as a child of this process (what `pg_ctl start` runs, without pg_ctl's detaching
shell), in a process group of its own: this process reaps it when it ends, so a killed server is gone at
once (an orphan would stay a zombie until PID 1 reaps it, and its PID in postmaster.pid would keep the next
start from running), and `kill` reaches the backends too. `pg_ctl stop` stops it as it would any server.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from tests.servers import free_port

# fsync=off only skips asking the disks to keep what was written: a killed or crashed server still finds
# every committed transaction in its WAL. (synchronous_commit=off would not: a commit answered before its
# WAL is written is lost by an immediate stop, and the outage tests would rightly call that a lost booking.)
SERVER_SETTINGS = {"listen_addresses": "127.0.0.1", "fsync": "off", "shared_buffers": "16MB", "max_connections": "60"}


def find_bindir() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres, or None."""
    candidates: list[str] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(os.environ["PG_BINDIR"])
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError):
            candidates.append(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).parent))
    for folder in candidates:
        if folder and all((Path(folder) / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    return None


def _version(folder: str) -> int:
    name = Path(folder).parent.name
    return int(name) if name.isdigit() else 0


def _unprivileged_account() -> pwd.struct_passwd | None:
    """The account the server runs as when the tests run as root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root with neither a postgres nor a nobody account to run PostgreSQL as")


class Cluster:
    def __init__(self, bindir: Path, root: Path, account: pwd.struct_passwd | None) -> None:
        self.bindir, self.root, self.account = bindir, root, account
        self.data = root / "data"
        self.log = root / "server.log"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def create(cls) -> Cluster | None:
        """initdb a new cluster in a temporary folder (not started); None when PostgreSQL is not installed."""
        bindir = find_bindir()
        if bindir is None:
            return None
        account = _unprivileged_account()
        root = Path(tempfile.mkdtemp(prefix="atu-pg-"))
        cluster = cls(bindir, root, account)
        try:
            if account is not None:
                os.chown(root, account.pw_uid, account.pw_gid)
            cluster._run(
                "initdb", "-D", str(cluster.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                "--no-locale", "--no-sync", "--no-instructions",
            )  # fmt: skip
        except BaseException:
            cluster.teardown()
            raise
        return cluster

    # --- running the server -------------------------------------------------------------------------

    def _as_owner(self) -> dict[str, Any]:
        if self.account is None:
            return {}
        return {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []}

    def _env(self) -> dict[str, str]:
        return {**os.environ, "LC_ALL": "C", "PGDATA": str(self.data)}

    def _run(self, program: str, *args: str, timeout: float = 60) -> None:
        done = subprocess.run(
            [str(self.bindir / program), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.root,
            env=self._env(),
            check=False,
            **self._as_owner(),
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{program} {' '.join(args)} failed ({done.returncode}): {done.stderr or done.stdout}"
                f"\n{self.server_log()[-2000:]}"
            )

    def server_log(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def start(self, timeout: float = 30) -> None:
        """Start the server and wait until it accepts connections (recovering first after a crash)."""
        if self.running():
            raise RuntimeError("the cluster is already running")
        settings = [f"-c{name}={value}" for name, value in SERVER_SETTINGS.items()]
        argv = [str(self.bindir / "postgres"), "-D", str(self.data), "-k", str(self.root), "-p", str(self.port)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                argv + settings,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                env=self._env(),
                start_new_session=True,  # its own process group: kill() reaches every backend
                **self._as_owner(),
            )
        deadline = time.monotonic() + timeout
        while not self._ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"PostgreSQL did not start:\n{self.server_log()[-2000:]}")
            time.sleep(0.02)

    def _ready(self) -> bool:
        """postmaster.pid names this server and says "ready" (its 8th line, as pg_ctl -w reads it)."""
        try:
            lines = (self.data / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        assert self.process is not None
        return len(lines) >= 8 and lines[0].strip() == str(self.process.pid) and lines[7].strip() == "ready"

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, mode: str = "fast") -> None:
        """pg_ctl stop: "smart", "fast" (clients disconnected, transactions rolled back) or "immediate"
        (every process quits at once; the next start recovers from the WAL)."""
        self._run("pg_ctl", "stop", "-w", "-m", mode, "-D", str(self.data))
        if self.process is not None:
            self.process.wait(timeout=30)
            self.process = None

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend at once: a crash."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    # --- databases ----------------------------------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def createdb(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    # --- cleaning up --------------------------------------------------------------------------------

    def teardown(self) -> None:
        """Stop the server whatever its state and remove the folder."""
        if self.running():
            try:
                self.stop("immediate")
            except (RuntimeError, subprocess.TimeoutExpired):
                self.kill()
        self.kill()  # nothing left, or what an interrupted stop left
        shutil.rmtree(self.root, ignore_errors=True)
