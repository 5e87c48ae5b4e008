"""The OpenAPI document is valid 3.1, generated from the views' declarations, and matches the URL map exactly;
the checker that holds every test's API answers to it refuses what is off the document."""

import ast
import json
import re
from pathlib import Path

import pytest
from openapi_spec_validator import validate
from werkzeug.test import TestResponse
from werkzeug.wrappers import Request

from app.apidoc import build_document
from tests.openapi_check import check_api_response


def api_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        routes |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def documented(doc) -> set[tuple[str, str]]:
    return {(path, method) for path, item in doc["paths"].items() for method in item}


def test_document_is_valid_openapi_3_1(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    validate(doc)


def test_document_matches_routes(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert documented(doc) == api_routes(app)


def test_every_documented_request_body_schema_exists(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    for item in doc["paths"].values():
        for op in item.values():
            if "requestBody" in op:
                ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                assert ref.rsplit("/", 1)[1] in schemas


def test_resource_schema_lists_the_spec_fields(client):
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["ResourceCreate"]
    spec_fields = {
        "name",
        "kind",
        "institution",
        "capacity",
        "units",
        "timezone",
        "visibility",
        "approval",
        "buffer_minutes",
        "min_notice_minutes",
        "max_advance_days",
        "min_duration_minutes",
        "max_duration_minutes",
        "opening_hours",
        "linked_to",
        "tariffs",
        "currency",
        "requires_authorization",
        "quota_hours_per_week",
    }
    assert spec_fields <= set(schema["properties"])
    assert set(schema["required"]) == {"name", "kind", "institution"}


def operations(doc):
    return [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()]


def test_every_operation_declares_its_success_with_a_schema(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    for path, method, op in operations(doc):
        successes = {status: answer for status, answer in op["responses"].items() if status.startswith("2")}
        assert successes, f"{method} {path} declares no success"
        for status, answer in successes.items():
            if status == "204":
                assert "content" not in answer, f"{method} {path}: a 204 has no body"
            else:
                schema = answer["content"]["application/json"]["schema"]
                assert schema["$ref"].startswith("#/components/schemas/"), f"{method} {path} {status}"


def test_every_error_is_a_problem(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    for path, method, op in operations(doc):
        for status, answer in op["responses"].items():
            if status == "default" or int(status) >= 400:
                (media,) = answer["content"]
                assert media == "application/problem+json", f"{method} {path} {status}"
                name = answer["content"][media]["schema"]["$ref"].rsplit("/", 1)[1]
                assert name.endswith("Problem"), f"{method} {path} {status}"
                assert {"status", "title", "detail"} <= set(schemas[name]["required"])
        assert "401" in op["responses"], "a bad token is refused everywhere"


def test_every_reference_resolves(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    text = json.dumps(doc)
    for name in set(re.findall(r'"#/components/schemas/([^"]+)"', text)):
        assert name in doc["components"]["schemas"], name


def test_path_parameters_come_from_the_url_rules(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    for path, method, op in operations(doc):
        in_path = set(re.findall(r"{(\w+)}", path))
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert declared == in_path, f"{method} {path}"
    booking = doc["paths"]["/bookings/{booking_id}"]["get"]["parameters"][0]
    assert booking["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


def test_query_parameters_come_from_the_query_models(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    params = {p["name"]: p for p in doc["paths"]["/resources"]["get"]["parameters"]}
    assert {"kind", "institution", "q", "min_capacity", "free_from", "free_to", "page", "per_page"} <= set(params)
    assert params["per_page"]["schema"]["maximum"] == 100
    availability = doc["paths"]["/resources/{resource_id}/availability"]["get"]["parameters"]
    assert {p["name"] for p in availability if p["in"] == "query" and p["required"]} == {"from", "to"}


API_MODULES = sorted(Path(__file__).resolve().parents[1].glob("*/api.py"))
PARSERS = {"args": "parse_query", "headers": "parse_headers"}
# Views still reading request.args by hand: none (kept so an exception would have to be named here).
BY_HAND: set[tuple[str, str]] = set()


def _views(module: Path) -> list[ast.FunctionDef]:
    return [node for node in ast.parse(module.read_text()).body if isinstance(node, ast.FunctionDef)]


def _declared(view: ast.FunctionDef) -> dict[str, str]:
    """The query and headers models named in the view's @operation(...)."""
    for decorator in view.decorator_list:
        if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == "operation":
            return {
                keyword.arg: ast.unparse(keyword.value)
                for keyword in decorator.keywords
                if keyword.arg in ("query", "headers")
            }
    return {}


def _hand_reads(view: ast.FunctionDef) -> list[str]:
    """request.args / request.headers used other than as the whole input of parse_query / parse_headers."""
    handed_over = set()
    for node in ast.walk(view):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in PARSERS.values():
            handed_over |= {id(arg) for arg in node.args}
    return [
        ast.unparse(node)
        for node in ast.walk(view)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "request"
        and node.attr in PARSERS
        and id(node) not in handed_over
    ]


def test_query_and_header_parameters_are_read_only_through_their_models():
    """Each parameter is named once, in the model the document shows: no view under */api.py reads
    request.args or request.headers itself, and a view declaring a query or headers model parses with it."""
    assert API_MODULES
    by_hand, unparsed = set(), []
    for module in API_MODULES:
        name = module.relative_to(module.parents[1]).as_posix()
        for view in _views(module):
            if _hand_reads(view):
                by_hand.add((name, view.name))
            calls = {
                (node.func.id, ast.unparse(node.args[0]))
                for node in ast.walk(view)
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) in PARSERS.values() and node.args
            }
            for where, model in _declared(view).items():
                parser = PARSERS["args" if where == "query" else "headers"]
                if (parser, model) not in calls:
                    unparsed.append(
                        f"{name} {view.name}: declares {where}={model} but never calls {parser}({model}, …)"
                    )
    assert by_hand == BY_HAND, "views reading request.args/headers by hand"
    assert unparsed == []


@pytest.mark.own_app  # adds a route
def test_a_view_under_the_api_without_a_declaration_is_refused(app):
    app.add_url_rule("/api/v1/undeclared", "undeclared", lambda: {})
    with pytest.raises(LookupError, match="undeclared"):
        build_document(app)


def test_the_resource_answer_carries_every_setting_of_the_input(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    written = set(schemas["ResourceFields"]["properties"]) - {"site_id"}
    answered = schemas["ResourceOut"]["properties"]
    assert written | {"id", "site", "updated_at"} == set(answered)
    assert set(schemas["ResourceOut"]["required"]) == set(answered)
    assert {"id", "name", "kind", "institution", "capacity", "units", "timezone"} <= set(answered)


def test_availability_spans_carry_a_reason(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert set(schemas["BusySpan"]["required"]) == {"start", "end", "reason"}
    assert set(schemas["SpanOut"]["required"]) == {"start", "end"}


@pytest.mark.parametrize(
    ("path", "body", "status", "mistake"),
    [
        ("/institutions", {"items": [{"code": "UVT"}]}, 200, "is a required property"),
        ("/institutions", {"items": []}, 201, "status not declared"),
        ("/institutions/XYZ", {"type": "about:blank"}, 404, "is a required property"),
        ("/nowhere", {"status": 404, "title": "Not found"}, 404, "is a required property"),
    ],
)
def test_the_checker_refuses_an_answer_off_the_document(app, path, body, status, mistake):
    # Built by hand: the real views cannot be made to answer off the document.
    request = Request.from_values("/api/v1" + path, method="GET")
    content_type = "application/problem+json" if status >= 400 else "application/json"
    headers = {"Content-Type": content_type}
    response = TestResponse([json.dumps(body).encode()], str(status), headers, request=request)
    with pytest.raises(AssertionError, match=mistake):
        check_api_response(app, response)
