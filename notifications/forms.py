"""The admins' mail page: a retry button (a form, for its CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SubmitField

from app.forms import Form


class RetryForm(Form):
    submit = SubmitField(_l("Retry"))
