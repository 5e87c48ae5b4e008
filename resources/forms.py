from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, StringField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

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
    # The search page: a stay of some nights instead of a time range, and several universities at once.
    nights = IntegerField(_l("Nights"), validators=[Optional(), NumberRange(min=1, max=60)])
    institutions = SelectMultipleField(
        _l("Universities"),
        choices=[SelectChoice(c, c) for c in INSTITUTION_CODES],
        validators=[Optional()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )

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
        if self.nights.data is not None:
            if self.start_time.data or self.end_time.data:
                self.nights.errors = [*self.nights.errors, _l("Give either a time range or a number of nights.")]
                ok = False
            elif not self.date.data:
                self.date.errors = [*self.date.errors, _l("Give the check-in date with the number of nights.")]
                ok = False
            elif self.kind.data not in ("", None, "dorm"):
                self.nights.errors = [*self.nights.errors, _l("Nights apply to dorm rooms.")]
                ok = False
            return ok
        times = (self.date.data, self.start_time.data, self.end_time.data)
        if any(times) and not all(times):
            self.date.errors = [*self.date.errors, _l("Give a date, a start and an end time together.")]
            ok = False
        elif all(times) and self.end_time.data <= self.start_time.data:
            self.end_time.errors = [*self.end_time.errors, _l("The end must be after the start.")]
            ok = False
        return ok


class TimelineForm(FlaskForm):
    """GET filters of the day timeline."""

    class Meta:
        csrf = False

    date = DateField(_l("Day"), validators=[Optional()])
    institution = SelectField(_l("University"), validators=[Optional()])
    kind = SelectField(_l("Kind"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [("", _l("Any kind")), *list(KIND_LABELS.items())]
        self.institution.choices = [("", _l("All universities"))] + [(c, c) for c in INSTITUTION_CODES]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.date.data and not 2000 <= self.date.data.year < 2100:
            self.date.errors = [*self.date.errors, _l("Choose a day between 2000 and 2099.")]
            ok = False
        return ok
