"""Budgets: failed sign-ins per client address and per account, and new bookings per user.

The sign-in budget:

One budget for the sign-in page and `POST /api/v1/auth/tokens`, shared by every process and host:
kept in the database (`sign_in_failures`) by default, or in the store `RATELIMIT_STORAGE_URI` names
when it is not `memory://` (e.g. Redis), through the `limits` package Flask-Limiter uses. Both keys
have `LOGIN_RATE_LIMIT` (e.g. "10 per minute"); once either is spent, sign-in is refused with 429
before the password is checked.

The booking budget: `BOOKING_RATE_LIMIT` (e.g. "60 per hour") new bookings per user in fixed windows,
counted by one upsert on `usage_counters` inside the transaction that books. A refused or rolled-back
booking spends nothing (which a store outside the transaction could not promise), and concurrent
requests of one user queue on the counter's row, so the limit is exact across processes and hosts.
Each item of a joint event is a booking and spends one. Administrators are not limited.

`RATELIMIT_ENABLED = False` (the tests' and the bench's default) turns both off.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import delete, func, insert, select
from werkzeug.exceptions import TooManyRequests

from accounts.models import Role, SignInFailure, UsageCounter, User
from app.database import upsert, utcnow
from app.errors import RateLimited
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
    options = current_app.config.get("RATELIMIT_STORAGE_OPTIONS") or {}
    key = f"{uri} {sorted(options.items())}"
    if key not in _STORES:
        # A synchronous URI gives a synchronous store (redis:// needs the redis package, in requirements.txt).
        _STORES[key] = storage_from_string(uri, **options)  # type: ignore[assignment]
    return _STORES[key]


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


def spend(key: str, limit: RateLimitItem, now: datetime, amount: int = 1) -> int | None:
    """Add `amount` to `key`'s count in the fixed window holding `now`, in the caller's transaction.

    Returns the seconds until the window ends when that takes the count past the limit (the caller
    refuses, and its rollback takes the amount back), else None."""
    period = limit.get_expiry()
    moment = int(now.timestamp())
    window = moment - moment % period
    counter = upsert(UsageCounter, db.session)
    statement = (
        counter.values(key=key, window_start=window, count=amount)
        .on_conflict_do_update(
            index_elements=[UsageCounter.key, UsageCounter.window_start],
            set_={"count": UsageCounter.count + counter.excluded.count},
        )
        .returning(UsageCounter.count)
    )
    count = db.session.execute(statement).scalar_one()
    return window + period - moment if count > limit.amount else None


def spend_booking(user: User, now: datetime) -> None:
    """Count one new booking of `user`; refuse (429) the one past `BOOKING_RATE_LIMIT`."""
    if not _enabled() or user.role == Role.ADMIN:
        return
    limit = parse(current_app.config["BOOKING_RATE_LIMIT"])
    wait = spend(f"bookings:user:{user.id}", limit, now)
    if wait is not None:
        raise RateLimited(
            _l(
                "You can make at most %(amount)d new bookings in %(minutes)d minutes. Try again in %(wait)d min.",
                amount=limit.amount,
                minutes=max(1, limit.get_expiry() // 60),
                wait=-(-wait // 60),
            ),
            retry_after=wait,
        )


def purge_counters(now: datetime) -> int:
    """Delete the counts of windows that ended more than a day ago (no limit looks back that far)."""
    cutoff = int(now.timestamp()) - 86_400 - parse(current_app.config["BOOKING_RATE_LIMIT"]).get_expiry()
    result = db.session.execute(delete(UsageCounter).where(UsageCounter.window_start < cutoff))
    return result.rowcount  # type: ignore[attr-defined]  # a CursorResult for DELETE
