"""Application factory."""

from __future__ import annotations

import hashlib
import mimetypes
import os
from functools import lru_cache

from flask import Flask, redirect, url_for
from sqlalchemy import text
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

import notifications.models  # noqa: F401  (the outbox table belongs to the schema)
import reports.models  # noqa: F401  (so do the refusal counts)
from accounts.views import bp as accounts_views
from accounts.views import load_user
from app.api import register_api
from app.cli import register_commands
from app.database import engine_options, render_item
from app.errors import register_error_handlers as register
from app.extensions import babel, csrf, db, limiter, login_manager, migrate
from app.i18n import init_i18n
from app.observability import register_observability
from app.security import register_security
from app.transactions import register_transactions
from bookings.views import bp as bookings_views
from calendars.views import bp as calendars_views
from config import DevelopmentConfig
from events.views import bp as events_views
from notifications.receivers import register_notifications
from notifications.views import bp as notifications_views
from reports.receivers import register_reports
from reports.views import bp as reports_views
from resources.manage_views import bp as manage_views
from resources.views import bp as resources_views


class IdConverter(IntegerConverter):
    """Positive ids that fit a 32-bit column; larger values are a 404, not a database overflow."""

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, min=1, max=2**31 - 1)


def create_app(config: type | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True, static_folder="../static", template_folder="../templates")
    app.config.from_object(config or DevelopmentConfig)
    app.url_map.converters["id"] = IdConverter
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep fields in the documented order
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Romanian text stays readable
    register_transactions(app)  # first, so its after_request hook runs after every other one
    register_observability(app)  # request id, logs, /metrics
    register_security_headers(app)  # refuses a production app with the development key
    register_extensions(app)
    register_i18n(app)
    register_blueprints(app)
    register_receivers(app)
    register_error_handlers(app)
    register_cli(app)
    register_health(app)
    register_icons(app)
    register_static_versions(app)
    trust_proxies(app)
    return app


def register_static_versions(app: Flask) -> None:
    """Every static URL carries its file's content hash (`?v=…`), so a proxy or browser may keep it for a
    long time (deploy/nginx-atu-facilities.conf: immutable) and an upgrade is seen at once."""

    @lru_cache(maxsize=256)
    def version(filename: str) -> str | None:
        path = os.path.join(app.static_folder or "", filename)
        try:
            with open(path, "rb") as handle:
                return hashlib.sha256(handle.read()).hexdigest()[:12]
        except OSError:
            return None

    @app.url_defaults
    def add_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values and (found := version(values.get("filename", ""))):
            values["v"] = found


def trust_proxies(app: Flask) -> None:
    """Behind `TRUSTED_PROXIES` reverse proxies (nginx: 1), the client's address, scheme and host are the
    ones they forwarded (X-Forwarded-For/-Proto/-Host), so the sign-in budget counts each client on its own
    and links say https. With none (the default) those headers are ignored: anyone can send them."""
    hops = int(app.config.get("TRUSTED_PROXIES", 0))
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def register_security_headers(app: Flask) -> None:
    register_security(app)


def register_extensions(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})
    )
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(app.root_path + "/../migrations"),
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
    )
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)

    login_manager.user_loader(load_user)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"


def register_i18n(app: Flask) -> None:
    init_i18n(app, babel)


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(accounts_views)
    app.register_blueprint(resources_views)
    app.register_blueprint(bookings_views)
    app.register_blueprint(events_views)
    app.register_blueprint(calendars_views)
    app.register_blueprint(manage_views)
    app.register_blueprint(notifications_views)
    app.register_blueprint(reports_views)
    register_api(app)


def register_receivers(app: Flask) -> None:
    """Side effects subscribe to the booking signals here, in one place (bookings never import them)."""
    register_notifications(app)
    register_reports(app)


def register_error_handlers(app: Flask) -> None:
    register(app)


def register_cli(app: Flask) -> None:
    register_commands(app)


def register_icons(app: Flask) -> None:
    """The favicon browsers ask for by name (/favicon.ico) is the site's SVG icon; the web app manifest is
    served with its own media type (installable on a phone)."""
    mimetypes.add_type("application/manifest+json", ".webmanifest")

    @app.get("/favicon.ico")
    def favicon():
        return redirect(url_for("static", filename="icons/atu.svg"), code=301)


def register_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        db.session.execute(text("SELECT 1"))
        return {"status": "ok"}
