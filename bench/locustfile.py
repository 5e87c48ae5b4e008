"""The load test's simulated users (bench/loadtest.py runs them): each signs in with its own token, keeps to
one app instance, subscribes to its own calendar feed, then searches, looks at week calendars, timelines and
availability, books, cancels some of its bookings and polls its feed (with ETag), at the weights below."""

from __future__ import annotations

import json
import os
import random
from datetime import date, timedelta
from itertools import count
from pathlib import Path

from locust import HttpUser, between, task

DATA = json.loads(Path(os.environ["LOAD_USERS_FILE"]).read_text(encoding="utf-8"))
HOSTS = os.environ["LOAD_HOSTS"].split(",")
NUMBERS = count()
# The testing clock says 2 November 2026: the history runs from 2024; bookings go to 2027.
FIRST_DAY = date(2026, 11, 9)


def _day(rng: random.Random) -> date:
    return FIRST_DAY + timedelta(days=rng.randrange(0, 120))


class Member(HttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        number = next(NUMBERS)
        self.rng = random.Random(number)
        self.client.base_url = HOSTS[number % len(HOSTS)]
        self.headers = {"Authorization": f"Bearer {DATA['tokens'][number % len(DATA['tokens'])]}"}
        self.mine: list[int] = []
        self.etag = ""
        with self.client.post(
            "/api/v1/calendar-feeds",
            json={"scope": "mine"},
            headers=self.headers,
            name="feed create",
            catch_response=True,
        ) as answer:
            if answer.status_code == 201:
                self.feed = "/calendars/" + answer.json()["url"].split("/calendars/", 1)[1]
            else:
                answer.failure(f"{answer.status_code}")
                self.feed = ""

    @task(3)
    def search(self) -> None:
        day = _day(self.rng)
        kind = self.rng.choice(("lab", "sports", "room"))
        self.client.get(
            f"/api/v1/search?kind={kind}&date={day}&start=10:00&end=12:00", headers=self.headers, name="search"
        )

    @task(3)
    def week(self) -> None:
        rid = self.rng.choice(DATA["readable"])
        self.client.get(
            f"/api/v1/resources/{rid}/calendar?week={_day(self.rng)}", headers=self.headers, name="week calendar"
        )

    @task(1)
    def timeline(self) -> None:
        self.client.get(f"/api/v1/timeline?date={_day(self.rng)}&limit=100", headers=self.headers, name="timeline")

    @task(2)
    def availability(self) -> None:
        rid = self.rng.choice(DATA["readable"])
        day = _day(self.rng)
        self.client.get(
            f"/api/v1/resources/{rid}/availability?from={day}T00:00&to={day + timedelta(days=1)}T00:00",
            headers=self.headers,
            name="availability",
        )

    @task(2)
    def book(self) -> None:
        rid = self.rng.choice(DATA["bookable"])
        day = _day(self.rng)
        hour = self.rng.randrange(8, 18)
        body = {
            "resource_id": rid,
            "start": f"{day}T{hour:02d}:00",
            "end": f"{day}T{hour + 1:02d}:00",
            "title": "Load test",
        }
        with self.client.post(
            "/api/v1/bookings", json=body, headers=self.headers, name="book", catch_response=True
        ) as answer:
            if answer.status_code == 201:
                self.mine.append(answer.json()["id"])
                answer.success()
            elif answer.status_code in (409, 422):  # taken, or outside the resource's own rules: an answer
                answer.success()
            else:
                answer.failure(f"{answer.status_code}")

    @task(1)
    def cancel(self) -> None:
        if not self.mine:
            return
        booking = self.mine.pop(self.rng.randrange(len(self.mine)))
        self.client.delete(f"/api/v1/bookings/{booking}", headers=self.headers, name="cancel")

    @task(3)
    def feed_poll(self) -> None:
        if not self.feed:
            return
        headers = {"If-None-Match": self.etag} if self.etag else {}
        with self.client.get(self.feed, headers=headers, name="feed poll", catch_response=True) as answer:
            if answer.status_code in (200, 304):
                self.etag = answer.headers.get("ETag", self.etag)
                answer.success()
            else:
                answer.failure(f"{answer.status_code}")

    @task(1)
    def healthz(self) -> None:
        self.client.get("/healthz", name="healthz")
