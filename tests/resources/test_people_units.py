"""Rules in people's units: days and hours, not raw minutes, on the resource page and in a refusal."""

from __future__ import annotations


def test_the_rules_are_said_in_days_and_hours(client, api, make_resource):
    lab = make_resource(
        visibility="public", min_notice_minutes=2880, max_duration_minutes=43200, min_duration_minutes=90
    )
    page = client.get(f"/resources/{lab.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "book at least 2 days ahead" in page and "at most 30 days" in page and "at least 1 hour 30 minutes" in page
    assert "2880" not in page and "43200" not in page
    romanian = client.get(f"/resources/{lab.id}", headers={"Accept-Language": "ro"}).get_data(as_text=True)
    assert "cu cel puțin 2 zile înainte" in romanian and "cel mult 30 de zile" in romanian


def test_a_refusal_says_the_limit_in_hours(api, make_resource):
    court = make_resource(kind="sports", max_duration_minutes=120)
    refused = api.book(court, "2026-11-10T10:00", "2026-11-10T13:00", expect=409)
    assert refused["conflicts"][0]["reason"] == "too_long"
    assert refused["conflicts"][0]["detail"] == "at most 2 hours"
    romanian = api.client.post(
        "/api/v1/bookings",
        json={"resource_id": court.id, "start": "2026-11-10T10:00", "end": "2026-11-10T13:00", "title": "x"},
        headers={**api.headers, "Accept-Language": "ro"},
    ).get_json()
    assert romanian["conflicts"][0]["detail"] == "cel mult 2 ore"
