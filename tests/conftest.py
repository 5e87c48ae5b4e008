"""Fixtures: the app on a real database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set),
schema from the real migrations, and factories.

Apps. An app is built once per database, isolation and configuration (`app_config`) and reset
after each test (configuration, rate limiter); a test that changes the app itself, such as adding
routes, is marked `@pytest.mark.own_app` and gets one of its own.

Isolation. By default a test runs inside one outer transaction on one connection, rolled back at
the end: every session of the test (its own, and one per request made through the client) joins
that transaction, so their commits are savepoints ("joining a session into an external
transaction" in the SQLAlchemy docs). A test whose data must really be committed, because another
connection, thread or process reads it (gunicorn, a live server, scheduler processes, Alembic),
is marked `@pytest.mark.committed`: it commits for real and every table is emptied afterwards.
"""

from __future__ import annotations

import contextvars
import os
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import Connection, Engine

from accounts import services as accounts
from accounts.models import User
from app import clock
from app.extensions import db, limiter
from app.factory import create_app
from app.zones import to_utc
from bookings import services as bookings
from bookings.models import Booking, Status
from config import TestingConfig, database_url
from events import services as events
from events.models import Event
from resources import services as catalogue
from resources.models import Block, Resource
from tests.openapi_check import check_api_responses  # noqa: F401  # every /api/v1 answer matches the document

PASSWORD = "correct-horse-9"
ENGLISH = {"Accept-Language": "en"}
SEEDED_TABLES = {"institutions", "alembic_version"}


def _config_for(url: str, **overrides: Any) -> type:
    return type("Config", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url, **overrides})


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory) -> Iterator[str]:
    """The database URL of one backend, migrated once per test session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    else:
        raw = os.environ.get("TEST_DATABASE_URL")
        if not raw:
            if os.environ.get("REQUIRE_POSTGRES"):
                pytest.fail("REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not")
            pytest.skip("PostgreSQL tests need TEST_DATABASE_URL (.ci/run sets it)")
        url = database_url(raw)
    app = create_app(_config_for(url))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # A reused database starts clean, so the real migrations run from zero.
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        db.engine.dispose()
    yield url
    leftovers = _rows_left(url)
    assert not leftovers, (
        f"rows left behind by a test (a rolled-back test wrote through another connection?): {leftovers}"
    )


def _rows_left(url: str) -> dict[str, int]:
    """Rows in the tables every test must leave empty, once the whole session has run."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            counts = {
                table.name: connection.scalar(select(func.count()).select_from(table))
                for table in db.metadata.sorted_tables
                if table.name not in SEEDED_TABLES
            }
    finally:
        engine.dispose()
    return {name: count for name, count in counts.items() if count}


def _empty_tables() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in SEEDED_TABLES]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(t.name for t in tables)} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@contextmanager
def _emptied_afterwards() -> Iterator[None]:
    """Commits are real (other connections see them); every table is emptied after the test."""
    try:
        yield
    finally:
        db.session.rollback()
        _empty_tables()
        db.session.remove()


class _ConnectionFirst:
    """Flask-SQLAlchemy picks the engine by bind key and ignores `Session(bind=...)`;
    under rollback isolation the test's connection must win."""

    bind: Engine | Connection | None

    def get_bind(self, *args: Any, **kwargs: Any) -> Engine | Connection:
        if isinstance(self.bind, Connection):
            return self.bind
        return super().get_bind(*args, **kwargs)  # type: ignore[misc]


def _sqlite_begins_transactions(engine: Engine) -> None:
    """pysqlite's legacy transaction control sends no BEGIN before a SAVEPOINT, so releasing the
    first savepoint would commit for real; SQLAlchemy emits BEGIN itself instead (SQLAlchemy docs,
    SQLite "Enabling Non-Legacy SQLite Transactional Modes", the hooks for Python < 3.12)."""

    @event.listens_for(engine, "connect")
    def _no_driver_begin(dbapi_connection, connection_record) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


@contextmanager
def _rolled_back_afterwards() -> Iterator[None]:
    """One outer transaction on one connection, rolled back after the test.

    Every session made during the test (db.session is scoped to the app context, and each client
    request has its own) is bound to that connection with join_transaction_mode="create_savepoint":
    a commit releases a savepoint, a rollback returns to it, and the outer transaction survives both.
    """
    connection = db.engine.connect()
    outer = connection.begin()
    factory = db.session.session_factory
    saved_class, saved_kw = factory.class_, dict(factory.kw)
    factory.class_ = type("JoinedSession", (_ConnectionFirst, saved_class), {})
    factory.kw.update(bind=connection, join_transaction_mode="create_savepoint")
    db.session.remove()
    try:
        yield
    finally:
        db.session.remove()
        factory.class_ = saved_class
        factory.kw.clear()
        factory.kw.update(saved_kw)
        outer.rollback()
        connection.close()


