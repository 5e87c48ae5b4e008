"""A feed's rendered bytes are shared by every process and host through the database (`feed_renders`,
keyed by the feed, valid for one fingerprint): a worker that never rendered a feed serves it without
rendering, and no worker serves bytes older than the feed's rows (issue 13). Two app instances on one
database stand for two hosts; the in-process cache is emptied between them, as another process has its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.factory import create_app
from calendars import services
from calendars.models import FeedRender
from tests.conftest import Api, _config_for

pytestmark = pytest.mark.committed


@pytest.fixture
def other_host(database: str) -> Iterator[Flask]:
    other = create_app(_config_for(database))
    yield other
    with other.app_context():
        db.engine.dispose()


@pytest.fixture
def feed_path(api: Api) -> str:
    response = api.post("/api/v1/calendar-feeds", {"scope": "mine"})
    assert response.status_code == 201
    return response.get_json()["url"].split("localhost", 1)[1]


def test_a_feed_rendered_on_one_host_is_served_by_another_without_rendering(
    client, other_host, api, feed_path, make_resource, monkeypatch
):
    api.book(make_resource(), "2026-11-10T10:00", "2026-11-10T11:00", title="Seminar de chimie")
    first = client.get(feed_path)
    assert first.status_code == 200 and b"Seminar de chimie" in first.data
    services._cache.clear()  # the other host has a cache of its own, empty

    def no_render(*args, **kwargs):
        raise AssertionError("the other host rendered the feed again")

    monkeypatch.setattr(services, "render", no_render)
    served = other_host.test_client().get(feed_path)
    assert served.status_code == 200
    assert served.data == first.data and served.headers["ETag"] == first.headers["ETag"]
    assert served.headers["Last-Modified"] == first.headers["Last-Modified"]


def test_a_feed_changed_through_one_host_is_fresh_on_the_other(client, other_host, api, feed_path, make_resource):
    lab = make_resource()
    api.book(lab, "2026-11-10T10:00", "2026-11-10T11:00", title="Seminar de chimie")
    before = client.get(feed_path)
    other = other_host.test_client()
    body = {"resource_id": lab.id, "start": "2026-11-11T10:00", "end": "2026-11-11T11:00", "title": "Curs de fizica"}
    assert other.post("/api/v1/bookings", json=body, headers=api.headers).status_code == 201
    services._cache.clear()
    after = client.get(feed_path, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and b"Curs de fizica" in after.data
    services._cache.clear()
    assert other.get(feed_path).data == after.data
    with other_host.app_context():
        assert db.session.scalar(select(func.count()).select_from(FeedRender)) == 1  # one feed, one row


def test_the_purge_job_forgets_old_renders(app, client, feed_path, runner):
    assert client.get(feed_path).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FeedRender)) == 1
    app.config["CLOCK_NOW"] = app.config["CLOCK_NOW"].replace(year=2027)
    result = runner.invoke(args=["jobs", "run", "purge"])
    assert "1 feed render(s)" in result.output
