"""Forms of the joint event pages: the builder's item rows, the details, moving and adding items."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    FieldList,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.forms import Form, Subform


class EventItemForm(Subform):
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


class EventForm(Form):
    title = StringField(_l("Event title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    visibility = SelectField(_l("Who sees the programme"), choices=VISIBILITY_CHOICES, default="alliance")
    organisers = StringField(_l("Co-organisers (emails, comma-separated)"), validators=[Optional(), Length(max=2000)])
    items = FieldList(FormField(EventItemForm), min_entries=3, max_entries=40)
    check = SubmitField(_l("Check availability"))
    add_row = SubmitField(_l("Add a row"))
    book = SubmitField(_l("Book everything"))


class EventDetailsForm(Form):
    title = StringField(_l("Event title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    visibility = SelectField(_l("Who sees the programme"), choices=VISIBILITY_CHOICES)
    organisers = StringField(_l("Co-organisers (emails, comma-separated)"), validators=[Optional(), Length(max=2000)])
    save = SubmitField(_l("Save details"))


SHIFT_CHOICES = [SelectChoice(str(d), f"{d:+d}") for d in range(-14, 15) if d]


class EventShiftForm(Form):
    days = SelectField(_l("Move every item by (days)"), choices=SHIFT_CHOICES, default="1")
    move = SubmitField(_l("Move the event"))


class EventItemsForm(Form):
    """New items for an existing event."""

    items = FieldList(FormField(EventItemForm), min_entries=2, max_entries=40)
    check = SubmitField(_l("Check availability"))
    add_row = SubmitField(_l("Add a row"))
    book = SubmitField(_l("Add these items"))