def keeps_committed_data(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("committed") is not None


class IsolatedClient(FlaskClient):
    """Each request gets its own app context, as in production.

    Without this, a request would reuse the test's app context and its `g`
    (cached locale, loaded user, database session) from the previous request.
    """

    def open(self, *args: Any, **kwargs: Any):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override in a test module to change configuration."""
    return {}


class _Apps:
    """Apps built once per database, isolation and configuration, and reset after each test.

    Building an app (blueprints, a hundred URL rules compiled, Jinja templates compiled on first
    render) costs more than most tests. Between tests an app gets its configuration back and the
    rate limiter fresh storage; a test that changes the app itself (adds routes) is marked `own_app`.
    """

    SIZE = 16

    def __init__(self) -> None:
        self._apps: OrderedDict[tuple, tuple[Flask, dict[str, Any]]] = OrderedDict()

    def get(self, database: str, app_config: dict[str, Any], committed: bool) -> tuple[Flask, dict[str, Any]]:
        key = (database, committed, repr(sorted(app_config.items())))
        if key in self._apps:
            self._apps.move_to_end(key)
            return self._apps[key]
        app = self.build(database, app_config, committed)
        self._apps[key] = (app, dict(app.config))
        while len(self._apps) > self.SIZE:
            self.dispose(self._apps.popitem(last=False)[1][0])
        return self._apps[key]

    @staticmethod
    def build(database: str, app_config: dict[str, Any], committed: bool) -> Flask:
        app = create_app(_config_for(database, **app_config))
        app.test_client_class = IsolatedClient
        with app.app_context():
            if not committed and db.engine.dialect.name == "sqlite":
                _sqlite_begins_transactions(db.engine)
        return app

    @staticmethod
    def dispose(app: Flask) -> None:
        with app.app_context():
            db.engine.dispose()

    def close(self) -> None:
        while self._apps:
            self.dispose(self._apps.popitem()[1][0])


@pytest.fixture(scope="session")
def _apps() -> Iterator[_Apps]:
    apps = _Apps()
    yield apps
    apps.close()


@pytest.fixture
def app(database: str, _apps: _Apps, app_config: dict[str, Any], request: pytest.FixtureRequest) -> Iterator[Flask]:
    committed = keeps_committed_data(request)
    own = request.node.get_closest_marker("own_app") is not None
    if own:
        app, config = _Apps.build(database, app_config, committed), {}
    else:
        app, config = _apps.get(database, app_config, committed)
    # Flask-Limiter is one global object that the last init_app configured: configure it for this
    # app again (a reused app also gets empty counters).
    limiter.init_app(app)
    isolation = _emptied_afterwards if committed else _rolled_back_afterwards
    with app.app_context():
        try:
            with isolation():
                yield app
        finally:
            if own:
                db.engine.dispose()
            else:
                app.config.clear()
                app.config.update(config)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(institution: str = "UVT", role: str = "member", email: str | None = None, **kwargs: Any) -> User:
        email = email or f"{role}{next(counter)}@{institution.lower()}.example.org"
        user = accounts.create_user(
            email=email, password=kwargs.pop("password", PASSWORD), institution_code=institution, role=role, **kwargs
        )
        db.session.commit()
        return user

    return make


@pytest.fixture
def admin(make_user) -> User:
    return make_user("UVT", "admin")


@pytest.fixture
def make_resource(app: Flask, admin: User) -> Callable[..., Resource]:
    counter = iter(range(1, 10_000))

    def make(institution: str = "UVT", kind: str = "lab", **fields: Any) -> Resource:
        values = {"name": f"Resource {next(counter)}", "kind": kind, "institution": institution, **fields}
        resource = catalogue.create_resource(admin, values)
        db.session.commit()
        return resource

    return make


# Factories for bookings, blocks and events. Naive datetimes are wall-clock time at the resource,
# as the services read them; the default is Tuesday 10 November 2026, 10:00-11:00 (after CLOCK_NOW).
TEN, ELEVEN = datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 11)


@pytest.fixture
def make_booking(app: Flask, admin: User, make_user, make_resource) -> Callable[..., Booking]:
    """Book through the real service (rules, conflict check, audit, mail queue) and commit.

    A `status` the rules would not give by themselves is reached through the real services too:
    an admin decides a pending request (confirmed or rejected), the requester cancels.
    """

    def make(
        resource: Resource | None = None,
        user: User | None = None,
        start: datetime | date = TEN,
        end: datetime | date = ELEVEN,
        *,
        title: str = "Sesiune",
        status: str | None = None,
        now: datetime | None = None,
        **fields: Any,
    ) -> Booking:
        resource = resource or make_resource()
        user = user or make_user()
        now = now or clock.now()
        booking, _ = bookings.create_booking(
            user, resource_id=resource.id, start=start, end=end, title=title, now=now, **fields
        )
        if status is not None and status != booking.status:
            if status == Status.CANCELLED:
                bookings.cancel_booking(user, booking.id, now=now)
            elif booking.status == Status.PENDING and status in (Status.CONFIRMED, Status.REJECTED):
                bookings.decide_booking(admin, booking.id, approve=status == Status.CONFIRMED, now=now)
            else:
                raise ValueError(f"a {booking.status} booking cannot be made {status}")
        db.session.commit()
        return booking

    return make


@pytest.fixture
def make_block(app: Flask, admin: User, make_resource) -> Callable[..., Block]:
    """A manual block through the real service, by an admin unless `by` is given; an imported
    block (`source="import"`, the feed importer's rows) is inserted as the importer does."""

    def make(
        resource: Resource | None = None,
        start: datetime = TEN,
        end: datetime = ELEVEN,
        *,
        reason: str = "",
        source: str = "manual",
        by: User | None = None,
        **fields: Any,
    ) -> Block:
        resource = resource or make_resource()
        if source == "manual":
            block = catalogue.create_block(by or admin, resource.id, start=start, end=end, reason=reason)
        else:
            block = Block(
                resource_id=resource.id,
                start_at=to_utc(start, resource.timezone),
                end_at=to_utc(end, resource.timezone),
                reason=reason,
                source=source,
                **fields,
            )
            db.session.add(block)
        db.session.commit()
        return block

    return make


@pytest.fixture
def make_event(app: Flask, make_user) -> Callable[..., Event]:
    """A joint event through the real service: every item booked under the usual rules, or none.

    Items are dicts like the API's: {"resource": r (or "resource_id"), "start", "end", "units", "title"}.
    """

    def make(
        *items: dict[str, Any], organiser: User | None = None, title: str = "Simpozion ATU", **fields: Any
    ) -> Event:
        wanted = []
        for item in items:
            item = dict(item)
            resource = item.pop("resource", None)
            if resource is not None:
                item["resource_id"] = resource.id
            wanted.append(events.Item(**item))
        event = events.create_event(
            organiser or make_user(), title=title, items=wanted, now=fields.pop("now", None) or clock.now(), **fields
        )
        db.session.commit()
        return event

    return make


class ApiAuth:
    """Bearer headers for users, issued through the real token endpoint."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def token(self, user: User, password: str = PASSWORD) -> str:
        response = self.client.post("/api/v1/auth/tokens", json={"email": user.email, "password": password})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["token"]

    def headers(self, user: User) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}


@pytest.fixture
def api_auth(client: FlaskClient) -> ApiAuth:
    return ApiAuth(client)


class AuthActions:
    """Sign in and out through the HTML pages, like the Flask tutorial's helper."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, email: str, password: str = PASSWORD, follow: bool = False):
        return self.client.post(
            "/login", data={"email": email, "password": password}, follow_redirects=follow, headers=ENGLISH
        )

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


class Api:
    """A tiny API client bound to one user's token."""

    def __init__(self, client, headers: dict[str, str]):
        self.client, self.headers = client, headers

    def book(self, resource, start: str, end: str, expect: int | None = 201, **fields: Any):
        headers = {**self.headers, **fields.pop("extra_headers", {})}
        body = {
            "resource_id": resource.id if hasattr(resource, "id") else resource,
            "start": start,
            "end": end,
            "title": fields.pop("title", "Sesiune"),
            **fields,
        }
        response = self.client.post("/api/v1/bookings", json=body, headers=headers)
        if expect is not None:
            assert response.status_code == expect, response.get_json()
        return response.get_json()

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, json=None):
        return self.client.post(path, json=json if json is not None else {}, headers=self.headers)

    def patch(self, path: str, json):
        return self.client.patch(path, json=json, headers=self.headers)

    def delete(self, path: str, **kwargs):
        return self.client.delete(path, headers=self.headers, **kwargs)


@pytest.fixture
def api_for(client, api_auth):
    def make(user) -> Api:
        return Api(client, api_auth.headers(user))

    return make


@pytest.fixture
def member(make_user):
    return make_user("UVT", "member")


@pytest.fixture
def api(api_for, member) -> Api:
    return api_for(member)
