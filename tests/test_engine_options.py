"""The engine's options: PostgreSQL connections run without JIT compilation (app.database.engine_options)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.database import KEEPALIVES, engine_options
from app.extensions import db


def test_postgresql_connections_have_jit_off(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    assert db.session.execute(text("SHOW jit")).scalar() == "off"


def test_the_option_keeps_what_was_configured_and_leaves_sqlite_alone():
    configured = {"pool_recycle": 1800, "connect_args": {"options": "-c statement_timeout=5000", "connect_timeout": 3}}
    options = engine_options("postgresql+psycopg://db/atu", configured)
    assert options["pool_recycle"] == 1800
    assert options["connect_args"] == {
        "options": "-c statement_timeout=5000 -c jit=off",
        "connect_timeout": 3,
        **KEEPALIVES,
    }
    assert configured["connect_args"]["options"] == "-c statement_timeout=5000"  # the config is not changed
    assert engine_options("sqlite:///atu.db", configured) is configured
    # What the URL says wins over the defaults.
    from_url = engine_options("postgresql+psycopg://db/atu?connect_timeout=9&keepalives_idle=60", {})
    assert "connect_timeout" not in from_url["connect_args"] and "keepalives_idle" not in from_url["connect_args"]
    assert from_url["connect_args"]["tcp_user_timeout"] == 15_000


def test_postgresql_connections_carry_the_keepalives(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("libpq's keepalives")
    with db.engine.connect() as connection:
        dsn = connection.connection.driver_connection.info.dsn  # what libpq was given
    assert "keepalives_idle=10" in dsn and "tcp_user_timeout=15000" in dsn
