"""Bad input is a clear 4xx problem, never a 500 and never a half-written row."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db
from resources.models import Resource

PROBLEM = "application/problem+json"
LAB = {"name": "Lab", "kind": "lab", "institution": "UVT"}


@pytest.fixture
def h(api_auth, admin):
    return api_auth.headers(admin)


def post(client, h, body, path="/api/v1/resources", content_type="application/json"):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(path, data=data, headers=h, content_type=content_type)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 400),
        (b"{", 400),
        (b"{'name': 'single quotes'}", 400),
        (b"\xff\xfe\x00", 400),
        (b"[]", 400),
        (b'"a string"', 400),
        (b"null", 400),
        (b"12", 400),
    ],
)
def test_broken_json(client, h, body, status):
    response = post(client, h, body)
    assert response.status_code == status
    assert response.content_type == PROBLEM
    assert response.get_json()["detail"]


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"capacity": "ten"}, "capacity"),
        ({"capacity": "10"}, "capacity"),  # strict: numbers are numbers
        ({"capacity": 10.5}, "capacity"),
        ({"capacity": True}, "capacity"),
        ({"capacity": -1}, "capacity"),
        ({"capacity": 10**30}, "capacity"),
        ({"units": 0}, "units"),
        ({"kind": "spaceship"}, "kind"),
        ({"kind": ["lab"]}, "kind"),
        ({"institution": "UBB"}, "institution"),
        ({"institution": 7}, "institution"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Lab\x00"}, "name"),
        ({"name": {"ro": "Lab"}}, "name"),
        ({"description_ro": "y" * 5001}, "description_ro"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "x" * 65}, "timezone"),
        ({"visibility": "secret"}, "visibility"),
        ({"approval": "maybe"}, "approval"),
        ({"buffer_minutes": 100000}, "buffer_minutes"),
        ({"min_duration_minutes": 120, "max_duration_minutes": 60}, "min_duration_minutes"),
        ({"opening_hours": {"mon": [["25:00", "26:00"]]}}, "opening_hours.mon.0"),
        ({"opening_hours": {"mon": "always"}}, "opening_hours.mon"),
        ({"opening_hours": "24/7"}, "opening_hours"),
        ({"tariffs": {"own": -5}}, "tariffs.own"),
        ({"tariffs": {"friends": 5}}, "tariffs.friends"),
        ({"tariffs": {"own": "free"}}, "tariffs.own"),
        ({"currency": "lei"}, "currency"),
        ({"requires_authorization": "yes"}, "requires_authorization"),
        ({"quota_hours_per_week": 0}, "quota_hours_per_week"),
        ({"quota_hours_per_week": 500}, "quota_hours_per_week"),
        ({"features": ["teleporter"]}, "features"),
        ({"features": "projector"}, "features"),
        ({"features": ["projector"] * 51}, "features"),
        ({"linked_to": ["one"]}, "linked_to.0"),
        ({"linked_to": [2**40]}, "linked_to.0"),
        ({"site_id": 2**40}, "site_id"),
        ({"check_in_time": "2pm"}, "check_in_time"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_fields_are_422_with_the_field_named(client, h, patch, field):
    response = post(client, h, {**LAB, **patch})
    assert response.status_code == 422, response.get_json()
    assert response.content_type == PROBLEM
    body = response.get_json()
    assert body["status"] == 422 and body["title"] and body["detail"]
    assert field in {e["field"] for e in body["errors"]}, body["errors"]
    assert all(e["pointer"].startswith("#/") for e in body["errors"])
    assert db.session.query(Resource).count() == 0


@pytest.mark.parametrize("missing", ["name", "kind", "institution"])
def test_required_fields(client, h, missing):
    body = {k: v for k, v in LAB.items() if k != missing}
    response = post(client, h, body)
    assert response.status_code == 422
    assert missing in {e["field"] for e in response.get_json()["errors"]}


def test_body_too_large_is_413(client, h):
    response = post(client, h, b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}')
    assert response.status_code == 413
    assert response.content_type == PROBLEM


@pytest.mark.parametrize(
    "query",
    [
        "page=abc",
        "page=0",
        "page=-1",
        "page=99999999999999999999",
        "per_page=1000",
        "per_page=0",
        "min_capacity=-1",
        "min_capacity=lots",
        "kind=spaceship",
        "free_from=garbage&free_to=2026-12-01T10:00",
        "free_from=2026-12-01T10:00",
        "free_from=2026-12-01T10:00&free_to=2026-12-01T09:00",
        "free_from=2026-03-29T03:30&free_to=2026-03-29T05:00",
        "free_from=9999-12-31T23:59&free_to=9999-12-31T23:59",
        "q=" + "x" * 501,
        "q=%00",
    ],
)
def test_bad_query_strings_are_422(client, make_resource, query):
    make_resource(visibility="public")
    response = client.get(f"/api/v1/resources?{query}")
    assert response.status_code == 422, (query, response.get_json())
    assert response.content_type == PROBLEM


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/resources/99999"),
        ("get", "/api/v1/resources/99999999999999999999"),
        ("get", "/api/v1/resources/0"),
        ("get", "/api/v1/resources/abc"),
        ("get", "/api/v1/nothing-here"),
        ("patch", "/api/v1/resources/99999"),
        ("post", "/api/v1/resources/99999/blocks"),
        ("delete", "/api/v1/resources/{resource}/blocks/99999"),  # a resource that exists, a block that does not
    ],
)
def test_unknown_things_are_404_problems(client, h, make_resource, method, path):
    path = path.format(resource=make_resource().id)  # ids are not reset between tests
    body = {"start": "2026-12-01T10:00", "end": "2026-12-01T11:00"} if path.endswith("blocks") else {}
    response = getattr(client, method)(path, headers=h, json=body)
    assert response.status_code == 404
    assert response.content_type == PROBLEM


def test_wrong_method_is_405_problem(client):
    response = client.put("/api/v1/resources")
    assert response.status_code == 405
    assert response.content_type == PROBLEM
    assert "GET" in response.headers["Allow"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
fields = st.sampled_from(
    [
        "name",
        "kind",
        "institution",
        "capacity",
        "units",
        "timezone",
        "visibility",
        "approval",
        "opening_hours",
        "tariffs",
        "linked_to",
        "features",
        "min_duration_minutes",
        "max_duration_minutes",
        "site_id",
        "currency",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(fields, json_values, max_size=6))
def test_fuzzed_bodies_never_500(client, h, body):
    response = post(client, h, {**LAB, **body})
    assert response.status_code in {201, 400, 403, 422}, (body, response.get_json())
    if response.status_code != 201:
        assert response.content_type == PROBLEM
