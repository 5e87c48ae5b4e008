"""The one way an HTML page shows a refused action: the service's messages on the form's fields (or
flashed), and the request's transaction rolled back, whatever status the page then answers with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import wtforms
from flask import flash
from flask_wtf import FlaskForm
from wtforms import FieldList

from app.errors import InvalidInput, error_text
from app.transactions import set_rollback
from app.validation import InputPolicyMeta


def _named_field(form: Any, name: str) -> Any:
    if hasattr(form, "field_for"):  # forms with nested or renamed fields know their own names
        return form.field_for(name)
    target = getattr(form, name, None) if name else None
    return target if hasattr(target, "errors") else None


def apply_errors(
    form: Any,
    error: Exception,
    *,
    fields: Mapping[str, Any] | None = None,
    fallback: Any = None,
    name_unplaced: bool = False,
) -> None:
    """Put each message of `error` on its field: `fields` maps a service's field name onto a form field
    where the names differ, the form's own field of that name otherwise, then `fallback`; a message
    with no field (or for a list of rows, which shows its own row errors) is flashed instead.
    Any other domain error goes whole onto `fallback`, or is flashed. `name_unplaced` prefixes a
    message that lands on `fallback` with the field it was about."""
    set_rollback()
    # str(): a lazy message counts as safe markup to Jinja, and some carry what a user typed.
    if isinstance(error, InvalidInput):
        entries = [(e["field"], str(e["detail"])) for e in error.errors]
    else:
        entries = [("", error_text(error))]
    for name, message in entries:
        target = (fields or {}).get(name)
        if target is None:  # not `or`: a field list with no rows is falsy
            target = _named_field(form, name)
        if target is None and fallback is not None:
            target, message = fallback, f"{name}: {message}" if name and name_unplaced else message
        if isinstance(target, FieldList):
            if not any(row.errors for row in target):
                flash(message, "error")
        elif target is None:
            flash(message, "error")
        else:
            target.errors = [*target.errors, message]


def flash_error(error: Exception) -> None:
    """A refused action on a page that answers with a redirect: say why, and keep nothing of it."""
    set_rollback()
    flash(error_text(error), "error")


class Form(FlaskForm):
    """The base of every page form: its text fields follow the text policy (app.validation)."""

    class Meta(InputPolicyMeta):
        pass


class Subform(wtforms.Form):
    """The base of a form repeated inside another (FormField, FieldList)."""

    class Meta(InputPolicyMeta):
        pass
