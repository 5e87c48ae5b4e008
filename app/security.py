"""Security headers on every answer, and the production checks made at start-up.

Pages carry a Content-Security-Policy with no inline script or style (scripts and styles are static files),
refuse framing, and are never sniffed; production adds HSTS. A view that must differ (a door display shown
in a frame, later) says so with `@content_security_policy(frame_ancestors="https://…")`; its answer then
drops `X-Frame-Options` unless framing stays refused.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, g

from config import DEV_SECRET_KEY

CONTENT_SECURITY_POLICY: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
REFERRER_POLICY = "strict-origin-when-cross-origin"

View = TypeVar("View", bound=Callable[..., Any])


class InsecureConfiguration(RuntimeError):
    """The configuration is not fit for production; the app refuses to start."""


def content_security_policy(**directives: str) -> Callable[[View], View]:
    """Override directives of the policy for one view: `frame_ancestors="https://door.example"`."""
    changes = {name.replace("_", "-"): value for name, value in directives.items()}

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            g.csp_overrides = {**g.get("csp_overrides", {}), **changes}
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def policy_for_request() -> dict[str, str]:
    return {**CONTENT_SECURITY_POLICY, **g.get("csp_overrides", {})}


def add_security_headers(response: Response, hsts: str | None) -> Response:
    policy = policy_for_request()
    headers = response.headers
    headers.setdefault("Content-Security-Policy", "; ".join(f"{name} {value}" for name, value in policy.items()))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    if policy.get("frame-ancestors") == "'none'":
        headers.setdefault("X-Frame-Options", "DENY")
    if hsts:
        headers.setdefault("Strict-Transport-Security", hsts)
    return response


def check_production_settings(app: Flask) -> None:
    """Refuse to start a production app signing sessions with a missing or publicly known key."""
    if not app.config.get("REQUIRE_SECRET_KEY"):
        return
    key = app.config.get("SECRET_KEY")
    if not key or not str(key).strip() or key == DEV_SECRET_KEY:
        raise InsecureConfiguration(
            "SECRET_KEY is missing or is the development default: set SECRET_KEY in the environment to a long "
            'random value (e.g. python -c "import secrets; print(secrets.token_urlsafe(48))") before starting '
            "with ATU_CONFIG=production"
        )


def register_security(app: Flask) -> None:
    check_production_settings(app)
    hsts = app.config.get("STRICT_TRANSPORT_SECURITY")

    @app.after_request
    def security_headers(response: Response) -> Response:
        return add_security_headers(response, hsts)
