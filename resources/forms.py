import re
from datetime import time

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import Form
from resources.features import FEATURES, feature_label
from resources.hours import WEEKDAYS
from resources.models import APPROVAL_LABELS, KIND_LABELS, VISIBILITY_LABELS
from resources.schemas import ResourceFields, resource_defaults

INSTITUTION_CODES = ("UVT", "UPT", "UMFT", "USVT")


class CatalogueFilterForm(Form):
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


class TimelineForm(Form):
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


# --- the managers' resource settings form --------------------------------------------------------

DAY_LABELS = {
    "mon": _l("Monday"),
    "tue": _l("Tuesday"),
    "wed": _l("Wednesday"),
    "thu": _l("Thursday"),
    "fri": _l("Friday"),
    "sat": _l("Saturday"),
    "sun": _l("Sunday"),
}
_SPAN = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–—]\s*(\d{1,2}:\d{2})\s*$")


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def parse_day_hours(text: str) -> list[list[str]]:
    """ "08:00-12:00, 14:00-20:00" → [["08:00", "12:00"], ["14:00", "20:00"]]; empty = closed. Raises ValueError."""
    spans = []
    for part in (text or "").replace(";", ",").split(","):
        if not part.strip():
            continue
        match = _SPAN.match(part)
        if match is None:
            raise ValueError(part.strip())
        spans.append([value.zfill(5) for value in match.groups()])
    return spans


def format_day_hours(spans: list[list[str]] | None) -> str:
    return ", ".join(f"{a}–{b}" for a, b in spans or [])


def finite(form, field) -> None:
    """NaN and infinities parse as decimals but compare badly; refuse them before NumberRange runs."""
    if field.data is not None and not field.data.is_finite():
        raise StopValidation(_l("Give a number."))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# Each setting's type, limits and default are declared once, in the API's schema; the form reads them.
SETTINGS = ResourceFields.model_json_schema()["properties"]
DEFAULTS = resource_defaults()


