"""One commit per request or job, in one place: services flush, never commit or roll back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, g, session

from app.extensions import db


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit what the block did, or roll it back if it raises: a job run, one item of a job that must
    keep each item on its own (a waitlist offer releasing its lock, one mail sent), a CLI command."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def set_rollback() -> None:
    """Roll this request back even though it answers with a success (a refused action that only
    flashes a message and redirects); the form-error helpers in app/forms.py call it."""
    g.rollback_transaction = True


def register_transactions(app: Flask) -> None:
    """One commit per request, here and nowhere else: after the view, when the answer is below 400
    and nothing asked for a rollback; any error answer, any exception, or a refused form (a 4xx
    re-render) rolls back, so a request never leaves a half-written change behind."""

    def end_transaction(response):
        if response.status_code >= 400 or g.pop("rollback_transaction", False):
            db.session.rollback()
            return response
        try:
            db.session.commit()
        except Exception:
            db.session.rollback()
            session.pop("_flashes", None)  # a "saved" message must not outlive a change that was not
            raise  # Flask answers 500 through the error handlers (and calls this again: a rollback)
        return response

    def roll_back_on_error(error: BaseException | None) -> None:
        if error is not None:
            db.session.rollback()

    app.after_request(end_transaction)
    app.teardown_request(roll_back_on_error)
