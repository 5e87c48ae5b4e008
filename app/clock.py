"""The current instant for business rules (notice, booking window, past starts).

Tests and demos pin it with the CLOCK_NOW setting so rules about "now" are checked
against a known instant instead of the wall clock.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, has_app_context

from app.database import utcnow


def now() -> datetime:
    if has_app_context():
        pinned = current_app.config.get("CLOCK_NOW")
        if pinned is not None:
            return pinned
    return utcnow()
