"""Bearer-token authentication for the JSON API: who is asking, and the check that someone is."""

from __future__ import annotations

from flask import g, request
from flask_babel import lazy_gettext as _l

from accounts.models import User
from accounts.services import resolve_token
from app.errors import Unauthenticated


def authenticate_bearer() -> None:
    """A request without Authorization is anonymous; one with a bad token is refused outright."""
    g.api_user = None
    header = request.headers.get("Authorization")
    if header is None:
        return
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip() or len(secret) > 200:
        raise Unauthenticated(_l("Use 'Authorization: Bearer <token>'."))
    token = resolve_token(secret.strip())
    if token is None:
        raise Unauthenticated(_l("The token is unknown, expired or revoked."))
    g.api_user = token.user
    g.api_token = token


def current_api_user() -> User | None:
    return g.get("api_user")


def require_api_user() -> User:
    user = current_api_user()
    if user is None:
        raise Unauthenticated(_l("This needs 'Authorization: Bearer <token>'; get one from POST /api/v1/auth/tokens."))
    return user
