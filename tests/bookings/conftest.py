from __future__ import annotations

from typing import Any

import pytest


class Api:
    """A tiny API client bound to one user's token."""

    def __init__(self, client, headers: dict[str, str]):
        self.client, self.headers = client, headers

    def book(self, resource, start: str, end: str, expect: int | None = 201, **fields: Any):
        headers = {**self.headers, **fields.pop("extra_headers", {})}
        body = {
            "resource_id": resource.id if hasattr(resource, "id") else resource,
            "start": start,
            "end": end,
            "title": fields.pop("title", "Sesiune"),
            **fields,
        }
        response = self.client.post("/api/v1/bookings", json=body, headers=headers)
        if expect is not None:
            assert response.status_code == expect, response.get_json()
        return response.get_json()

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, json=None):
        return self.client.post(path, json=json if json is not None else {}, headers=self.headers)

    def patch(self, path: str, json):
        return self.client.patch(path, json=json, headers=self.headers)

    def delete(self, path: str, **kwargs):
        return self.client.delete(path, headers=self.headers, **kwargs)


@pytest.fixture
def api_for(client, api_auth):
    def make(user) -> Api:
        return Api(client, api_auth.headers(user))

    return make


@pytest.fixture
def member(make_user):
    return make_user("UVT", "member")


@pytest.fixture
def api(api_for, member) -> Api:
    return api_for(member)


def reasons(problem: dict) -> list[str]:
    return [c["reason"] for c in problem["conflicts"]]
