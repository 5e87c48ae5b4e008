"""Configuration classes; secrets and URLs come from the environment."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

# The alliance's zone: new resources', the statements' months, and days asked without a resource.
DEFAULT_TIMEZONE = "Europe/Bucharest"
# Known to everyone who reads this file: fine on a laptop, refused by ProductionConfig (app/security.py).
DEV_SECRET_KEY = "dev-only-insecure-key"


def database_url(raw: str | None) -> str:
    """Default to SQLite under instance/, and route PostgreSQL through psycopg 3."""
    if not raw:
        return f"sqlite:///{INSTANCE_DIR / 'atu.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    # No ping before each checkout (a round trip on every request): a connection lost to a database restart
    # fails its request with a 503 and Retry-After (app/errors.py), and the pool then replaces every
    # connection older than the loss. Connections are recycled after 30 minutes.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": False, "pool_recycle": 1800}
    # Requests larger than this are refused with 413 before any parsing.
    MAX_CONTENT_LENGTH = 1024 * 1024

    LANGUAGES = ("ro", "en")
    BABEL_DEFAULT_LOCALE = "ro"
    BABEL_DEFAULT_TIMEZONE = DEFAULT_TIMEZONE
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")

    API_TOKEN_TTL_HOURS = int(os.environ.get("API_TOKEN_TTL_HOURS", 24 * 30))
    # Argon2id cost; the defaults follow argon2-cffi's RFC 9106 low-memory profile.
    PASSWORD_HASH_TIME_COST = 3
    PASSWORD_HASH_MEMORY_COST = 65536

    # The sign-in budget (accounts/budget.py): LOGIN_RATE_LIMIT of failed sign-ins per client address and
    # per account, shared by the page and the API. Kept in the database (every process and host sees it)
    # unless RATELIMIT_STORAGE_URI names a shared store such as redis://host:6379 (memory:// = the database).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    # New bookings per user (administrators excepted), counted in the database in fixed windows.
    BOOKING_RATE_LIMIT = os.environ.get("BOOKING_RATE_LIMIT", "60 per hour")

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 25))
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "noreply@atu-facilities.ro")
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", 10))
    MAIL_BATCH = int(os.environ.get("MAIL_BATCH", 50))  # rows a send-mail run claims at a time
    IMPORT_ALLOW_PRIVATE_HOSTS = env_flag("IMPORT_ALLOW_PRIVATE_HOSTS")
    # Prime time of the reports, as opening hours in each resource's zone (JSON); unset: weekdays 09:00-17:00.
    REPORT_PRIME_TIME = json.loads(os.environ.get("REPORT_PRIME_TIME") or "null")
    # Reverse proxies in front of the app whose X-Forwarded-* headers are believed (app.factory.trust_proxies).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", 0))
    IMPORT_TIMEOUT_SECONDS = float(os.environ.get("IMPORT_TIMEOUT_SECONDS", 10))
    IMPORT_MEMORY_MB = int(os.environ.get("IMPORT_MEMORY_MB", 512))
    # The address feeds and links are built on (behind a proxy); defaults to the request's host.
    PUBLIC_URL = os.environ.get("PUBLIC_URL")
    # Logs (app/observability.py): "text" lines or "json" (one object per line); INFO includes one access line
    # per request. Tests leave logging to pytest.
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    # /metrics answers a request with `Authorization: Bearer METRICS_TOKEN`, or from loopback; anyone else gets a 404.
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # The language cookie follows SESSION_COOKIE_SECURE; the CSRF token lives in the session.
    STRICT_TRANSPORT_SECURITY: str | None = None
    REQUIRE_SECRET_KEY = False


class DevelopmentConfig(Config):
    DEBUG = True


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    WTF_CSRF_ENABLED = False
    # Cheap hashing keeps the suite fast; the algorithm is still Argon2id.
    PASSWORD_HASH_TIME_COST = 1
    PASSWORD_HASH_MEMORY_COST = 1024
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    # Booking rules see this instant as "now" (a Monday morning in Bucharest), so dated tests stay valid.
    CLOCK_NOW = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)


class ProductionConfig(Config):
    # Served over HTTPS only (behind a proxy that terminates TLS): every cookie Secure, browsers told so.
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"
    REQUIRE_SECRET_KEY = True  # create_app refuses a missing key or DEV_SECRET_KEY
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")  # for the journal and a log shipper


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
