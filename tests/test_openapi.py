"""The OpenAPI document is valid 3.1 and matches the registered API routes exactly."""

import re

from openapi_spec_validator import validate


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
