"""The deployment files in deploy/ work, run by the real programs: nginx serves the site file (TLS, the
redirect, the proxy headers the app believes, static files, the body limit, /metrics), systemd-analyze accepts
the units, the unit's gunicorn command loads the production app with env.example, the guide's commands exist
and its first steps run, and backup.sh and restore.sh round-trip a migrated PostgreSQL database. A part whose
program is not installed (nginx, openssl, systemd-analyze, pg_dump) is skipped with the reason.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask, request

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
INSTALL = "/opt/atu-facilities"  # where the guide puts the checkout; the tests put the repository there
HOST = "facilities.example.org"  # the site file's placeholder host name
HSTS = "max-age=31536000; includeSubDomains"  # what ProductionConfig sends (config.py)
UNITS = (
    "atu-facilities.service",
    "atu-facilities-scheduler.service",
    "atu-facilities-backup.service",
    "atu-facilities-backup.timer",
)
HARDENING = (
    "User",
    "Group",
    "WorkingDirectory",
    "EnvironmentFile",
    "UMask",
    "NoNewPrivileges",
    "ProtectSystem",
    "ReadWritePaths",
    "ProtectHome",
    "PrivateTmp",
    "RestrictAddressFamilies",
    "SystemCallFilter",
    "CapabilityBoundingSet",
    "Restart",
)


def _program(name: str) -> str:
    path = shutil.which(name) or next(
        (f"{folder}/{name}" for folder in ("/usr/sbin", "/sbin") if os.access(f"{folder}/{name}", os.X_OK)), None
    )
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, **kwargs)


# --- systemd units ---------------------------------------------------------------------------------------


def _unit(name: str) -> dict[str, list[tuple[str, str]]]:
    """A unit file as systemd reads it: sections of KEY=value lines, backslash continuations joined."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    pending = ""
    for raw in (DEPLOY / name).read_text().splitlines():
        line = (pending + raw.strip()) if pending else raw.strip()
        if not pending and (not line or line.startswith(("#", ";"))):
            continue
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"{name}: not a unit file line: {line!r}"
        current.append((key.strip(), value.strip()))
    assert not pending, f"{name}: ends inside a continued line"
    return sections


def _service(name: str) -> dict[str, str]:
    return dict(_unit(name)["Service"])


def _option(argv: list[str], name: str) -> str:
    assert name in argv, f"{name} missing from {shlex.join(argv)}"
    return argv[argv.index(name) + 1]


def test_web_unit_runs_gunicorn_as_documented():
    service = _service("atu-facilities.service")
    argv = shlex.split(service["ExecStart"])
    assert argv[0] == f"{INSTALL}/.venv/bin/gunicorn"
    assert argv[-1] == "wsgi:app"
    assert _option(argv, "--bind") == "127.0.0.1:8000"
    assert (_option(argv, "--worker-class"), _option(argv, "--workers"), _option(argv, "--threads")) == (
        "gthread",
        "4",
        "4",
    )
    # systemd waits longer than gunicorn lets workers finish their requests.
    assert int(service["TimeoutStopSec"]) > int(_option(argv, "--graceful-timeout"))
    assert service["Type"] == "notify"
    assert service["KillMode"] == "mixed"
    assert (service["User"], service["Group"]) == ("atu", "atu")
    assert service["WorkingDirectory"] == INSTALL
    assert service["EnvironmentFile"] == "/etc/atu-facilities/env"
    assert service["ReadWritePaths"] == f"{INSTALL}/instance"
    assert (service["NoNewPrivileges"], service["ProtectSystem"], service["PrivateTmp"]) == ("yes", "strict", "yes")
    assert service["Restart"] == "on-failure"
    # Translations are compiled before every start; the schema is never migrated by the unit.
    compile_argv = shlex.split(_compile_command().split("exec ", 1)[1])
    assert compile_argv[:3] == [f"{INSTALL}/.venv/bin/pybabel", "-q", "compile"]
    assert _option(compile_argv, "-d") == f"{INSTALL}/translations"
    assert not any("upgrade" in value for _, value in _unit("atu-facilities.service")["Service"])


