from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from resources.features import FEATURES, feature_label

KIND_LABELS = {
    "lab": _l("Laboratory"),
    "sports": _l("Sports facility"),
    "dorm": _l("Dorm room"),
    "equipment": _l("Research equipment"),
    "room": _l("Event room"),
}
INSTITUTION_CODES = ("UVT", "UPT", "UMFT", "USVT")


class CatalogueFilterForm(FlaskForm):
    """GET filters shared by the catalogue and the search page; no CSRF for a read."""

    class Meta:
        csrf = False

    q = StringField(_l("Text"), validators=[Optional(), Length(max=200)])
    kind = SelectField(_l("Kind"), validators=[Optional()])
    institution = SelectField(_l("University"), validators=[Optional()])
    feature = SelectField(_l("Feature"), validators=[Optional()])
    min_capacity = IntegerField(_l("Minimum capacity"), validators=[Optional(), NumberRange(min=0, max=100000)])
    date = DateField(_l("Date"), validators=[Optional()])
    start_time = TimeField(_l("From"), validators=[Optional()])
    end_time = TimeField(_l("To"), validators=[Optional()])

    def __init__(self, *args, lang: str = "ro", **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [("", _l("Any kind")), *list(KIND_LABELS.items())]
        self.institution.choices = [("", _l("All universities"))] + [(c, c) for c in INSTITUTION_CODES]
        features = sorted(FEATURES, key=lambda code: feature_label(code, lang).casefold())
        self.feature.choices = [SelectChoice("", _l("Any feature"))] + [
            SelectChoice(c, feature_label(c, lang)) for c in features
        ]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        times = (self.date.data, self.start_time.data, self.end_time.data)
        if any(times) and not all(times):
            self.date.errors = [*self.date.errors, _l("Give a date, a start and an end time together.")]
            ok = False
        elif all(times) and self.end_time.data <= self.start_time.data:
            self.end_time.errors = [*self.end_time.errors, _l("The end must be after the start.")]
            ok = False
        return ok
