from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.forms import Form

REPEAT_CHOICES = [
    SelectChoice("", _l("Does not repeat")),
    SelectChoice("DAILY", _l("Every day")),
    SelectChoice("WEEKLY", _l("Every week")),
    SelectChoice("MONTHLY", _l("Every month")),
]


class BookingForm(Form):
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


class CancelForm(Form):
    occurrence_id = HiddenField()
    following = HiddenField()
    submit = SubmitField(_l("Cancel"))


class DecisionForm(Form):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=1000)])
    approve = SubmitField(_l("Approve"))
    reject = SubmitField(_l("Reject"))


class RescheduleForm(Form):
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