def _compile_command() -> str:
    """The web unit's one ExecStartPre: as root ("+"), a shell that sets the umask and execs pybabel."""
    pre = [value for key, value in _unit("atu-facilities.service")["Service"] if key == "ExecStartPre"]
    assert len(pre) == 1
    argv = shlex.split(pre[0].removeprefix("+"))
    assert argv[:2] == ["/bin/sh", "-c"] and len(argv) == 3
    assert argv[2].startswith("umask 0022 && exec ")
    return argv[2]


def test_scheduler_unit_runs_the_scheduler_like_the_web_unit():
    web, scheduler = _service("atu-facilities.service"), _service("atu-facilities-scheduler.service")
    assert shlex.split(scheduler["ExecStart"]) == [f"{INSTALL}/.venv/bin/flask", "--app", "wsgi", "scheduler", "run"]
    assert {key: scheduler.get(key) for key in HARDENING} == {key: web.get(key) for key in HARDENING}


def test_backup_units_run_backup_sh_nightly():
    backup, timer = _unit("atu-facilities-backup.service"), dict(_unit("atu-facilities-backup.timer")["Timer"])
    service = dict(backup["Service"])
    environment = dict(value.split("=", 1) for key, value in backup["Service"] if key == "Environment")
    assert shlex.split(service["ExecStart"]) == ["/bin/bash", f"{INSTALL}/deploy/backup.sh"]
    assert (service["Type"], service["User"]) == ("oneshot", "postgres")
    assert environment == {
        "ATU_BACKUP_DATABASE": "atu_facilities",
        "ATU_BACKUP_DIR": "/var/backups/atu-facilities",
        "ATU_BACKUP_KEEP_DAYS": "14",
    }
    assert service["ReadWritePaths"] == environment["ATU_BACKUP_DIR"]
    assert timer["Unit"] == "atu-facilities-backup.service"
    assert timer["OnCalendar"] == "*-*-* 02:30:00"
    assert timer["Persistent"] == "true"
    assert dict(_unit("atu-facilities-backup.timer")["Install"])["WantedBy"] == "timers.target"


def _units_in(tmp_path: Path) -> list[str]:
    """The units with the checkout at the repository, so systemd finds the programs they run."""
    for name in UNITS:
        (tmp_path / name).write_text((DEPLOY / name).read_text().replace(INSTALL, str(ROOT)))
    return [str(tmp_path / name) for name in UNITS]


def test_systemd_analyze_verify_accepts_the_units(tmp_path):
    tool = _program("systemd-analyze")
    result = _run([tool, "verify", "--man=no", *_units_in(tmp_path)], cwd=tmp_path)
    output = (result.stdout + result.stderr).strip()
    # verify exits 0 on an unknown key or a value it cannot parse: every line about our units is a failure.
    ours = [line for line in output.splitlines() if "atu-facilities" in line]
    assert not ours, "systemd-analyze verify:\n" + output
    if result.returncode != 0:
        pytest.skip(f"systemd-analyze verify cannot run here ({result.returncode}): {output[-300:]}")


def test_systemd_rates_the_services_hardened(tmp_path):
    tool = _program("systemd-analyze")
    paths = _units_in(tmp_path)
    for path in paths[:3]:
        result = _run([tool, "security", "--offline=true", path], cwd=tmp_path)
        found = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", result.stdout)
        if found is None:
            pytest.skip(
                f"systemd-analyze security --offline cannot run here: {(result.stderr or result.stdout)[-300:]}"
            )
        # 10 is a service with no sandbox at all; the shipped units score 1.9.
        assert float(found[1]) <= 2.5, result.stdout


# --- the environment file and the gunicorn command ---------------------------------------------------------


