"""The JSON API's wiring: one parent blueprint under /api/v1, bearer-token
authentication for every API request, and the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app

from accounts.api import bp as accounts_api
from accounts.auth import authenticate_bearer
from app.apidoc import OpenAPIDocument, build_document, operation
from app.extensions import csrf
from bookings.api import bp as bookings_api
from calendars.api import bp as calendars_api
from events.api import bp as events_api
from notifications.api import bp as notifications_api
from reports.api import bp as reports_api
from resources.api import bp as resources_api


@operation(OpenAPIDocument)
def openapi_document():
    """This document: generated from the views' @operation declarations and the URL map"""
    cached = current_app.extensions.get("openapi_document")
    if cached is None:
        cached = current_app.extensions["openapi_document"] = build_document(current_app)
    return OpenAPIDocument(cached)


def register_api(app: Flask) -> None:
    # A fresh parent per app: a blueprint cannot gain children after its first registration.
    api = Blueprint("api", __name__, url_prefix="/api/v1")
    api.before_request(authenticate_bearer)
    api.add_url_rule("/openapi.json", "openapi_document", openapi_document)
    # Bearer tokens are not sent automatically by browsers, so the API needs no CSRF token.
    csrf.exempt(api)
    for child in (
        accounts_api,
        resources_api,
        bookings_api,
        events_api,
        calendars_api,
        notifications_api,
        reports_api,
    ):
        csrf.exempt(child)
        api.register_blueprint(child)
    app.register_blueprint(api)
