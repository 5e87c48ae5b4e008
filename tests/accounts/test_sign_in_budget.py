"""One sign-in budget per client address and per account, shared by the sign-in page and
`POST /api/v1/auth/tokens`, and by every process on the database (issue 12, item 7).

The failures are written on their own connection (a refused sign-in rolls its request back), so
these tests commit for real."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from accounts import budget
from accounts.models import SignInFailure
from app.database import utcnow
from app.extensions import db
from app.factory import create_app
from tests.conftest import ENGLISH, PASSWORD, _config_for

pytestmark = pytest.mark.committed

LIMITED = {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}


@pytest.fixture
def app_config():
    return LIMITED


def page(app: Flask, email: str, password: str = "wrong-password", address: str = "127.0.0.1") -> int:
    client = app.test_client()
    data = {"email": email, "password": password}
    return client.post("/login", data=data, headers=ENGLISH, environ_base={"REMOTE_ADDR": address}).status_code


def api(
    app: Flask, email: str, password: str = "wrong-password", address: str = "127.0.0.1", forwarded: str = ""
) -> int:
    client = app.test_client()
    body = {"email": email, "password": password}
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    environ = {"REMOTE_ADDR": address}
    return client.post("/api/v1/auth/tokens", json=body, headers=headers, environ_base=environ).status_code


@pytest.fixture
def second_app(database: str) -> Iterator[Flask]:
    """Another instance of the app (another worker or host) on the same database."""
    other = create_app(_config_for(database, **LIMITED))
    yield other
    with other.app_context():
        db.engine.dispose()


def test_page_and_api_share_one_budget(app, make_user):
    user = make_user()
    assert [page(app, user.email), api(app, user.email), page(app, user.email)] == [422, 401, 422]
    assert api(app, user.email) == 429
    assert page(app, user.email) == 429
    # Even the right password is refused while the budget is spent.
    assert api(app, user.email, PASSWORD) == 429
    assert page(app, user.email, PASSWORD) == 429


def test_the_refusal_is_a_problem_with_retry_after_and_a_page_that_says_why(app, make_user):
    user = make_user()
    for _ in range(3):
        api(app, user.email)
    refused = app.test_client().post("/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD})
    assert refused.status_code == 429
    assert refused.content_type == "application/problem+json"
    assert refused.headers["Retry-After"]
    again = app.test_client().post("/login", data={"email": user.email, "password": "x"}, headers=ENGLISH)
    assert again.status_code == 429 and "Too many attempts" in again.text


def test_two_app_instances_share_the_budget(app, second_app, make_user):
    user = make_user()
    assert page(app, user.email) == 422
    assert api(second_app, user.email) == 401
    assert page(app, user.email) == 422
    assert api(second_app, user.email) == 429
    assert page(app, user.email) == 429


def test_the_account_budget_holds_across_addresses(app, make_user):
    user = make_user()
    codes = [api(app, user.email, address=f"127.0.0.{n}") for n in range(2, 6)]
    assert codes == [401, 401, 401, 429]
    # Unknown accounts have a budget too (nothing tells whether an account exists).
    codes = [api(app, "nobody@uvt.example.org", address=f"127.0.1.{n}") for n in range(2, 6)]
    assert codes == [401, 401, 401, 429]


def test_the_address_budget_holds_across_accounts(app, make_user):
    users = [make_user() for _ in range(4)]
    codes = [page(app, user.email, address="127.0.0.9") for user in users]
    assert codes == [422, 422, 422, 429]
    assert api(app, users[3].email, PASSWORD, address="127.0.0.9") == 429


def test_invented_forwarded_addresses_buy_no_fresh_budget(app):
    """With no trusted proxy (the default), X-Forwarded-For is anyone's to write: it is ignored."""
    codes = [api(app, f"guess{n}@uvt.example.org", forwarded=f"198.51.100.{n}") for n in range(4)]
    assert codes == [401, 401, 401, 429]


class TestBehindOneProxy:
    @pytest.fixture
    def app_config(self):
        return {**LIMITED, "TRUSTED_PROXIES": 1}

    def test_each_client_the_proxy_names_has_its_own_budget(self, app):
        proxy = "10.0.0.5"
        first = [api(app, f"a{n}@uvt.example.org", address=proxy, forwarded="198.51.100.7") for n in range(4)]
        assert first == [401, 401, 401, 429]
        other = api(app, "b@uvt.example.org", address=proxy, forwarded="203.0.113.9")
        assert other == 401  # another client behind the same proxy still has its budget
        # Only the hop the proxy added is believed: a client's own X-Forwarded-For entry is not.
        spoofed = api(app, "c@uvt.example.org", address=proxy, forwarded="192.0.2.1, 198.51.100.7")
        assert spoofed == 429


def test_others_failures_do_not_block_a_right_password(app, make_user):
    victim, other = make_user(), make_user()
    for n in range(2, 6):
        api(app, victim.email, address=f"127.0.0.{n}")
    # Another account, from another address, signs in at once on both faces.
    assert api(app, other.email, PASSWORD, address="127.0.2.1") == 201
    assert page(app, other.email, PASSWORD, address="127.0.2.1") == 302


def test_successes_spend_nothing(app, make_user):
    user = make_user()
    assert [api(app, user.email, PASSWORD) for _ in range(5)] == [201] * 5


def test_old_failures_are_pruned_and_no_longer_count(app, make_user):
    user = make_user()
    long_ago = utcnow() - timedelta(minutes=5)
    db.session.add_all(SignInFailure(key=f"account:{user.email}", at=long_ago) for _ in range(5))
    db.session.commit()
    assert api(app, user.email) == 401
    assert db.session.scalar(select(func.count()).where(SignInFailure.at < utcnow() - timedelta(minutes=1))) == 0
    assert api(app, user.email) == 401


def test_limits_off_records_nothing(app, make_user):
    app.config["RATELIMIT_ENABLED"] = False
    user = make_user()
    assert [api(app, user.email) for _ in range(5)] == [401] * 5
    assert db.session.scalar(select(func.count()).select_from(SignInFailure)) == 0


@pytest.fixture
def redis_uri() -> Iterator[str]:
    """The machine's Redis (CI has one on 127.0.0.1:6379); this test's keys under a prefix of its own."""
    import redis

    uri = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(uri, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    yield uri


def test_a_shared_store_such_as_redis_is_used_when_configured(database, make_user, redis_uri):
    """With RATELIMIT_STORAGE_URI naming Redis, two instances of the app (two workers or hosts) spend one
    budget there, and the database keeps no failures."""
    settings = {
        **LIMITED,
        "RATELIMIT_STORAGE_URI": redis_uri,
        "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": f"atu-test-{uuid.uuid4().hex}"},
    }
    first, second = create_app(_config_for(database, **settings)), create_app(_config_for(database, **settings))
    email = make_user().email
    try:
        assert [api(first, email), page(second, email), api(first, email)] == [401, 422, 401]
        assert page(second, email) == 429
        assert db.session.scalar(select(func.count()).select_from(SignInFailure)) == 0
        with first.app_context():
            budget._store().reset()  # type: ignore[union-attr]  # this test's keys only (its prefix)
    finally:
        for app_ in (first, second):
            with app_.app_context():
                db.engine.dispose()