def _variables_the_app_reads() -> set[str]:
    pattern = re.compile(
        r"""(?:os\.environ\.get|os\.getenv|env_flag)\(\s*["']([A-Z][A-Z0-9_]*)["']|os\.environ\[\s*["']([A-Z][A-Z0-9_]*)["']"""
    )
    skip = {".venv", "tests", "bench", "node_modules", "migrations"}
    names: set[str] = set()
    for path in ROOT.rglob("*.py"):
        if skip.isdisjoint(path.relative_to(ROOT).parts):
            names |= {a or b for a, b in pattern.findall(path.read_text())}
    return names


def _env_example() -> tuple[dict[str, str], set[str]]:
    """The assignments env.example makes, and every variable it names (commented-out defaults included)."""
    text = (DEPLOY / "env.example").read_text()
    active = dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", text, re.MULTILINE))
    named = set(re.findall(r"^#?([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    return active, named


def test_env_example_names_every_variable_the_app_reads():
    active, named = _env_example()
    reads = _variables_the_app_reads()
    assert {"SECRET_KEY", "DATABASE_URL", "ATU_CONFIG", "TRUSTED_PROXIES"} <= reads
    assert named == reads, (
        f"missing from env.example: {sorted(reads - named)}; not read by the app: {sorted(named - reads)}"
    )
    assert active["ATU_CONFIG"] == "production"
    assert active["TRUSTED_PROXIES"] == "1"
    assert active["SECRET_KEY"] == "", "a key in the template would be a key shared by every installation"
    assert re.fullmatch(r"https://[^/]+/", active["PUBLIC_URL"]), "mail links append paths to PUBLIC_URL"
    assert active["DATABASE_URL"].startswith("postgresql://")


def _gunicorn_check(tmp_path: Path, extra_env: str) -> subprocess.CompletedProcess[str]:
    """The web unit's ExecStart with --check-config (loads wsgi:app, then exits), in env.example's environment
    read the way the guide reads it (`set -a; . env`), the database swapped for SQLite."""
    argv = shlex.split(_service("atu-facilities.service")["ExecStart"].replace(INSTALL, str(ROOT)))
    env_file = tmp_path / "env"
    env_file.write_text(
        (DEPLOY / "env.example").read_text() + f"\nDATABASE_URL=sqlite:///{tmp_path / 'atu.db'}\n{extra_env}\n"
    )
    script = 'set -a && . "$1" && set +a && shift && exec "$@"'
    return _run(
        ["sh", "-c", script, "sh", str(env_file), *argv, "--check-config"],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)},
    )


def test_web_unit_command_loads_the_production_app_from_env_example(tmp_path):
    refused = _gunicorn_check(tmp_path, "")
    assert refused.returncode != 0
    assert "SECRET_KEY is missing" in refused.stderr, refused.stderr  # so ATU_CONFIG=production took effect
    started = _gunicorn_check(tmp_path, f"SECRET_KEY={secrets.token_hex(32)}")
    assert started.returncode == 0, started.stdout + started.stderr


def test_web_unit_compiles_the_translations_readable_for_the_app(tmp_path):
    shutil.copytree(ROOT / "translations", tmp_path / "translations", ignore=shutil.ignore_patterns("*.mo"))
    command = _compile_command().replace(f"{INSTALL}/translations", str(tmp_path / "translations"))
    # As systemd runs it: the unit's UMask=0027 (or stricter) around it.
    result = _run(["/bin/sh", "-c", command.replace(INSTALL, str(ROOT))], umask=0o077)
    assert result.returncode == 0, result.stderr
    catalogue = tmp_path / "translations/ro/LC_MESSAGES/messages.mo"
    assert catalogue.stat().st_size > 0
    assert catalogue.stat().st_mode & 0o004, "written by root, read by atu: world-readable like the code"


# --- the guide's commands ----------------------------------------------------------------------------------


def _guide_commands() -> list[list[str]]:
    """Every `flask --app wsgi` command of deploy/README.md (through the atu_flask helper, or in prose)."""
    text = (DEPLOY / "README.md").read_text()
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL):
        for line in block.splitlines():
            if line.startswith("atu_flask "):
                commands.append(shlex.split(line, comments=True)[1:])
    commands += [shlex.split(span) for span in re.findall(r"`(?:atu_flask|flask(?: --app wsgi)?) ([a-z][^`…]*)`", text)]
    return commands


