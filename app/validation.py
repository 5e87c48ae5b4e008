"""Shared input types and JSON parsing for the API: strict types, no unknown fields,
bounded sizes, and pydantic errors turned into our 422/400 problems."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, TypeVar, get_origin

from flask_babel import lazy_gettext as _l
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from wtforms import DateTimeField, StringField, TextAreaField
from wtforms.validators import StopValidation

from app.errors import InvalidInput, MalformedRequest, field_error

M = TypeVar("M", bound=BaseModel)


Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# Every date or time anyone may give lies in these years (SPEC: "before 1900 or after 2200 -> 422");
# zones.EARLIEST/LATEST narrow what may be booked, with their own message.
FIRST_YEAR, LAST_YEAR = 1900, 2200
YEARS_MESSAGE = _l("Must be between the years 1900 and 2200.")


def within_years(value: Any) -> Any:
    if isinstance(value, date) and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise PydanticCustomError("date_out_of_range", str(YEARS_MESSAGE))
    return value


def parse_when(value: Any) -> date | datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("must be an ISO 8601 date-time (or a date, for dorms) as a string")
    try:
        parsed = date.fromisoformat(value) if _DATE.match(value) else datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 date-time: {value!r}") from exc
    return within_years(parsed)  # type: ignore[no-any-return]


Moment = Annotated[datetime, AfterValidator(within_years)]
Day = Annotated[date, AfterValidator(within_years)]
When = Annotated[
    date | datetime,
    PlainValidator(parse_when),
    WithJsonSchema(
        {
            "type": "string",
            "description": "ISO 8601 date-time; without offset = the resource's local time; a date (YYYY-MM-DD) for dorm check-in/check-out days",
        }
    ),
]


# The one text policy, for the API's schemas and the pages' forms alike. A single line (titles,
# names, reasons, codes: anything that may end up in a mail header, a calendar property, a CSV
# cell or a filename) holds no control character (C0 incl. NUL and TAB, DEL, C1 incl. U+0085) and
# no line or paragraph separator (U+2028, U+2029). Several lines (descriptions) may hold line
# feeds, and nothing else of those; a browser's CRLF (or a lone CR) is read as a line feed.
SINGLE_LINE_MESSAGE = _l("Must be a single line, without control characters.")
MULTI_LINE_MESSAGE = _l("Must not contain control characters other than line breaks.")


def _breaks_line(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def is_single_line(value: str) -> bool:
    return not any(_breaks_line(ch) for ch in value)


def normalise_newlines(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")


def is_multi_line(value: str) -> bool:
    return not any(_breaks_line(ch) and ch != "\n" for ch in normalise_newlines(value))


def one_line(value: str) -> str:
    """Defence at the edges (mail headers, CSV cells, filenames): text stored before the policy, or
    built from several fields, with every separator or control character turned into a space."""
    return " ".join("".join(" " if _breaks_line(ch) else ch for ch in value).split())


def _check_single_line(value: Any) -> Any:
    if isinstance(value, str) and not is_single_line(value):
        raise PydanticCustomError("single_line", str(SINGLE_LINE_MESSAGE))
    return value


def _check_multi_line(value: Any) -> Any:
    if isinstance(value, str):
        if not is_multi_line(value):
            raise PydanticCustomError("multi_line", str(MULTI_LINE_MESSAGE))
        return normalise_newlines(value)
    return value


def text(max_length: int, min_length: int = 0) -> type[str]:
    """A single line of at most `max_length` characters (after stripping surrounding spaces)."""
    return Annotated[  # type: ignore[return-value]
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        BeforeValidator(_check_single_line),  # wraps the above, so it sees the text before stripping
    ]


def paragraphs(max_length: int, min_length: int = 0) -> type[str]:
    """Text of several lines (line feeds only) of at most `max_length` characters."""
    return Annotated[  # type: ignore[return-value]
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        BeforeValidator(_check_multi_line),  # wraps the above, so it sees the text before stripping
    ]


Name = text(200, 1)
ShortText = text(500)
LongText = paragraphs(5000)
Minutes = Annotated[int, Field(ge=0, le=366 * 24 * 60)]


class StrictInput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


def _location(loc: tuple) -> str:
    # pydantic marks an invalid dict key with "[key]"; the key itself names the field.
    return ".".join(str(part) for part in loc if part != "[key]")


def errors_from_pydantic(exc: ValidationError) -> list[dict[str, str]]:
    errors = []
    for error in exc.errors(include_url=False):
        field = _location(error["loc"])
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        errors.append(field_error(field, message))
    return errors


def parse_json(model: type[M], raw: bytes) -> M:
    if not raw.strip():
        raise MalformedRequest(_l("The request body must be a JSON object."))
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise MalformedRequest(_l("The request body is not valid JSON.")) from exc
        if any(e["type"] == "model_type" and not e["loc"] for e in exc.errors()):
            raise MalformedRequest(_l("The request body must be a JSON object.")) from exc
        raise InvalidInput(errors_from_pydantic(exc)) from exc


def _is_list(field: FieldInfo) -> bool:
    return get_origin(field.annotation) is list


def parse_query(model: type[M], args: Mapping[str, Any]) -> M:
    """Query strings are text, so these models validate in lax mode.

    Unknown parameters are ignored (the models say extra="ignore"); an empty value
    (`?from=`) counts as absent; a list field takes every value of a repeated name."""
    data: dict[str, Any] = {}
    for key in args:
        field = model.model_fields.get(key) or next((f for f in model.model_fields.values() if f.alias == key), None)
        if field is not None and _is_list(field) and hasattr(args, "getlist"):
            data[key] = [value for value in args.getlist(key) if value != ""]  # type: ignore[attr-defined]
        elif (value := args.get(key)) != "":
            data[key] = value
    try:
        return model.model_validate(data, strict=False)
    except ValidationError as exc:
        raise InvalidInput(errors_from_pydantic(exc)) from exc


def parse_headers(model: type[M], headers: Mapping[str, str]) -> M:
    """Request headers named by the model (its aliases, e.g. "Idempotency-Key"), validated
    like a query; the other headers are none of its business."""
    data: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        value = headers.get(key)
        if value is not None:
            data[key] = value
    try:
        return model.model_validate(data, strict=False)
    except ValidationError as exc:
        raise InvalidInput(errors_from_pydantic(exc)) from exc


# --- the same policy for the pages' forms (WTForms) -------------------------------------------


# First in each field's chain, and stopping it: a later Optional() would take "\r" for blank and
# wipe the message.
def single_line_field(form: Any, field: Any) -> None:
    if isinstance(field.data, str) and not is_single_line(field.data):
        raise StopValidation(SINGLE_LINE_MESSAGE)


def multi_line_field(form: Any, field: Any) -> None:
    if isinstance(field.data, str) and not is_multi_line(field.data):
        raise StopValidation(MULTI_LINE_MESSAGE)


def years_field(form: Any, field: Any) -> None:
    if isinstance(field.data, date) and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise StopValidation(YEARS_MESSAGE)


def _newlines_filter(value: Any) -> Any:
    return normalise_newlines(value) if isinstance(value, str) else value


class InputPolicyMeta:
    """Mixed into a form's Meta (app.forms.Form): every text field of every page form checks the text
    policy — a text area as several lines (its CRLFs read as line feeds), any other one as a single
    line — and every date field the years (1900-2200), as the API's types do."""

    def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
        field = super().bind_field(form, unbound_field, options)  # type: ignore[misc]
        if isinstance(field, TextAreaField):
            field.filters = (_newlines_filter, *field.filters)
            field.validators = [multi_line_field, *field.validators]
        elif isinstance(field, StringField):
            field.validators = [single_line_field, *field.validators]
        elif isinstance(field, DateTimeField):  # DateField too
            field.validators = [*field.validators, years_field]
        return field
