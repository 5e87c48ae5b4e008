"""Where links point: the site's public address, and which `next` targets are safe to redirect to."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request


def base_url() -> str:
    """The address links in feeds, mails and pages start with (PUBLIC_URL behind a proxy)."""
    return current_app.config.get("PUBLIC_URL") or request.host_url


def is_safe_next(target: str | None) -> bool:
    """Only same-site relative paths, so the login page cannot be used as an open redirect."""
    if not target:
        return False
    parts = urlsplit(target)
    return (
        not parts.scheme
        and not parts.netloc
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
    )
