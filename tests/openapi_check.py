"""Every answer the test client gets from /api/v1 is checked against the generated OpenAPI document.

The operation is found by the request's method and URL rule; the schema is the one the operation declares
for the returned status and media type (JSON Schema Draft 2020-12). A status the operation does not declare,
a body where none is declared, or a body that does not validate fails the test that made the request.
A URL or method no rule serves must answer a Problem. Conftest imports the autouse fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from werkzeug.exceptions import HTTPException
from werkzeug.test import TestResponse

from app.apidoc import API_PREFIX, build_document, openapi_path

JSON_TYPES = ("application/json", "application/problem+json")
_document: dict[str, Any] | None = None
_validators: dict[str, Draft202012Validator] = {}


def api_document(app: Flask) -> dict[str, Any]:
    """The document, built once per session: it depends on the code only, not on configuration."""
    global _document
    if _document is None:
        _document = build_document(app)
    return _document


def _validator(doc: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    key = repr(sorted(schema.items()))
    if key not in _validators:
        # The references point into the document's components, so the components travel with the schema.
        _validators[key] = Draft202012Validator({**schema, "components": doc["components"]})
    return _validators[key]


def _declared_schema(app: Flask, method: str, path: str, response: TestResponse) -> tuple[str, dict[str, Any] | None]:
    """(where, schema) of the answer; schema None when the operation declares the status without a body."""
    doc = api_document(app)
    problem = {"$ref": "#/components/schemas/Problem"}
    try:
        rule, _ = app.url_map.bind("localhost").match(path, method=method, return_rule=True)
    except HTTPException as exc:
        if response.status_code not in (404, 405):
            raise AssertionError(f"{method} {path}: no rule serves it, yet it answered {response.status_code}") from exc
        return f"{method} {path} (no rule)", problem
    where = f"{method} {rule.rule} → {response.status_code}"
    operation = doc["paths"].get(openapi_path(rule), {}).get(method.lower())
    if operation is None:
        raise AssertionError(f"{where}: the operation is not in the OpenAPI document")
    declared = operation["responses"].get(str(response.status_code))
    if declared is None and response.status_code >= 500:
        declared = operation["responses"].get("default")
    if declared is None:
        raise AssertionError(f"{where}: status not declared (declared: {', '.join(operation['responses'])})")
    if "content" not in declared:
        return where, None
    if response.mimetype not in declared["content"]:
        raise AssertionError(f"{where}: answered {response.mimetype}, declared {', '.join(declared['content'])}")
    return where, declared["content"][response.mimetype]["schema"]


def check_api_response(app: Flask, response: TestResponse) -> None:
    request = response.request
    method, path = request.method, request.path
    if not path.startswith(API_PREFIX + "/") or method in ("HEAD", "OPTIONS"):
        return
    where, schema = _declared_schema(app, method, path, response)
    body = response.get_data()
    if schema is None:
        if body:
            raise AssertionError(f"{where}: a body where the document declares none: {body[:200]!r}")
        return
    if schema == {"type": "string", "format": "binary"}:
        if not body:
            raise AssertionError(f"{where}: an empty {response.mimetype} file")
        return  # a declared download (a CSV or XLSX file): its media type was checked above
    if response.mimetype not in JSON_TYPES:
        raise AssertionError(f"{where}: {response.mimetype} is not JSON")
    errors = sorted(_validator(api_document(app), schema).iter_errors(response.get_json()), key=str)
    if errors:
        details = "\n".join(f"  at /{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors[:5])
        raise AssertionError(f"{where}: the body does not match the OpenAPI document\n{details}")


@pytest.fixture(autouse=True)
def check_api_responses(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Wraps the Flask test client so that each /api/v1 answer is checked as it arrives."""
    plain_open = FlaskClient.open

    def open_and_check(self: FlaskClient, *args: Any, **kwargs: Any) -> TestResponse:
        response = plain_open(self, *args, **kwargs)
        check_api_response(self.application, response)
        return response

    monkeypatch.setattr(FlaskClient, "open", open_and_check)
    yield
