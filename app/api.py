"""The JSON API's wiring: one parent blueprint under /api/v1, bearer-token
authentication for every API request, and the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, g, request
from flask_babel import lazy_gettext as _l

from accounts.models import User
from app.apidoc import OpenAPIDocument, operation
from app.errors import Unauthenticated
from app.extensions import csrf


def authenticate_bearer() -> None:
    """A request without Authorization is anonymous; one with a bad token is refused outright."""
    from accounts.services import resolve_token

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


@operation(OpenAPIDocument)
def openapi_document():
    """This document: generated from the views' @operation declarations and the URL map"""
    from app.apidoc import build_document

    cached = current_app.extensions.get("openapi_document")
    if cached is None:
        cached = current_app.extensions["openapi_document"] = build_document(current_app)
    return OpenAPIDocument(cached)


def register_api(app: Flask) -> None:
    from accounts.api import bp as accounts_api
    from bookings.api import bp as bookings_api
    from calendars.api import bp as calendars_api
    from resources.api import bp as resources_api

    # A fresh parent per app: a blueprint cannot gain children after its first registration.
    api = Blueprint("api", __name__, url_prefix="/api/v1")
    api.before_request(authenticate_bearer)
    api.add_url_rule("/openapi.json", "openapi_document", openapi_document)
    # Bearer tokens are not sent automatically by browsers, so the API needs no CSRF token.
    csrf.exempt(api)
    for child in (accounts_api, resources_api, bookings_api, calendars_api):
        csrf.exempt(child)
        api.register_blueprint(child)
    app.register_blueprint(api)
