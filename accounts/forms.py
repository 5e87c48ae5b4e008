from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from accounts.models import AFFILIATION_LABELS, ROLE_LABELS
from app.forms import Form
from resources.forms import INSTITUTION_CODES, choices


class LoginForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField(_l("Keep me signed in"))
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


class LogoutForm(Form):
    submit = SubmitField(_l("Sign out"))


LOCALE_CHOICES = [
    SelectChoice("", _l("Default (Romanian)")),
    SelectChoice("ro", "Română"),
    SelectChoice("en", "English"),
]


class UserFilterForm(Form):
    """GET filters of the users list; no CSRF for a read."""

    class Meta:
        csrf = False

    q = StringField(_l("Email or name"), validators=[Optional(), Length(max=200)])
    institution = SelectField(
        _l("University"),
        choices=choices([("", _l("All universities")), *((c, c) for c in INSTITUTION_CODES)]),
        validators=[Optional()],
    )
    role = SelectField(
        _l("Role"), choices=choices([("", _l("Any role")), *ROLE_LABELS.items()]), validators=[Optional()]
    )
    status = SelectField(
        _l("Status"),
        choices=choices([("", _l("Active or not")), ("active", _l("active")), ("deactivated", _l("deactivated"))]),
        validators=[Optional()],
    )


class UserEditForm(Form):
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)])
    institution = SelectField(_l("University"), choices=choices((c, c) for c in INSTITUTION_CODES))
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS.items()))
    affiliation = SelectField(_l("Affiliation"), choices=choices(AFFILIATION_LABELS.items()))
    locale = SelectField(_l("Language of mails"), choices=LOCALE_CHOICES, validators=[Optional()])
    active = BooleanField(_l("Active (may sign in and use API tokens)"))
    password = PasswordField(
        _l("New password (optional)"), validators=[Optional(), Length(min=8, max=1024)], render_kw={"minlength": 8}
    )
    submit = SubmitField(_l("Save"))

    def values(self) -> dict:
        values = {
            "full_name": (self.full_name.data or "").strip(),
            "institution": self.institution.data,
            "role": self.role.data,
            "affiliation": self.affiliation.data,
            "locale": self.locale.data or None,
            "active": bool(self.active.data),
        }
        if self.password.data:
            values["password"] = self.password.data
        return values


class UserCreateForm(UserEditForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=1024)])
    submit = SubmitField(_l("Create user"))

    def values(self) -> dict:
        return {**super().values(), "email": self.email.data, "password": self.password.data}
