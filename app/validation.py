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
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
)
from pydantic.fields import FieldInfo

from app.errors import InvalidInput, MalformedRequest, field_error

M = TypeVar("M", bound=BaseModel)


Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_when(value: Any) -> date | datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("must be an ISO 8601 date-time (or a date, for dorms) as a string")
    try:
        if _DATE.match(value):
            return date.fromisoformat(value)
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 date-time: {value!r}") from exc


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


def _printable(value: str) -> str:
    # NUL and other control characters break PostgreSQL text and terminals; tabs
    # and newlines are fine in descriptions, so only Cc other than those is refused.
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in value):
        raise ValueError("must not contain control characters")
    return value


def text(max_length: int, min_length: int = 0) -> type[str]:
    return Annotated[  # type: ignore[return-value]
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_printable),
    ]


Name = text(200, 1)
ShortText = text(500)
LongText = text(5000)
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