def rule(name: str) -> dict:
    """The JSON Schema of a setting's value (its null branch left out): type, limits, choices."""
    schema = SETTINGS[name]
    return next((s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"), schema)


def nullable(name: str) -> bool:
    """A setting whose default is None may be left empty; the others need a value."""
    return name in DEFAULTS and DEFAULTS[name] is None


def _number(name: str, label, **kwargs):
    low, high = rule(name)["minimum"], rule(name)["maximum"]
    validators = [Optional() if nullable(name) else InputRequired(), NumberRange(min=low, max=high)]
    return IntegerField(
        label,
        validators=validators,
        default=DEFAULTS.get(name),
        render_kw={"min": low, "max": high, "inputmode": "numeric"},
        **kwargs,
    )


def _text(name: str, label, field_class=StringField):
    required = rule(name).get("minLength", 0) >= 1 and not nullable(name)
    validators = [DataRequired() if required else Optional(), Length(max=rule(name)["maxLength"])]
    return field_class(label, validators=validators, default=DEFAULTS.get(name))


def _choice(name: str, label, labels: dict):
    # A value the schema allows but nobody labelled fails here, at import, not on a manager's page.
    return SelectField(
        label, choices=choices((value, labels[value]) for value in rule(name)["enum"]), default=DEFAULTS.get(name)
    )


def _flag(name: str, label):
    return BooleanField(label, default=DEFAULTS[name])


def _amount(label, *, places: int, low, high, step: str | None = None):
    render_kw = {"min": low, "max": high, "inputmode": "decimal", **({"step": step} if step else {})}
    return DecimalField(
        label, places=places, validators=[Optional(), finite, NumberRange(min=low, max=high)], render_kw=render_kw
    )


TARIFF = rule("tariffs")["additionalProperties"]


class ResourceForm(Form):
    """Every setting of a resource; `values()` turns it into the dict the service (and the API) take.

    A field named like a setting of `ResourceFields` is that setting: its limits and default come from
    the schema, and `values()` and `data_from()` carry it without naming it again.
    """

    name = _text("name", _l("Name (Romanian)"))
    name_en = _text("name_en", _l("Name (English)"))
    description_ro = _text("description_ro", _l("Description (Romanian)"), TextAreaField)
    description_en = _text("description_en", _l("Description (English)"), TextAreaField)
    kind = _choice("kind", _l("Kind"), KIND_LABELS)
    institution = SelectField(_l("University"))
    site_id = SelectField(_l("Site or building"), validators=[Optional()])
    capacity = _number("capacity", _l("Capacity (people)"))
    units = _number("units", _l("Units (beds, courts, identical devices)"))
    timezone = _text("timezone", _l("Time zone"))
    visibility = _choice("visibility", _l("Who may see it"), VISIBILITY_LABELS)
    approval = _choice("approval", _l("Approval"), APPROVAL_LABELS)
    approval_deadline_hours = _number("approval_deadline_hours", _l("Pending requests expire after (hours)"))
    allow_partners = _flag("allow_partners", _l("Partner universities may book it"))
    always_open = BooleanField(
        _l("Open at all times (the hours below are ignored)"), default=DEFAULTS["opening_hours"] is None
    )
    hours_mon = StringField(DAY_LABELS["mon"], validators=[Optional(), Length(max=200)])
    hours_tue = StringField(DAY_LABELS["tue"], validators=[Optional(), Length(max=200)])
    hours_wed = StringField(DAY_LABELS["wed"], validators=[Optional(), Length(max=200)])
    hours_thu = StringField(DAY_LABELS["thu"], validators=[Optional(), Length(max=200)])
    hours_fri = StringField(DAY_LABELS["fri"], validators=[Optional(), Length(max=200)])
    hours_sat = StringField(DAY_LABELS["sat"], validators=[Optional(), Length(max=200)])
    hours_sun = StringField(DAY_LABELS["sun"], validators=[Optional(), Length(max=200)])
    min_duration_minutes = _number("min_duration_minutes", _l("Shortest booking (minutes)"))
    max_duration_minutes = _number("max_duration_minutes", _l("Longest booking (minutes)"))
    min_notice_minutes = _number("min_notice_minutes", _l("Notice needed (minutes)"))
    max_advance_days = _number("max_advance_days", _l("Bookable up to (days ahead)"))
    partner_max_advance_days = _number(
        "partner_max_advance_days", _l("Partner universities: bookable up to (days ahead)")
    )
    buffer_minutes = _number("buffer_minutes", _l("Buffer before and after each booking (minutes)"))
    # One decimal place, so the smallest quota above the schema's "more than 0" is 0.1 hours.
    quota_hours_per_week = _amount(
        _l("Weekly quota per person (hours)"),
        places=1,
        low=0.1,
        high=rule("quota_hours_per_week")["maximum"],
        step="0.5",
    )
    tariff_own = _amount(_l("Own university"), places=2, low=TARIFF["minimum"], high=TARIFF["maximum"])
    tariff_partner = _amount(_l("Partner university"), places=2, low=TARIFF["minimum"], high=TARIFF["maximum"])
    tariff_external = _amount(_l("External"), places=2, low=TARIFF["minimum"], high=TARIFF["maximum"])
    currency = StringField(
        _l("Currency"),
        default=DEFAULTS["currency"],
        validators=[
            DataRequired(),
            Regexp(rule("currency")["pattern"], message=_l("Three capital letters, such as RON or EUR.")),
        ],
    )
    requires_authorization = _flag("requires_authorization", _l("Only trained and authorised users may book it"))
    check_in_required = _flag("check_in_required", _l("Check-in required"))
    no_show_minutes = _number("no_show_minutes", _l("Released when nobody checks in within (minutes)"))
    check_in_time = TimeField(_l("Dorm check-in time"), validators=[Optional()])
    check_out_time = TimeField(_l("Dorm check-out time"), validators=[Optional()])
    linked_to = MultiCheckboxField(
        _l("Linked spaces (booking one blocks the other)"),
        coerce=int,
        validators=[Optional()],
        default=DEFAULTS["linked_to"],
    )
    features = MultiCheckboxField(_l("Features and equipment"), validators=[Optional()], default=DEFAULTS["features"])
    active = _flag("active", _l("Active (bookable and listed in the catalogue)"))
    submit = SubmitField(_l("Save"))

    HOURS = ("hours_mon", "hours_tue", "hours_wed", "hours_thu", "hours_fri", "hours_sat", "hours_sun")
    TARIFFS = {"own": "tariff_own", "partner": "tariff_partner", "external": "tariff_external"}

    def __init__(self, *args, institutions, sites, linkable, lang: str = "ro", **kwargs):
        super().__init__(*args, **kwargs)
        self.institution.choices = choices((code, code) for code in institutions)
        self.site_id.choices = [SelectChoice("", _l("None"))] + [
            SelectChoice(str(site.id), f"{site.institution.code} · {site.name}") for site in sites
        ]
        self.linked_to.choices = [
            SelectChoice(r.id, f"{r.display_name(lang)} ({r.institution.code})") for r in linkable
        ]
        features = sorted(FEATURES, key=lambda code: feature_label(code, lang).casefold())
        self.features.choices = [SelectChoice(c, feature_label(c, lang)) for c in features]

    @classmethod
    def settings(cls) -> list[str]:
        """The schema's settings this form has a field for, in the schema's order."""
        return [name for name in ResourceFields.model_fields if isinstance(getattr(cls, name, None), UnboundField)]

    @classmethod
    def data_from(cls, resource) -> dict:
        """Initial form data from a stored resource."""
        data = {}
        for name in cls.settings():
            if name == "institution":
                data[name] = resource.institution.code
            elif name == "site_id":
                data[name] = str(resource.site_id) if resource.site_id else ""
            elif name == "linked_to":
                data[name] = [r.id for r in resource.linked]
            elif getattr(cls, name).field_class is TimeField:
                value = getattr(resource, name)
                data[name] = time.fromisoformat(value) if value else None
            else:
                data[name] = getattr(resource, name)
        data["always_open"] = resource.opening_hours is None
        for day, name in zip(WEEKDAYS, cls.HOURS, strict=True):
            data[name] = format_day_hours((resource.opening_hours or {}).get(day))
        for klass, name in cls.TARIFFS.items():
            data[name] = resource.tariffs.get(klass)
        return data

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not self.always_open.data:
            for name in self.HOURS:
                field = getattr(self, name)
                try:
                    parse_day_hours(field.data or "")
                except ValueError:
                    field.errors = [
                        *field.errors,
                        _l("Write the hours like 08:00–12:00, 14:00–20:00, or leave empty for closed."),
                    ]
                    ok = False
        return ok

    def _value(self, name: str):
        """A field's data as the API takes it."""
        field = self[name]
        if isinstance(field, BooleanField):
            return bool(field.data)
        if isinstance(field, DecimalField):
            return float(field.data) if field.data is not None else None
        if isinstance(field, TimeField):
            return field.data.strftime("%H:%M") if field.data else None
        if isinstance(field, SelectMultipleField):
            return list(field.data or [])
        if isinstance(field, StringField):
            text = (field.data or "").strip()
            return text or (None if nullable(name) else "")
        return field.data

    def values(self) -> dict:
        values = {name: self._value(name) for name in self.settings()}
        values["site_id"] = int(self.site_id.data) if (self.site_id.data or "").isdigit() else None
        values["tariffs"] = {
            klass: float(getattr(self, name).data)
            for klass, name in self.TARIFFS.items()
            if getattr(self, name).data is not None
        }
        if self.always_open.data:
            values["opening_hours"] = None
        else:
            hours = {}
            for day, name in zip(WEEKDAYS, self.HOURS, strict=True):
                spans = parse_day_hours(getattr(self, name).data or "")
                if spans:
                    hours[day] = spans
            values["opening_hours"] = hours
        return values

    def field_for(self, key: str):
        """The form field that shows a service or schema error keyed `key` (e.g. opening_hours.mon.0)."""
        head, _, rest = key.partition(".")
        if head == "opening_hours":
            day = rest.partition(".")[0]
            return getattr(self, f"hours_{day}", None) or self.always_open
        if head == "tariffs":
            return getattr(self, self.TARIFFS.get(rest.partition(".")[0], "tariff_own"))
        return getattr(self, head, None) if head in self._fields else None


class BlockForm(Form):
    """A maintenance block, entered in the resource's local time."""

    start_date = DateField(_l("From (date)"), validators=[DataRequired()])
    start_time = TimeField(_l("From (time)"), validators=[DataRequired()])
    end_date = DateField(_l("Until (date)"), validators=[DataRequired()])
    end_time = TimeField(_l("Until (time)"), validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Block this period"))
