from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

REPEAT_CHOICES = [
    SelectChoice("", _l("Does not repeat")),
    SelectChoice("DAILY", _l("Every day")),
    SelectChoice("WEEKLY", _l("Every week")),
    SelectChoice("MONTHLY", _l("Every month")),
]


class BookingForm(FlaskForm):
    title = StringField(_l("Purpose"), validators=[DataRequired(), Length(max=200)])
    date = DateField(_l("Date"), validators=[Optional()])
    start_time = TimeField(_l("From"), validators=[Optional()])
    end_time = TimeField(_l("To"), validators=[Optional()])
    check_in = DateField(_l("Check-in day"), validators=[Optional()])
    check_out = DateField(_l("Check-out day"), validators=[Optional()])
    units = IntegerField(_l("Units"), default=1, validators=[DataRequired(), NumberRange(min=1, max=10000)])
    repeat = SelectField(_l("Repeat"), choices=REPEAT_CHOICES, validators=[Optional()])
    count = IntegerField(_l("Number of sessions"), default=1, validators=[Optional(), NumberRange(min=1, max=520)])
    project_code = StringField(_l("Project or grant code"), validators=[Optional(), Length(max=100)])
    skip_conflicts = HiddenField(default="")
    submit = SubmitField(_l("Book"))

    def validate_for(self, is_dorm: bool) -> bool:
        ok = self.validate()
        if is_dorm:
            for field in (self.check_in, self.check_out):
                if field.data is None:
                    field.errors = [*field.errors, _l("This field is required.")]
                    ok = False
        else:
            for field in (self.date, self.start_time, self.end_time):
                if field.data is None:
                    field.errors = [*field.errors, _l("This field is required.")]
                    ok = False
        return ok


class CancelForm(FlaskForm):
    occurrence_id = HiddenField()
    following = HiddenField()
    submit = SubmitField(_l("Cancel"))


class DecisionForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=1000)])
    approve = SubmitField(_l("Approve"))
    reject = SubmitField(_l("Reject"))


class EventItemForm(Form):
    """One row of an event: a room or equipment session (date and times) or guest beds (date and nights)."""

    resource_id = SelectField(_l("Resource"), choices=[], validate_choice=False, validators=[Optional()])
    title = StringField(_l("Session"), validators=[Optional(), Length(max=200)])
    date = DateField(_l("Date or check-in day"), validators=[Optional()])
    start_time = TimeField(_l("From"), validators=[Optional()])
    end_time = TimeField(_l("To"), validators=[Optional()])
    nights = IntegerField(_l("Nights (dorms)"), validators=[Optional(), NumberRange(min=1, max=60)])
    units = IntegerField(_l("Units or beds"), default=1, validators=[Optional(), NumberRange(min=1, max=10000)])

    def is_empty(self) -> bool:
        return not self.resource_id.data


VISIBILITY_CHOICES = [
    SelectChoice("alliance", _l("Alliance members (signed in)")),
    SelectChoice("public", _l("Public: anyone with the link")),
]


class EventForm(FlaskForm):
    title = StringField(_l("Event title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    visibility = SelectField(_l("Who sees the programme"), choices=VISIBILITY_CHOICES, default="alliance")
    organisers = StringField(_l("Co-organisers (emails, comma-separated)"), validators=[Optional(), Length(max=2000)])
    items = FieldList(FormField(EventItemForm), min_entries=3, max_entries=40)
    check = SubmitField(_l("Check availability"))
    add_row = SubmitField(_l("Add a row"))
    book = SubmitField(_l("Book everything"))


class EventDetailsForm(FlaskForm):
    title = StringField(_l("Event title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    visibility = SelectField(_l("Who sees the programme"), choices=VISIBILITY_CHOICES)
    organisers = StringField(_l("Co-organisers (emails, comma-separated)"), validators=[Optional(), Length(max=2000)])
    save = SubmitField(_l("Save details"))


SHIFT_CHOICES = [SelectChoice(str(d), f"{d:+d}") for d in range(-14, 15) if d]


class EventShiftForm(FlaskForm):
    days = SelectField(_l("Move every item by (days)"), choices=SHIFT_CHOICES, default="1")
    move = SubmitField(_l("Move the event"))


class EventItemsForm(FlaskForm):
    """New items for an existing event."""

    items = FieldList(FormField(EventItemForm), min_entries=2, max_entries=40)
    check = SubmitField(_l("Check availability"))
    add_row = SubmitField(_l("Add a row"))
    book = SubmitField(_l("Add these items"))


class RescheduleForm(FlaskForm):
    """A new time for one booking or one occurrence of a series, in the resource's local time."""

    occurrence_id = HiddenField()
    date = DateField(_l("New date"), validators=[Optional()])
    start_time = TimeField(_l("From"), validators=[Optional()])
    end_time = TimeField(_l("To"), validators=[Optional()])
    check_in = DateField(_l("Check-in day"), validators=[Optional()])
    check_out = DateField(_l("Check-out day"), validators=[Optional()])
    submit = SubmitField(_l("Move the booking"))

    def validate_for(self, is_dorm: bool) -> bool:
        ok = self.validate()
        needed = (self.check_in, self.check_out) if is_dorm else (self.date, self.start_time, self.end_time)
        for field in needed:
            if field.data is None and not field.errors:
                field.errors = [*field.errors, _l("This field is required.")]
                ok = False
        return ok
