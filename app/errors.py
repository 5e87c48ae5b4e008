"""Domain exceptions and the one place they become HTTP answers.

The API (and feeds) answer `application/problem+json` (RFC 9457); pages answer
an HTML error page in the visitor's language. Messages are raised made with
`lazy_gettext` and translated here, when the answer is built, in the request's language.
"""

from __future__ import annotations

import logging
from typing import Any, TypeAlias

from flask import Flask, Response, current_app, g, json, render_template, request
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from app.i18n import current_language

log = logging.getLogger(__name__)

# A message for a person: lazy (translated when shown) or plain text such as a parser's own words.
Message: TypeAlias = str | LazyString


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: Message | None = None, **extra: Any) -> None:
        if detail is None or (isinstance(detail, str) and not detail):  # a lazy message stays unevaluated
            detail = self.title
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def problem_fields(self) -> dict[str, Any]:
        """Members added to the problem+json body beside status, title and detail."""
        return dict(self.extra)


class Unauthenticated(DomainError):
    status = 401
    title = "Authentication required"


class PermissionDenied(DomainError):
    status = 403
    title = "Forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class RateLimited(DomainError):
    """A budget is spent: 429 with Retry-After (seconds until the budget has room again)."""

    status = 429
    title = "Too many requests"

    def __init__(self, detail: Message, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)


class InvalidInput(DomainError):
    """Bad field values; `errors` lists each as {"field", "pointer", "detail"}."""

    status = 422
    title = "Invalid input"

    def __init__(self, errors: dict[str, Any] | list[dict[str, Any]], detail: Message | None = None):
        if isinstance(errors, dict):
            errors = [field_error(field, message) for field, message in errors.items()]
        self.errors = errors
        super().__init__(detail or LazyString(_joined, errors))

    @property
    def messages(self) -> dict[str, Message]:
        return {e["field"]: e["detail"] for e in self.errors}

    def errors_json(self) -> list[dict[str, str]]:
        return [{**e, "detail": str(e["detail"])} for e in self.errors]


def _joined(errors: list[dict[str, Any]]) -> str:
    return "; ".join(f"{e['field']}: {e['detail']}" for e in errors)


class MalformedRequest(DomainError):
    status = 400
    title = "Malformed request"


def field_error(field: str, detail: Message) -> dict[str, Any]:
    pointer = "#/" + field.replace(".", "/") if field else "#"
    return {"field": field, "pointer": pointer, "detail": detail}


