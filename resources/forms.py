import re
from datetime import time

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
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
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from resources.features import FEATURES, feature_label
from resources.hours import WEEKDAYS

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


# --- the managers' resource settings form --------------------------------------------------------

VISIBILITY_LABELS = {
    "public": _l("Everyone, also without an account"),
    "alliance": _l("The four universities"),
    "institution": _l("Its own university only"),
}
APPROVAL_LABELS = {
    "none": _l("Not needed"),
    "partners": _l("Needed for partner universities"),
    "all": _l("Needed for every request"),
}
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


def _minutes(label, low: int, high: int, required: bool = False, **kwargs):
    validators = [InputRequired() if required else Optional(), NumberRange(min=low, max=high)]
    return IntegerField(
        label, validators=validators, render_kw={"min": low, "max": high, "inputmode": "numeric"}, **kwargs
    )


class ResourceForm(FlaskForm):
    """Every setting of a resource; `values()` turns it into the dict the service (and the API) take."""

    name = StringField(_l("Name (Romanian)"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=200)])
    description_ro = TextAreaField(_l("Description (Romanian)"), validators=[Optional(), Length(max=5000)])
    description_en = TextAreaField(_l("Description (English)"), validators=[Optional(), Length(max=5000)])
    kind = SelectField(_l("Kind"), choices=choices(KIND_LABELS.items()))
    institution = SelectField(_l("University"))
    site_id = SelectField(_l("Site or building"), validators=[Optional()])
    capacity = _minutes(_l("Capacity (people)"), 0, 100_000)
    units = _minutes(_l("Units (beds, courts, identical devices)"), 1, 10_000, required=True)
    timezone = StringField(_l("Time zone"), validators=[DataRequired(), Length(max=64)])
    visibility = SelectField(_l("Who may see it"), choices=choices(VISIBILITY_LABELS.items()))
    approval = SelectField(_l("Approval"), choices=choices(APPROVAL_LABELS.items()))
    approval_deadline_hours = _minutes(_l("Pending requests expire after (hours)"), 1, 24 * 60, required=True)
    allow_partners = BooleanField(_l("Partner universities may book it"))
    always_open = BooleanField(_l("Open at all times (the hours below are ignored)"))
    hours_mon = StringField(DAY_LABELS["mon"], validators=[Optional(), Length(max=200)])
    hours_tue = StringField(DAY_LABELS["tue"], validators=[Optional(), Length(max=200)])
    hours_wed = StringField(DAY_LABELS["wed"], validators=[Optional(), Length(max=200)])
    hours_thu = StringField(DAY_LABELS["thu"], validators=[Optional(), Length(max=200)])
    hours_fri = StringField(DAY_LABELS["fri"], validators=[Optional(), Length(max=200)])
    hours_sat = StringField(DAY_LABELS["sat"], validators=[Optional(), Length(max=200)])
    hours_sun = StringField(DAY_LABELS["sun"], validators=[Optional(), Length(max=200)])
    min_duration_minutes = _minutes(_l("Shortest booking (minutes)"), 1, 366 * 24 * 60)
    max_duration_minutes = _minutes(_l("Longest booking (minutes)"), 1, 366 * 24 * 60)
    min_notice_minutes = _minutes(_l("Notice needed (minutes)"), 0, 366 * 24 * 60, required=True)
    max_advance_days = _minutes(_l("Bookable up to (days ahead)"), 1, 3650)
    partner_max_advance_days = _minutes(_l("Partner universities: bookable up to (days ahead)"), 1, 3650)
    buffer_minutes = _minutes(_l("Buffer before and after each booking (minutes)"), 0, 24 * 60, required=True)
    quota_hours_per_week = DecimalField(
        _l("Weekly quota per person (hours)"),
        places=1,
        validators=[Optional(), finite, NumberRange(min=0.1, max=168)],
        render_kw={"min": 0.1, "max": 168, "step": "0.5", "inputmode": "decimal"},
    )
    tariff_own = DecimalField(
        _l("Own university"), places=2, validators=[Optional(), finite, NumberRange(min=0, max=1_000_000)]
    )
    tariff_partner = DecimalField(
        _l("Partner university"), places=2, validators=[Optional(), finite, NumberRange(min=0, max=1_000_000)]
    )
    tariff_external = DecimalField(
        _l("External"), places=2, validators=[Optional(), finite, NumberRange(min=0, max=1_000_000)]
    )
    currency = StringField(
        _l("Currency"),
        validators=[DataRequired(), Regexp(r"^[A-Z]{3}$", message=_l("Three capital letters, such as RON or EUR."))],
    )
    requires_authorization = BooleanField(_l("Only trained and authorised users may book it"))
    check_in_required = BooleanField(_l("Check-in required"))
    no_show_minutes = _minutes(_l("Released when nobody checks in within (minutes)"), 1, 24 * 60, required=True)
    check_in_time = TimeField(_l("Dorm check-in time"), validators=[Optional()])
    check_out_time = TimeField(_l("Dorm check-out time"), validators=[Optional()])
    linked_to = MultiCheckboxField(
        _l("Linked spaces (booking one blocks the other)"), coerce=int, validators=[Optional()]
    )
    features = MultiCheckboxField(_l("Features and equipment"), validators=[Optional()])
    active = BooleanField(_l("Active (bookable and listed in the catalogue)"))
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
    def data_from(cls, resource) -> dict:
        """Initial form data from a stored resource."""
        data = {
            field: getattr(resource, field)
            for field in (
                "name",
                "name_en",
                "description_ro",
                "description_en",
                "kind",
                "capacity",
                "units",
                "timezone",
                "visibility",
                "approval",
                "approval_deadline_hours",
                "allow_partners",
                "min_duration_minutes",
                "max_duration_minutes",
                "min_notice_minutes",
                "max_advance_days",
                "partner_max_advance_days",
                "buffer_minutes",
                "quota_hours_per_week",
                "currency",
                "requires_authorization",
                "check_in_required",
                "no_show_minutes",
                "active",
                "features",
            )
        }
        data["institution"] = resource.institution.code
        data["site_id"] = str(resource.site_id) if resource.site_id else ""
        data["always_open"] = resource.opening_hours is None
        for day, name in zip(WEEKDAYS, cls.HOURS, strict=True):
            data[name] = format_day_hours((resource.opening_hours or {}).get(day))
        for klass, name in cls.TARIFFS.items():
            data[name] = resource.tariffs.get(klass)
        for name in ("check_in_time", "check_out_time"):
            value = getattr(resource, name)
            data[name] = time.fromisoformat(value) if value else None
        data["linked_to"] = [r.id for r in resource.linked]
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

    def values(self) -> dict:
        def number(value):
            return float(value) if value is not None else None

        values = {
            "name": self.name.data.strip(),
            "name_en": (self.name_en.data or "").strip() or None,
            "description_ro": (self.description_ro.data or "").strip(),
            "description_en": (self.description_en.data or "").strip(),
            "kind": self.kind.data,
            "institution": self.institution.data,
            "site_id": int(self.site_id.data) if (self.site_id.data or "").isdigit() else None,
            "capacity": self.capacity.data,
            "units": self.units.data,
            "timezone": self.timezone.data.strip(),
            "visibility": self.visibility.data,
            "approval": self.approval.data,
            "approval_deadline_hours": self.approval_deadline_hours.data,
            "allow_partners": bool(self.allow_partners.data),
            "min_duration_minutes": self.min_duration_minutes.data,
            "max_duration_minutes": self.max_duration_minutes.data,
            "min_notice_minutes": self.min_notice_minutes.data,
            "max_advance_days": self.max_advance_days.data,
            "partner_max_advance_days": self.partner_max_advance_days.data,
            "buffer_minutes": self.buffer_minutes.data,
            "quota_hours_per_week": number(self.quota_hours_per_week.data),
            "tariffs": {
                klass: float(getattr(self, name).data)
                for klass, name in self.TARIFFS.items()
                if getattr(self, name).data is not None
            },
            "currency": self.currency.data,
            "requires_authorization": bool(self.requires_authorization.data),
            "check_in_required": bool(self.check_in_required.data),
            "no_show_minutes": self.no_show_minutes.data,
            "check_in_time": self.check_in_time.data.strftime("%H:%M") if self.check_in_time.data else None,
            "check_out_time": self.check_out_time.data.strftime("%H:%M") if self.check_out_time.data else None,
            "linked_to": list(self.linked_to.data or []),
            "features": list(self.features.data or []),
            "active": bool(self.active.data),
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


class BlockForm(FlaskForm):
    """A maintenance block, entered in the resource's local time."""

    start_date = DateField(_l("From (date)"), validators=[DataRequired()])
    start_time = TimeField(_l("From (time)"), validators=[DataRequired()])
    end_date = DateField(_l("Until (date)"), validators=[DataRequired()])
    end_time = TimeField(_l("Until (time)"), validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Block this period"))
