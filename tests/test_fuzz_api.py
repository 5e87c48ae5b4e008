"""Schemathesis against our own OpenAPI document: every operation, bounded, authenticated as an admin.

Each operation is its own test on a fresh (rolled-back) demo catalogue with a token of its own, so an
operation that revokes tokens (signing out, a password change, deactivating oneself) cannot starve the
others. A case fails on any server error, any status the document does not declare for that operation,
a content type it does not declare, or a body that does not match the declared schema. The examples are
derandomised, so CI is repeatable; `FUZZ_EXAMPLES` (default 12) sets how many per operation and
`FUZZ_SEED` explores another part of the space when set (`make fuzz` runs 100 per operation).
The operations are listed from the document itself, so a new endpoint is fuzzed without a line here;
each is driven by Hypothesis directly (schemathesis's own lazy pytest fixture does not run on pytest 9).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, seed, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.extensions import db
from app.factory import create_app
from config import TestingConfig
from resources.demo import load_demo
from tests.conftest import PASSWORD

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
SEED = os.environ.get("FUZZ_SEED")
METHODS = {"get", "post", "put", "patch", "delete"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_schema(app: Flask):
    load_demo()
    db.session.commit()
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def bearer(client, make_user) -> dict[str, str]:
    admin = make_user("UPT", "admin", email="fuzz-admin@upt.example.org")
    response = client.post("/api/v1/auth/tokens", json={"email": admin.email, "password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def _operations() -> list[tuple[str, str]]:
    """(path, method) of every documented operation, read from the document the app serves."""
    app = create_app(TestingConfig)
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    return [(path, method) for path, item in document["paths"].items() for method in item if method in METHODS]


@pytest.mark.parametrize(("path", "method"), _operations(), ids=lambda value: value)
def test_every_operation_answers_as_documented(api_schema, bearer, path: str, method: str) -> None:
    strategy = api_schema[path][method].as_strategy()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=SEED is None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @seed(int(SEED or 0))
    @given(case=strategy)
    def call(case) -> None:
        case.call_and_validate(headers=bearer, checks=CHECKS)

    call()
