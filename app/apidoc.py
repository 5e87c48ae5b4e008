"""The API described by its code.

Each JSON view declares what it takes and answers with `@operation(...)`; the decorator records that on
the view and turns a returned response model into the JSON body with the declared status. The OpenAPI
document (`build_document`) is generated from those declarations, Flask's URL map (paths, path
parameters, methods) and pydantic's JSON Schema, so the document cannot drift from the code.

A small recorder rather than flask-openapi3 or spectree: both want to own request parsing (their own
blueprint class, or their own 422 body), while our views parse with `app.validation` into
problem+json; apispec speaks marshmallow, not pydantic.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from flask import Flask
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, RootModel, WithJsonSchema
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from werkzeug.routing import IntegerConverter, Rule
from werkzeug.wrappers import Response

API_PREFIX = "/api/v1"
REF_TEMPLATE = "#/components/schemas/{model}"

# --- shared output types ---------------------------------------------------------------------

# An instant as `datetime.isoformat()` writes it (UTC, "+00:00"), not pydantic's "Z".
Instant = Annotated[
    datetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
# A wall-clock time in the resource's zone with its offset, from `app.zones.isoformat_local`.
LocalDateTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
IsoDate = Annotated[str, Field(json_schema_extra={"format": "date"})]
# An institution (or anything with a code) answered as its code.
CodeOf = Annotated[str, BeforeValidator(lambda value: getattr(value, "code", value))]

T = TypeVar("T")


class Out(BaseModel):
    """A response model: reads ORM objects, and is dumped without the optional fields left unset."""

    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class Items(Out, Generic[T]):
    items: list[T]


class Page(Out, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int


class FieldErrorOut(BaseModel):
    field: str
    pointer: str
    detail: str


class Problem(BaseModel):
    """application/problem+json (RFC 9457); a 409 adds `conflicts` (and `suggestions`, or `items` per event item)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    status: int
    title: str
    detail: str
    errors: list[FieldErrorOut] | None = None
    conflicts: list[dict[str, Any]] | None = None


class OpenAPIDocument(RootModel[dict[str, Any]]):
    pass


# --- the declaration -------------------------------------------------------------------------

ERROR_TEXT = {
    400: "Malformed request",
    401: "Missing or bad token",
    403: "Forbidden by policy",
    404: "Not found",
    409: "Conflict",
    422: "Invalid input",
    413: "Request body too large",
    429: "Too many requests",
}


@dataclass(frozen=True)
class Operation:
    summary: str
    description: str
    response: type[BaseModel] | None
    status: int
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    headers: type[BaseModel] | None
    errors: tuple[int, ...]
    auth: bool
    also: Mapping[int, type[BaseModel]] = field(default_factory=dict)
    problems: Mapping[int, type[Problem]] = field(default_factory=dict)
    body_required: bool = True
    downloads: tuple[str, ...] = ()  # media types the success answer may also come in (a file)

    def responses(self) -> dict[int, type[BaseModel] | None]:
        return {self.status: self.response, **self.also}

    def error_statuses(self) -> list[int]:
        implied = {401}  # any request with a bad bearer token is refused, anonymous operations included
        if self.body is not None:
            implied |= {400, 413, 422}
        if self.query is not None:
            implied.add(422)
        return sorted(implied | set(self.errors) | set(self.problems))

    def problem(self, status: int) -> type[Problem]:
        return self.problems.get(status, Problem)


