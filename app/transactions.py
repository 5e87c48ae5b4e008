"""One commit per request or job, in one place: services flush, never commit or roll back."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask, g, has_request_context, session
from sqlalchemy.engine import Engine

from app.errors import DATABASE_UNAVAILABLE, commit_failed_answer
from app.extensions import db

log = logging.getLogger("app.jobs")


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
    finally:
        run_kept()


def keep(work: Callable[[], None]) -> None:
    """Work to keep whatever becomes of the current transaction: a record of a refused request, which the
    refusal's own rollback would otherwise undo. It runs after the request's (or unit of work's) commit or
    rollback, in a transaction of its own through `db.session`; it must only write rows, and a failure is
    logged, never the request's."""
    db.session.info.setdefault("kept", []).append(work)


def run_kept() -> None:
    """Run and commit what `keep` was given since the transaction began (each on its own). On PostgreSQL
    each runs in autocommit, one round trip instead of BEGIN, the write and COMMIT (a refusal's count must
    not make the refusal three round trips dearer); a session bound to one connection (the tests' rolled-back
    transaction) keeps its plain transaction."""
    for work in db.session.info.pop("kept", []):
        try:
            bind = db.session.get_bind()
            if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
                db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            work()
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("kept work %r failed", work)


class ItemGuard:
    """Jobs item by item: each item of a job run in its own savepoint, so one bad item (any exception)
    is undone alone, logged with the job and the item's id, and counted; the job goes on with the rest.

        guard = ItemGuard("reminders")
        for occurrence in due:
            with guard.item(occurrence.id):
                ...
        summary += guard.suffix()
    """

    def __init__(self, job: str) -> None:
        self.job = job
        self.failed: list[object] = []

    @contextmanager
    def item(self, item_id: object, *, commit: bool = False) -> Iterator[None]:
        """A savepoint around one item, and with `commit` a commit after it (for items that must be
        committed one by one, releasing their locks); an exception is logged, counted and swallowed,
        undoing that item's work only."""
        try:
            with db.session.begin_nested():
                yield
            if commit:
                db.session.commit()
        except Exception:
            log.exception("job %s: item %s failed; going on with the others", self.job, item_id)
            self.failed.append(item_id)
            if commit:
                try:
                    db.session.commit()  # nothing of this item is left to commit; this releases its locks
                except Exception:
                    db.session.rollback()

    @property
    def count(self) -> int:
        return len(self.failed)

    def suffix(self) -> str:
        return f", {self.count} failed" if self.failed else ""


def set_rollback() -> None:
    """Roll this request back even though it answers with a success (a refused action that only
    flashes a message and redirects); the form-error helpers in app/forms.py call it."""
    g.rollback_transaction = True


def abandon() -> None:
    """The database refused a write half-way (PostgreSQL then refuses every later statement of the
    transaction): roll back at once, so the rest of the request can still read (a page renders the
    refusal), and end the request in a rollback. The one place besides the request's end that rolls back;
    a step that must keep earlier work of its transaction writes inside a savepoint instead."""
    db.session.rollback()
    if has_request_context():
        set_rollback()


def register_transactions(app: Flask) -> None:
    """One commit per request, here and nowhere else: after the view, when the answer is below 400
    and nothing asked for a rollback; any error answer, any exception, or a refused form (a 4xx
    re-render) rolls back, so a request never leaves a half-written change behind."""

    def end_transaction(response):
        if response.status_code >= 400 or g.pop("rollback_transaction", False):
            db.session.rollback()
            run_kept()
            return response
        try:
            db.session.commit()
        except Exception as error:
            db.session.rollback()
            session.pop("_flashes", None)  # a "saved" message must not outlive a change that was not
            if isinstance(error, DATABASE_UNAVAILABLE):  # the 503 of an outage, not a 500
                response = commit_failed_answer(response, error)
                g.response_status = response.status_code  # for the access line (app.observability), made earlier
                run_kept()
                return response
            raise  # Flask answers 500 through the error handlers (and calls this again: a rollback)
        run_kept()
        return response

    def roll_back_on_error(error: BaseException | None) -> None:
        if error is not None:
            db.session.rollback()
        db.session.info.pop("kept", None)  # a request that never reached end_transaction keeps nothing

    app.after_request(end_transaction)
    app.teardown_request(roll_back_on_error)
