"""The reports page's filters (GET, no CSRF for a read)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField
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
    resource = SelectField(_l("Resource"), validators=[Optional()])
    unused = BooleanField(_l("Only those unused in this period"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.group_by.choices = list(GROUP_LABELS.items())
        self.kind.choices = [("", _l("Any kind")), *list(KIND_LABELS.items())]
        self.institution.choices = [("", _l("All universities"))] + [(c, c) for c in INSTITUTION_CODES]
        self.resource.choices = [("", _l("Any resource"))]

    def offer_resources(self, pairs) -> None:
        """The resources the viewer may report on, as (id, name) pairs."""
        self.resource.choices = [("", _l("Any resource")), *((str(key), label) for key, label in pairs)]

    @property
    def resource_id(self) -> int | None:
        return int(self.resource.data) if self.resource.data else None