def operation(
    response: type[BaseModel] | None = None,
    *,
    status: int = 200,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    headers: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
    auth: bool = False,
    also: Mapping[int, type[BaseModel]] | None = None,
    problems: Mapping[int, type[Problem]] | None = None,
    body_required: bool = True,
    downloads: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a JSON view: its success `status` and `response` model (None for 204), the request `body`,
    `query` and `headers` models, the error statuses beyond those implied (401 always; 400 and 422 with a
    body; 422 with a query), whether it needs a token, other success answers (`also`, status → model) and
    errors with more members than `Problem` (`problems`, status → a Problem subclass). `body_required=False`
    when an empty body means the model's defaults. `downloads`: other media types of the success answer (e.g.
    text/csv); the view returns a Response of one of them, which passes as it is.
    The view's docstring is the summary (first line) and description."""
    if (response is None) != (status == 204):
        raise ValueError("a 204 has no response model, and every other success declares one")

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        summary, _, description = (inspect.getdoc(view) or view.__name__.replace("_", " ")).partition("\n")
        op = Operation(
            summary=summary.strip(),
            description=description.strip(),
            response=response,
            status=status,
            body=body,
            query=query,
            headers=headers,
            errors=tuple(errors),
            auth=auth,
            also=dict(also or {}),
            problems=dict(problems or {}),
            body_required=body_required,
            downloads=tuple(downloads),
        )

        @functools.wraps(view)
        def answer(*args: Any, **kwargs: Any) -> Any:
            return _serialise(op, view(*args, **kwargs))

        answer.api_operation = op  # type: ignore[attr-defined]
        return answer

    return decorate


def _serialise(op: Operation, result: Any) -> Any:
    """A returned model (or a dict, validated by the declared model) becomes its JSON with the declared status
    (a 204's empty answer passes through); a model, or a status, that the operation did not declare is a
    programming error."""
    rest: tuple[Any, ...] = ()
    if isinstance(result, tuple):
        result, *rest_list = result
        rest = tuple(rest_list)
    if op.response is None:  # a 204
        return (result, *rest) if rest else result
    if isinstance(result, Response):
        if result.mimetype not in op.downloads:
            raise TypeError(f"a {result.mimetype} file answered, declared {op.downloads}")
        return result
    models = op.responses()
    status = rest[0] if rest and isinstance(rest[0], int) else op.status
    declared = models.get(status)
    if declared is not None and isinstance(result, dict):
        result = declared.model_validate(result)
    if declared is None or not isinstance(result, declared):
        raise TypeError(f"{type(result).__name__} answered with {status}, declared {models}")
    headers = rest[-1] if rest and isinstance(rest[-1], Mapping) else {}
    body = result.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return body, status, headers


def view_operation(view: Callable[..., Any]) -> Operation | None:
    return getattr(view, "api_operation", None)


# --- the document ----------------------------------------------------------------------------

INFO = {
    "title": "ATU Facilities API",
    "version": "1.0.0",
    "description": "Shared booking of labs, equipment, sports, dorms and event spaces of UVT, UPT, UMFT and USVT. "
    "Datetimes are ISO 8601; a value without offset is the resource's local time.",
}
SECURITY_SCHEMES = {"bearer": {"type": "http", "scheme": "bearer"}}
_PARAM = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def _path_and_parameters(app: Flask, rule: Rule) -> tuple[str, list[dict[str, Any]]]:
    parameters = []
    for match in _PARAM.finditer(rule.rule):
        converter = app.url_map.converters[match["converter"] or "default"]
        schema: dict[str, Any] = {"type": "string"}
        if issubclass(converter, IntegerConverter):
            instance = converter(app.url_map)
            schema = {"type": "integer"}
            if instance.min is not None:
                schema["minimum"] = instance.min
            if instance.max is not None:
                schema["maximum"] = instance.max
        parameters.append({"name": match["name"], "in": "path", "required": True, "schema": schema})
    return openapi_path(rule), parameters


def openapi_path(rule: Rule) -> str:
    """/api/v1/resources/<id:resource_id> → /resources/{resource_id}"""
    return _PARAM.sub(r"{\g<name>}", rule.rule).removeprefix(API_PREFIX)


def api_operations(app: Flask) -> list[tuple[Rule, str, Operation]]:
    """(rule, method, operation) for every rule under the API prefix; a JSON view without @operation is an error."""
    found: list[tuple[Rule, str, Operation]] = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX + "/"):
            continue
        op = view_operation(app.view_functions[rule.endpoint])
        if op is None:
            raise LookupError(f"{rule.endpoint} ({rule.rule}) has no @operation")
        found.extend((rule, method.lower(), op) for method in sorted(operations_of(rule)))
    return found


