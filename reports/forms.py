"""The reports page's filters (GET, no CSRF for a read)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from app.forms import Form
from resources.forms import INSTITUTION_CODES
from resources.models import KIND_LABELS

GROUP_LABELS = {"resource": _l("Resource"), "kind": _l("Kind"), "institution": _l("University")}


class ReportForm(Form):
    class Meta:
        csrf = False

    from_ = DateField(_l("From"), validators=[Optional()], name="from")
    to = DateField(_l("To (inclusive)"), validators=[Optional()])
    group_by = SelectField(_l("One row per"), validators=[Optional()])
    institution = SelectField(_l("University"), validators=[Optional()])
    kind = SelectField(_l("Kind"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.group_by.choices = list(GROUP_LABELS.items())
        self.kind.choices = [("", _l("Any kind")), *list(KIND_LABELS.items())]
        self.institution.choices = [("", _l("All universities"))] + [(c, c) for c in INSTITUTION_CODES]
