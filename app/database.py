"""Declarative base, naming conventions, the UTC datetime column type, and the transaction rule.

The transaction rule: a request, a job run or a CLI command is one unit of work. The request hook
(`register_transactions`) commits once after the view when the answer is a success (below 400) and
rolls back otherwise; jobs and commands run inside `unit_of_work()`. Views, API functions and services
only flush: they never commit or roll back. A service that must undo part of its own work (a dry run,
a refused all-or-nothing change, the database's double-booking backstop) uses a savepoint,
`db.session.begin_nested()`, so the caller's transaction stays usable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Float, MetaData, cast, event, extract
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

# Stable constraint names let Alembic alter tables on SQLite (batch mode) and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """An instant: aware UTC in Python, timestamptz on PostgreSQL, naive UTC text on SQLite.

    Naive datetimes are refused on the way in, so a local time can never be
    stored by mistake.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    # Only SQLite needs these: foreign keys are off by default there, and WAL
    # lets readers proceed while one writer holds the lock.
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


@event.listens_for(Engine, "savepoint")
def _sqlite_savepoint_inside_transaction(conn, name) -> None:
    # pysqlite opens a transaction only at the first INSERT/UPDATE/DELETE. A SAVEPOINT issued before
    # that would open the outermost transaction itself, and releasing it would commit for real (the
    # request's later rollback could not undo it). Begin first, so a savepoint is always nested; and
    # IMMEDIATE, as a savepoint is there to write: the write lock is taken before anything is read, so
    # no read snapshot can go stale under the write (see availability.busy.lock_resources).
    # Only here, not on every transaction (SQLAlchemy's general pysqlite recipe): a read-only request
    # must not hold a snapshot, nor the write lock.
    if conn.dialect.name != "sqlite":
        return
    dbapi_connection = conn.connection.dbapi_connection
    if not dbapi_connection.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


# Seconds a new PostgreSQL connection may take (libpq's connect_timeout; its default is to wait for ever):
# while the database host is unreachable, a request or a job fails with a 503 this fast instead of
# holding a worker thread for the operating system's TCP timeout (two minutes and more).
CONNECT_TIMEOUT_SECONDS = 3
# A host that vanishes without closing its connections (a failover, a cable): TCP keepalives and
# tcp_user_timeout make a query on such a connection fail within about 15 s instead of the kernel's 15 minutes.
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 15_000,
}


def engine_options(uri: str, options: dict[str, Any]) -> dict[str, Any]:
    """The engine's options for `uri`. On PostgreSQL, JIT compilation is off for every connection (a startup
    parameter, no round trip): it compiled the reports' year-long aggregates for 1.2 s to run them in 0.2 s,
    and no query of this application runs long enough to pay for it. A connection attempt gives up after
    CONNECT_TIMEOUT_SECONDS, and a connection to a host gone silent fails within about 15 s (KEEPALIVES),
    unless the configuration or the URL (`?connect_timeout=`, ...) says otherwise."""
    if not uri.startswith("postgresql"):
        return options
    connect_args = dict(options.get("connect_args", {}))
    connect_args["options"] = f"{connect_args.get('options', '')} -c jit=off".strip()
    query = make_url(uri).query
    if "connect_timeout" not in query:
        connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
    for name, value in KEEPALIVES.items():
        if name not in query:
            connect_args.setdefault(name, value)
    return {**options, "connect_args": connect_args}


class _EpochSeconds(FunctionElement):
    type = Float()
    inherit_cache = True


@compiles(_EpochSeconds)
def _epoch_default(element: _EpochSeconds, compiler: Any, **kw: Any) -> str:
    return compiler.process(cast(extract("epoch", *element.clauses), Float), **kw)


@compiles(_EpochSeconds, "sqlite")
def _epoch_sqlite(element: _EpochSeconds, compiler: Any, **kw: Any) -> str:
    # unixepoch() (SQLite 3.38) reads the stored text directly: a fifth cheaper than strftime('%s').
    return f"CAST(unixepoch({compiler.process(element.clauses, **kw)}) AS REAL)"


def epoch_seconds(column: Any) -> Any:
    """An instant column as seconds since 1970 (a float), in SQL on either database: sums and differences of
    times computed by the database, and rows read as numbers instead of datetimes."""
    return _EpochSeconds(column)


def upsert(model: type, session: Any) -> Any:
    """INSERT … ON CONFLICT for `model` in the dialect the session is bound to (PostgreSQL or SQLite both
    spell it the same way once built): `.values(...).on_conflict_do_update(...)` on the result."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


def render_item(type_: str, obj, autogen_context):
    """Migrations spell UTCDateTime as the plain column type, so they never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("import sqlalchemy as sa")
        return "sa.DateTime(timezone=True)"
    return False


def escape_like(term: str) -> str:
    """`term` matched literally inside a LIKE pattern (used with escape="\\\\")."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