def operations_of(rule: Rule) -> set[str]:
    return (rule.methods or set()) - {"HEAD", "OPTIONS"}


def _parameters(model: type[BaseModel], where: Literal["query", "header"], schemas: dict[str, Any]) -> list[dict]:
    schema = model.model_json_schema(ref_template=REF_TEMPLATE, mode="validation")
    schemas.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = _not_null(prop)
        param: dict[str, Any] = {"name": name, "in": where, "required": name in required, "schema": prop}
        if "description" in prop:
            param["description"] = prop["description"]
        if prop.get("type") == "array":
            param["explode"] = True  # repeat the name for each value
        parameters.append(param)
    return parameters


def _not_null(prop: dict[str, Any]) -> dict[str, Any]:
    """`X | None = None` in a query model means "may be absent": a parameter is never null."""
    options = [option for option in prop.get("anyOf", []) if option != {"type": "null"}]
    if len(options) != 1:
        return prop
    rest = {key: value for key, value in prop.items() if key != "anyOf" and not (key == "default" and value is None)}
    return options[0] | rest


def _json_content(ref: dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    return {"content": {media: {"schema": ref}}}


def build_document(app: Flask) -> dict[str, Any]:
    operations = api_operations(app)
    wanted: set[tuple[type[BaseModel], JsonSchemaMode]] = {(Problem, "serialization")}
    for _, _, op in operations:
        wanted |= {(model, "serialization") for model in op.responses().values() if model is not None}
        wanted |= {(model, "serialization") for model in op.problems.values()}
        if op.body is not None:
            wanted.add((op.body, "validation"))
    ordered = sorted(wanted, key=lambda pair: (pair[0].__module__, pair[0].__qualname__, pair[1]))
    refs, top = models_json_schema(ordered, ref_template=REF_TEMPLATE)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))

    paths: dict[str, Any] = {}
    for rule, method, op in operations:
        path, parameters = _path_and_parameters(app, rule)
        if op.query is not None:
            parameters += _parameters(op.query, "query", schemas)
        if op.headers is not None:
            parameters += _parameters(op.headers, "header", schemas)
        responses: dict[str, Any] = {}
        for status, model in sorted(op.responses().items()):
            described: dict[str, Any] = {"description": op.summary if status < 300 else str(status)}
            if model is not None:
                described |= _json_content(refs[(model, "serialization")])
            if status == op.status:
                for media in op.downloads:
                    described["content"][media] = {"schema": {"type": "string", "format": "binary"}}
            responses[str(status)] = described
        for status in op.error_statuses():
            problem = refs[(op.problem(status), "serialization")]
            described = {"description": ERROR_TEXT.get(status, str(status))}
            responses[str(status)] = described | _json_content(problem, "application/problem+json")
        # A fault of ours (500) or the database out of reach (503): problem+json like every error.
        responses["default"] = {"description": "Server fault or database unavailable"} | _json_content(
            refs[(Problem, "serialization")], "application/problem+json"
        )
        entry: dict[str, Any] = {
            "operationId": rule.endpoint if len(operations_of(rule)) == 1 else f"{rule.endpoint}.{method}",
            "summary": op.summary,
            "tags": [rule.endpoint.split(".")[-2].removesuffix("_api")],
            "responses": responses,
            "security": [{"bearer": []}] if op.auth else [{}, {"bearer": []}],
        }
        if op.description:
            entry["description"] = op.description
        if parameters:
            entry["parameters"] = parameters
        if op.body is not None:
            entry["requestBody"] = {"required": op.body_required} | _json_content(refs[(op.body, "validation")])
        paths.setdefault(path, {})[method] = entry
    return {
        "openapi": "3.1.0",
        "info": INFO,
        "servers": [{"url": API_PREFIX}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": SECURITY_SCHEMES},
    }
