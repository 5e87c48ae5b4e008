"""The settings form reads each setting's default, limits and choices from the API's schema,
and carries every setting it shows to the API's dict and back without naming it again."""

import pytest
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from resources.forms import ResourceForm
from resources.schemas import ResourceCreate, ResourceFields, resource_defaults

SETTINGS = ResourceFields.model_json_schema()["properties"]


def _rule(name: str) -> dict:
    return next(s for s in SETTINGS[name]["anyOf"] if s.get("type") != "null")


@pytest.fixture
def form_for(app):
    def build(**kwargs) -> ResourceForm:
        return ResourceForm(
            institutions=["UVT", "UPT"], sites=[], linkable=[], meta={"csrf": False}, formdata=None, **kwargs
        )

    with app.test_request_context():
        yield build


def _validator(field, kind):
    return next((v for v in field.validators if isinstance(v, kind)), None)


def test_a_new_form_starts_at_the_schema_defaults(form_for):
    form = form_for()
    defaults = resource_defaults()
    shown = [name for name in ResourceForm.settings() if name in defaults and name != "site_id"]
    assert len(shown) > 20
    for name in shown:
        assert form[name].data == defaults[name], name
    assert form.always_open.data is (defaults["opening_hours"] is None)


def test_limits_and_choices_are_the_schemas(form_for):
    form = form_for()
    for name in ResourceForm.settings():
        field, rule = form[name], _rule(name)
        if isinstance(field, IntegerField):
            limits = _validator(field, NumberRange)
            assert (limits.min, limits.max) == (rule["minimum"], rule["maximum"]), name
            # A setting that may not be cleared (its default is not None) must be given.
            assert (_validator(field, InputRequired) is not None) is (resource_defaults().get(name) is not None), name
        elif isinstance(field, StringField) and "maxLength" in rule:
            assert _validator(field, Length).max == rule["maxLength"], name
        elif isinstance(field, SelectField) and "enum" in rule:
            assert [choice.value for choice in field.choices] == rule["enum"], name


def test_a_new_forms_values_are_what_the_api_would_default_to(form_for):
    form = form_for(data={"name": "Sala 1", "kind": "room", "institution": "UVT"})
    values = form.values()
    assert set(values) <= set(ResourceFields.model_fields)
    ResourceCreate.model_validate(values)
    defaults = resource_defaults()
    assert {name: values[name] for name in defaults if name in values} == {
        name: defaults[name] for name in defaults if name in values
    }


def test_a_stored_resource_goes_through_the_form_unchanged(app, form_for, make_resource):
    resource = make_resource(
        "UVT",
        kind="dorm",
        name_en="Guest room",
        description_ro="Cameră",
        capacity=2,
        units=2,
        visibility="public",
        approval="partners",
        buffer_minutes=30,
        min_notice_minutes=120,
        max_advance_days=60,
        partner_max_advance_days=14,
        allow_partners=False,
        check_in_required=True,
        no_show_minutes=20,
        min_duration_minutes=1440,
        opening_hours={"mon": [["08:00", "12:00"], ["14:00", "20:00"]]},
        tariffs={"own": 10.0, "external": 90.5},
        currency="EUR",
        requires_authorization=True,
        quota_hours_per_week=7.5,
        approval_deadline_hours=24,
        check_in_time="15:00",
        features=["wifi"],
        active=False,
    )
    values = form_for(data=ResourceForm.data_from(resource)).values()
    ResourceCreate.model_validate(values)
    stored = {name: getattr(resource, name) for name in values if name not in ("institution", "linked_to")}
    assert values == {**stored, "institution": "UVT", "linked_to": []}
