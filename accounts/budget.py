"""The sign-in budget: failed sign-ins counted per client address and per account.

One budget for the sign-in page and `POST /api/v1/auth/tokens`, shared by every process and host:
kept in the database (`sign_in_failures`) by default, or in the store `RATELIMIT_STORAGE_URI` names
when it is not `memory://` (e.g. Redis), through the `limits` package Flask-Limiter uses. Both keys
have `LOGIN_RATE_LIMIT` (e.g. "10 per minute"); once either is spent, sign-in is refused with 429
before the password is checked. `RATELIMIT_ENABLED = False` (the tests' default) turns it off.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import delete, func, insert, select
from werkzeug.exceptions import TooManyRequests

from accounts.models import SignInFailure
from app.database import utcnow
from app.extensions import db

_STORES: dict[str, Storage] = {}


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def _limit() -> RateLimitItem:
    return parse(current_app.config["LOGIN_RATE_LIMIT"])


def _keys(email: str) -> list[str]:
    return [f"address:{get_remote_address() or '-'}", f"account:{email.strip().lower()[:254]}"]


def _store() -> Storage | None:
    uri = current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if uri.startswith("memory://"):
        return None  # per process only: the database holds the budget instead
    if uri not in _STORES:
        _STORES[uri] = storage_from_string(uri)
    return _STORES[uri]


def _limiter(store: Storage) -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(store)  # type: ignore[arg-type]


def check(email: str) -> None:
    """Refuse (429) when the address or the account has spent its budget of failures."""
    if not _enabled():
        return
    limit, store, keys = _limit(), _store(), _keys(email)
    if store is not None:
        limiter = _limiter(store)
        if not all(limiter.test(limit, "sign-in", key) for key in keys):
            raise TooManyRequests()
        return
    since = utcnow() - timedelta(seconds=limit.get_expiry())
    # Its own connection: the request's transaction may not be committed (a refusal rolls back).
    with db.engine.connect() as connection:
        counts = connection.execute(
            select(SignInFailure.key, func.count())
            .where(SignInFailure.key.in_(keys), SignInFailure.at > since)
            .group_by(SignInFailure.key)
        ).all()
    if any(count >= limit.amount for _, count in counts):
        raise TooManyRequests()


def record_failure(email: str) -> None:
    """Spend one attempt of the address's and the account's budget, committed at once."""
    if not _enabled():
        return
    limit, store, keys = _limit(), _store(), _keys(email)
    if store is not None:
        limiter = _limiter(store)
        for key in keys:
            limiter.hit(limit, "sign-in", key)
        return
    now = utcnow()
    with db.engine.begin() as connection:
        connection.execute(insert(SignInFailure), [{"key": key, "at": now} for key in keys])
        connection.execute(delete(SignInFailure).where(SignInFailure.at <= now - timedelta(seconds=limit.get_expiry())))