def test_the_guides_commands_exist():
    from app.factory import create_app
    from app.scheduler import jobs
    from config import TestingConfig

    commands = _guide_commands()
    assert ["db", "upgrade"] in commands
    assert any(command[:2] == ["users", "create"] for command in commands)
    app = create_app(type("Config", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": "sqlite://"}))
    runner = app.test_cli_runner()
    # The units' own command too.
    scheduler = shlex.split(_service("atu-facilities-scheduler.service")["ExecStart"])
    for command in [*commands, scheduler[3:]]:
        # Parsing checks the command and its options; --help stops before it runs.
        result = runner.invoke(args=[*command, "--help"])
        assert result.exit_code == 0, f"flask --app wsgi {shlex.join(command)}: {result.output}"
        if command[:2] == ["jobs", "run"]:
            assert command[2] in jobs()


def test_the_guides_first_steps_run(tmp_path):
    """The atu_flask helper, as the guide defines it (without switching user), on env.example: migrate an empty
    database and create the first administrator."""
    text = (DEPLOY / "README.md").read_text()
    found = re.search(r"atu_flask\(\) \{\n\s*runuser -u atu -- sh -c '([^']*)' atu_flask \"\$@\"\n\}", text)
    assert found, "the atu_flask helper is missing from deploy/README.md"
    env_file = tmp_path / "env"
    env_file.write_text(
        (DEPLOY / "env.example").read_text()
        + f"\nSECRET_KEY={secrets.token_hex(32)}\nDATABASE_URL=sqlite:///{tmp_path / 'atu.db'}\n"
    )
    script = found[1].replace("/etc/atu-facilities/env", str(env_file)).replace(INSTALL, str(ROOT))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    commands = {tuple(command[:2]): command for command in _guide_commands()}

    upgrade = _run(["sh", "-c", script, "atu_flask", *commands[("db", "upgrade")]], env=env)
    assert upgrade.returncode == 0, upgrade.stderr
    create = commands[("users", "create")]
    password = "first-admin-" + secrets.token_hex(4)
    created = _run(["sh", "-c", script, "atu_flask", *create], env=env, input=f"{password}\n{password}\n")
    assert created.returncode == 0, created.stdout + created.stderr
    assert f"Created admin {create[2]} at UPT" in created.stdout


# --- shell scripts -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["backup.sh", "restore.sh"])
def test_shell_scripts_parse(name):
    bash = _program("bash")
    path = DEPLOY / name
    assert path.read_text().startswith("#!/usr/bin/env bash\n")
    assert os.access(path, os.X_OK), f"{name} is not executable"
    result = _run([bash, "-n", str(path)])
    assert result.returncode == 0, result.stderr


def test_shell_scripts_refuse_bad_arguments_before_touching_a_database(tmp_path):
    bash = _program("bash")
    usage = _run([bash, str(DEPLOY / "restore.sh")])
    assert (usage.returncode, "usage:" in usage.stderr) == (2, True), usage.stderr
    missing = _run([bash, str(DEPLOY / "restore.sh"), str(tmp_path / "nothing.dump"), "scratch"])
    assert (missing.returncode, "cannot read" in missing.stderr) == (2, True), missing.stderr
    env = {**os.environ, "ATU_BACKUP_DIR": str(tmp_path / "b"), "ATU_BACKUP_KEEP_DAYS": "0"}
    keep = _run([bash, str(DEPLOY / "backup.sh")], env=env)
    assert (keep.returncode, "ATU_BACKUP_KEEP_DAYS" in keep.stderr) == (2, True), keep.stderr
    assert not (tmp_path / "b").exists()


# --- backup.sh and restore.sh against PostgreSQL --------------------------------------------------------------


@pytest.fixture
def scratch_databases() -> Iterator[tuple[str, str]]:
    """Two empty databases on TEST_DATABASE_URL's server (never that database itself), dropped afterwards."""
    raw = os.environ.get("TEST_DATABASE_URL")
    if not raw:
        pytest.skip("the backup round trip needs PostgreSQL: TEST_DATABASE_URL (.ci/run sets it)")
    _program("pg_dump")
    _program("pg_restore")
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(raw).set(drivername="postgresql")
    names = [f"atu_deploy_{os.getpid()}_{secrets.token_hex(3)}_{kind}" for kind in ("live", "drill")]
    with psycopg.connect(base.render_as_string(hide_password=False), autocommit=True) as admin:
        created = []
        try:
            for name in names:
                admin.execute(f'CREATE DATABASE "{name}"')
                created.append(name)
            yield tuple(base.set(database=name).render_as_string(hide_password=False) for name in names)
        except psycopg.errors.InsufficientPrivilege as exc:
            if len(created) == len(names):
                raise
            pytest.skip(f"TEST_DATABASE_URL's role may not create databases: {exc}")
        finally:
            for name in created:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    from app.extensions import db
    from app.factory import create_app
    from config import TestingConfig, database_url

    app = create_app(type("Config", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": database_url(url)}))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _contents(url: str) -> dict[str, object]:
    """What a restore must bring back: tables with their row counts, constraints, extensions, the migration."""
    import psycopg

    with psycopg.connect(url) as connection:
        tables = [row[0] for row in connection.execute("select tablename from pg_tables where schemaname = 'public'")]
        return {
            "rows": {table: connection.execute(f'select count(*) from "{table}"').fetchone()[0] for table in tables},
            "constraints": sorted(
                connection.execute(
                    "select conrelid::regclass::text, conname, contype from pg_constraint c "
                    "join pg_namespace n on n.oid = c.connamespace where n.nspname = 'public'"
                ).fetchall()
            ),
            "indexes": sorted(
                connection.execute("select indexname from pg_indexes where schemaname = 'public'").fetchall()
            ),
            "extensions": sorted(connection.execute("select extname from pg_extension").fetchall()),
            "migration": connection.execute("select version_num from alembic_version").fetchall(),
            "role": connection.execute("select current_user").fetchone()[0],
        }


def test_backup_and_restore_round_trip(scratch_databases, tmp_path):
    live, drill = scratch_databases
    _migrate(live)
    before = _contents(live)
    assert before["rows"]["institutions"] == 4 and ("btree_gist",) in before["extensions"]

    backups = tmp_path / "backups"
    backups.mkdir()
    day, now = 86400, time.time()
    expired = {
        "atu-facilities-20200101T023000Z.dump": now - 20 * day,
        "atu-facilities-20200102T023000Z.dump": now - 14 * day - 3600,
    }
    kept = {"atu-facilities-20200103T023000Z.dump": now - 13 * day - 3600, "someone-elses.dump": now - 30 * day}
    for name, mtime in {**expired, **kept}.items():
        (backups / name).write_bytes(b"old")
        os.utime(backups / name, (mtime, mtime))

    env = {**os.environ, "ATU_BACKUP_DATABASE": live, "ATU_BACKUP_DIR": str(backups), "ATU_BACKUP_KEEP_DAYS": "14"}
    backup = _run(["bash", str(DEPLOY / "backup.sh")], env=env)
    assert backup.returncode == 0, backup.stderr
    names = set(os.listdir(backups))
    written = sorted(names - set(expired) - set(kept))
    assert len(written) == 1 and re.fullmatch(r"atu-facilities-\d{8}T\d{6}Z\.dump", written[0]), names
    assert names == {written[0], *kept}, "older than 14 days: deleted; younger, or not ours: kept"
    dump = backups / written[0]
    assert dump.stat().st_mode & 0o077 == 0, "dumps are readable by their owner only"

    role = str(before["role"])
    for attempt in ("into an empty database", "over the first restore (--clean --if-exists)"):
        restore = _run(["bash", str(DEPLOY / "restore.sh"), str(dump), drill, role])
        assert restore.returncode == 0, f"{attempt}: {restore.stderr}"
        assert _contents(drill) == before, attempt

    broken = tmp_path / "broken.dump"
    broken.write_bytes(b"PGDMP but not really")
    refused = _run(["bash", str(DEPLOY / "restore.sh"), str(broken), drill])
    assert refused.returncode != 0
    assert _contents(drill) == before, "a refused restore changes nothing"


# --- nginx -------------------------------------------------------------------------------------------------


class _Upstream(BaseHTTPRequestHandler):
    """Stands in for gunicorn: answers every request with what it received, as JSON, and HSTS as the app does."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append((self.command, self.path, len(body)))
        payload = json.dumps(
            {"path": self.path, "length": len(body), "headers": {k.lower(): v for k, v in self.headers.items()}}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Strict-Transport-Security", HSTS)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, format, *args) -> None:
        pass


@dataclass
class Site:
    http: int
    https: int
    tls: ssl.SSLContext
    cert: Path
    seen: list[tuple[str, str, int]]
    acme: Path
    log: Path


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes
    tls_version: str | None = None
    json: dict = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, f"the site file no longer contains {old!r}: update tests/test_deploy.py"
    return text.replace(old, new)


def _site_for_loopback(tmp: Path, http_port: int, https_port: int, upstream: int) -> str:
    """The shipped site with only its addresses changed: loopback ports, files in tmp, the repository's static."""
    text = (DEPLOY / "nginx-atu-facilities.conf").read_text()
    text = re.sub(r"^\s*listen \[::\]:\d+.*$\n", "", text, flags=re.MULTILINE)  # IPv6 may be off in a container
    text = re.sub(r"listen 80\b", f"listen 127.0.0.1:{http_port}", text)
    text = re.sub(r"listen 443\b", f"listen 127.0.0.1:{https_port}", text)
    text = _replace(text, "/etc/ssl/atu/fullchain.pem", str(tmp / "cert.pem"))
    text = _replace(text, "/etc/ssl/atu/privkey.pem", str(tmp / "key.pem"))
    text = _replace(text, f"alias {INSTALL}/static/;", f"alias {ROOT}/static/;")
    text = _replace(text, "http://127.0.0.1:8000;", f"http://127.0.0.1:{upstream};")
    text = _replace(text, "/var/www/letsencrypt", str(tmp / "acme"))
    text = _replace(text, "/var/log/nginx/atu-facilities.access.log", str(tmp / "access.log"))
    text = _replace(text, "/var/log/nginx/atu-facilities.error.log", str(tmp / "error.log"))
    directives = re.sub(r"#.*", "", text)
    for outside in ("listen 80", "listen 443", "/etc/", "/var/", "/opt/", ":8000"):
        assert outside not in directives, f"{outside!r} left in the rewritten site"
    return text


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    nginx = _program("nginx")
    openssl = _program("openssl")
    tmp = tmp_path_factory.mktemp("nginx")
    made = _run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={HOST}",
         "-addext", f"subjectAltName=DNS:{HOST}", "-keyout", str(tmp / "key.pem"), "-out", str(tmp / "cert.pem")]
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    (tmp / "acme/.well-known/acme-challenge").mkdir(parents=True)

    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    upstream.daemon_threads = True
    upstream.seen = []
    serving = threading.Thread(target=upstream.serve_forever, daemon=True)
    serving.start()

    http_port, https_port = _free_port(), _free_port()
    (tmp / "site.conf").write_text(_site_for_loopback(tmp, http_port, https_port, upstream.server_address[1]))
    # The main configuration nginx.conf would give: the site included in http {}, files in tmp. As root, the
    # workers stay root so that they can read the repository wherever it is checked out.
    main = f"""{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
error_log {tmp}/error.log;
events {{ worker_connections 64; }}
http {{
    types {{ text/html html; text/css css; application/javascript js; text/plain txt; }}
    default_type application/octet-stream;
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
"""
    (tmp / "nginx.conf").write_text(main)
    argv = [nginx, "-e", str(tmp / "error.log"), "-p", f"{tmp}/", "-c", str(tmp / "nginx.conf")]
    argv += ["-g", f"daemon off; pid {tmp}/nginx.pid;"]

    process = None
    try:
        checked = _run([*argv, "-t"])
        assert checked.returncode == 0, "nginx -t refuses the site:\n" + checked.stderr
        with open(tmp / "nginx.out", "wb") as out:
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 15
        for port in (http_port, https_port):
            while True:
                if process.poll() is not None:
                    pytest.fail(f"nginx exited ({process.returncode}):\n{(tmp / 'error.log').read_text()}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"nginx is not listening on {port}:\n{(tmp / 'error.log').read_text()}")
                    time.sleep(0.02)
        tls = ssl.create_default_context(cafile=str(tmp / "cert.pem"))  # verified: the name and the chain
        yield Site(http_port, https_port, tls, tmp / "cert.pem", upstream.seen, tmp / "acme", tmp / "error.log")
    finally:
        if process is not None:
            # The whole group (master and workers) while the master is not yet reaped, so the id is still ours.
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        upstream.shutdown()
        upstream.server_close()
        serving.join(timeout=10)


class _SiteConnection(http.client.HTTPSConnection):
    """Dials nginx on loopback while naming the site's host (SNI, certificate check, Host header)."""

    def __init__(self, port: int, tls: ssl.SSLContext, server_name: str = HOST, source: str | None = None):
        super().__init__(server_name, port, timeout=10, context=tls, source_address=(source, 0) if source else None)
        self.tls = tls

    def connect(self) -> None:
        raw = socket.create_connection(("127.0.0.1", self.port), self.timeout, self.source_address)
        try:
            self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


def _https(site: Site, method: str, path: str, *, headers=None, body=None, tls=None, source=None) -> Answer:
    connection = _SiteConnection(site.https, tls or site.tls, source=source)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        version = connection.sock.version()
        response = connection.getresponse()
        answer = Answer(response.status, response.headers, response.read(), version)
    finally:
        connection.close()
    if answer.headers.get("Content-Type") == "application/json":
        answer.json = json.loads(answer.body)
    return answer


def _http(site: Site, path: str, host: str = HOST) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", site.http, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": host})
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def test_http_redirects_to_https(site):
    answer = _http(site, "/resources?q=lab")
    assert answer.status == 301
    assert answer.headers["Location"] == f"https://{HOST}/resources?q=lab"


def test_http_serves_lets_encrypt_challenges(site):
    (site.acme / ".well-known/acme-challenge/token-1").write_text("token-1.thumbprint")
    answer = _http(site, "/.well-known/acme-challenge/token-1")
    assert (answer.status, answer.body) == (200, b"token-1.thumbprint")


def test_other_host_names_are_refused(site):
    with pytest.raises(http.client.RemoteDisconnected):  # 444: closed without an answer
        _http(site, "/", host="other.example.org")
    no_check = ssl.create_default_context()
    no_check.check_hostname, no_check.verify_mode = False, ssl.CERT_NONE
    connection = _SiteConnection(site.https, no_check, server_name="other.example.org")
    with pytest.raises(ssl.SSLError):  # ssl_reject_handshake
        connection.connect()
    connection.close()


def test_https_speaks_tls_1_2_and_1_3_with_the_site_certificate(site):
    assert _https(site, "GET", "/").tls_version == "TLSv1.3"
    only_1_2 = ssl.create_default_context(cafile=str(site.cert))
    only_1_2.maximum_version = ssl.TLSVersion.TLSv1_2
    assert _https(site, "GET", "/", tls=only_1_2).tls_version == "TLSv1.2"


def test_https_refuses_tls_1_1(site):
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.check_hostname, old.verify_mode = False, ssl.CERT_NONE
    try:  # this Python's OpenSSL must be able to offer TLS 1.1 for the refusal to be nginx's
        old.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # that is the point
            old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    except (ValueError, ssl.SSLError) as exc:
        pytest.skip(f"this OpenSSL cannot offer TLS 1.1: {exc}")
    connection = _SiteConnection(site.https, old)
    try:
        with pytest.raises(ssl.SSLError) as refused:
            connection.connect()
    finally:
        connection.close()
    if refused.value.reason == "NO_PROTOCOLS_AVAILABLE":
        pytest.skip("this OpenSSL cannot offer TLS 1.1")
    assert refused.value.reason in {"TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL"}, refused.value


def test_proxied_requests_carry_what_the_app_believes(site):
    spoofed = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example"}
    answer = _https(site, "GET", "/resources?q=lab", headers=spoofed)
    assert answer.status == 200
    received = answer.json["headers"]
    assert answer.json["path"] == "/resources?q=lab"
    assert received["host"] == HOST
    assert received["x-forwarded-proto"] == "https"
    assert received["x-forwarded-host"] == HOST
    # nginx appends the client's address to whatever the client claimed ...
    assert received["x-forwarded-for"] == "203.0.113.7, 127.0.0.1"
    # ... and the app, trusting one proxy (app.factory.trust_proxies), takes nginx's word only.
    from app.factory import trust_proxies

    probe = Flask("probe")
    probe.config["TRUSTED_PROXIES"] = 1
    trust_proxies(probe)
    probe.add_url_rule("/resources", "probe", lambda: [request.remote_addr, request.scheme, request.host])
    forwarded = {key: value for key, value in received.items() if key.startswith("x-forwarded-")}
    believed = probe.test_client().get("/resources", headers=forwarded, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert believed.json == ["127.0.0.1", "https", HOST]
    # One HSTS header, not the app's and nginx's both.
    assert answer.headers.get_all("Strict-Transport-Security") == [HSTS]


def test_static_files_are_served_by_nginx_and_revalidated(site):
    before = len(site.seen)
    answer = _https(site, "GET", "/static/css/app.css")
    assert answer.status == 200
    assert answer.body == (ROOT / "static/css/app.css").read_bytes()
    assert answer.headers["Content-Type"].startswith("text/css")
    # Unversioned URLs: cached but revalidated, so an upgrade's CSS is seen at once.
    assert answer.headers.get_all("Cache-Control") == ["public, no-cache"]
    assert answer.headers.get_all("Strict-Transport-Security") == [HSTS]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    again = _https(site, "GET", "/static/css/app.css", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status == 304
    versioned = _https(site, "GET", "/static/css/app.css?v=3f2a")
    assert versioned.headers.get_all("Cache-Control") == ["public, max-age=2592000, immutable"]
    assert _https(site, "GET", "/static/css/missing.css").status == 404
    assert len(site.seen) == before, "static requests never reach the app"


def test_nothing_outside_static_is_served_from_disk(site):
    for path in ("/static/../config.py", "/static../config.py", "/static/%2e%2e/config.py"):
        answer = _https(site, "GET", path)
        assert b"DEV_SECRET_KEY" not in answer.body, path


def test_bodies_over_one_mebibyte_are_refused_by_nginx(site):
    before = len(site.seen)
    assert _https(site, "POST", "/api/v1/bookings", body=b"x" * (2 * 1024 * 1024)).status == 413
    assert len(site.seen) == before, "the app never saw it"
    # The app's own limit (MAX_CONTENT_LENGTH, 1 MiB) still passes nginx.
    answer = _https(site, "POST", "/api/v1/bookings", body=b"x" * (1024 * 1024))
    assert (answer.status, answer.json["length"]) == (200, 1024 * 1024)


def test_metrics_only_from_this_host(site):
    answer = _https(site, "GET", "/metrics")
    assert (answer.status, answer.json["path"]) == (200, "/metrics")
    before = len(site.seen)
    assert _https(site, "GET", "/metrics", source="127.0.0.2").status == 403
    assert len(site.seen) == before