def wants_problem_json() -> bool:
    if request.path.startswith(("/api/", "/calendars/", "/healthz")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def problem_response(status: int, title: str, detail: Message, **extra: Any):
    body = {"type": "about:blank", "status": status, "title": title, "detail": str(detail)}
    body.update({k: v for k, v in extra.items() if v is not None})
    return json.dumps(body), status, {"Content-Type": "application/problem+json"}


# What the database raises when it cannot be reached or gives up: a connection refused or lost (a restart, a
# failover, an outage), a lock wait or deadlock it abandoned, or no connection free in the pool in time.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)
RETRY_AFTER_SECONDS = 5


def html_error(status: int, detail: str | None = None):
    titles = {
        400: _("The request could not be understood."),
        401: _("Please sign in to continue."),
        403: _("You are not allowed to do this."),
        404: _("This page does not exist."),
        405: _("This action is not allowed here."),
        409: _("This conflicts with something that already exists."),
        413: _("The request is too large."),
        422: _("Some of the values are not valid."),
        429: _("Too many attempts. Please wait a minute and try again."),
        503: _("The service is briefly unavailable. Please try again in a few seconds."),
        500: _("Something went wrong on our side. Please try again later."),
    }
    message = titles.get(status, _("Something went wrong."))
    return render_template("errors/error.html", status=status, message=message, detail=detail), status


# --- what a page says about a refused action, in the visitor's language ---------------------------


def _raised(error: Exception) -> list:
    return list(error.messages.values()) if isinstance(error, InvalidInput) else [getattr(error, "detail", str(error))]


def error_text(error: Exception) -> str:
    """What a page says about a refused action: each field message of invalid input, else the detail."""
    return " ".join(str(m) for m in _raised(error))


def error_page_detail(error: Exception) -> str | None:
    """The detail for an error page, left off when none of it is translated (only messages raised with
    lazy_gettext are): the page already says what happened in its language, an English sentence
    would only add noise."""
    raised = _raised(error)
    if current_language() != "en" and not any(isinstance(m, LazyString) for m in raised):
        return None
    return " ".join(str(m) for m in raised)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        if wants_problem_json():
            extra = error.problem_fields()
            if isinstance(error, InvalidInput):
                extra["errors"] = error.errors_json()
            body, status, headers = problem_response(error.status, error.title, error.detail, **extra)
            if isinstance(error, Unauthenticated):
                headers["WWW-Authenticate"] = 'Bearer realm="atu-facilities"'
            if isinstance(error, RateLimited):
                headers["Retry-After"] = str(error.retry_after)
            return body, status, headers
        body, status = html_error(error.status, error_page_detail(error))
        return body, status, ({"Retry-After": str(error.retry_after)} if isinstance(error, RateLimited) else {})

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        status = error.code or 500
        if wants_problem_json():
            headers = {}
            response = problem_response(status, error.name, error.description or error.name)
            if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
                headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
            if status == 429:
                headers["Retry-After"] = "60"
            body, code, base_headers = response
            return body, code, {**base_headers, **headers}
        return html_error(status)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def handle_database_unavailable(error: Exception):
        """The database went away (a restart, a failover, an outage), is busy (a lock wait ran out) or is
        out of connections: 503 with Retry-After. Nothing was kept (the request's transaction is rolled
        back), and the pool drops connections that saw a disconnect, so the next request gets a fresh one
        once the database is back."""
        log.warning("database unavailable on %s %s: %s", request.method, request.path, _first_line(error))
        return database_unavailable_answer()

    @app.errorhandler(InternalServerError)
    def handle_server_error(error: InternalServerError):
        original = error.original_exception
        if isinstance(original, DATABASE_UNAVAILABLE):  # raised where the handlers above do not reach
            log.warning("database unavailable on %s %s: %s", request.method, request.path, _first_line(original))
            return database_unavailable_answer()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_problem_json():
            return problem_response(500, "Internal server error", "An unexpected error occurred.")
        return html_error(500)


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]


def database_unavailable_answer(detail: str = "The database is unavailable."):
    """The 503 of a request the database could not serve: problem+json, or the page in the visitor's
    language, with Retry-After. The page is drawn for a visitor who is not signed in: the signed-in user's
    row cannot be read now, and the page's header must not try (a second failure would make it a 500)."""
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if wants_problem_json():
        body, status, base = problem_response(503, "Service unavailable", detail)
        return body, status, {**base, **headers}
    g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
    body, status = html_error(503)
    return body, status, headers


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")  # they change nothing of the user's (a read's COMMIT only ends it)
# Headers that describe the answer a failed commit replaces, not the 503 that replaces it.
_SUCCESS_HEADERS = ("Content-Type", "Location", "ETag", "Last-Modified", "Content-Disposition", "Cache-Control")


def commit_failed_answer(response: Response, error: Exception) -> Response:
    """`response`, whose commit the database could not complete, made into the 503 (in place, so the
    headers every answer carries stay). A connection lost during the COMMIT leaves its outcome unknown:
    the problem says so, and a booking asked again with the same Idempotency-Key is answered with the
    booking if it was kept, or made now if it was not."""
    in_doubt = bool(getattr(error, "connection_invalidated", False)) and request.method not in SAFE_METHODS
    log.warning(
        "commit %s on %s %s: %s",
        "cut short (outcome unknown)" if in_doubt else "refused",
        request.method,
        request.path,
        _first_line(error),
    )
    detail = (
        "The connection to the database was lost while saving: the change may or may not have been kept. "
        "Repeat the request once the database is back (with the same Idempotency-Key for a booking)."
        if in_doubt
        else "The database is unavailable; nothing was kept."
    )
    body, status, headers = database_unavailable_answer(detail)
    for name in _SUCCESS_HEADERS:
        del response.headers[name]
    response.set_data(body)
    response.status_code = status
    response.content_type = headers.pop("Content-Type", "text/html; charset=utf-8")
    response.headers.update(headers)
    return response
