"""Reads are bounded below by the longest booking ever made on the resources involved, linked ones included:
a long session that began days before the window still holds it (availability.busy.read_busy)."""

from __future__ import annotations


def test_a_long_session_on_a_linked_resource_that_began_days_before_still_holds_the_window(
    api, api_for, admin, make_resource
):
    court = make_resource("UVT", "sports", max_duration_minutes=None)
    hall = make_resource("UVT", "sports", max_duration_minutes=None)
    boss = api_for(admin)
    assert boss.patch(f"/api/v1/resources/{hall.id}", {"linked_to": [court.id]}).status_code == 200
    boss.book(court, "2026-11-10T08:00", "2026-11-13T08:00")  # three days on the court only
    window = {"from": "2026-11-12T10:00", "to": "2026-11-12T12:00"}
    for resource, reason in ((court, "overlap"), (hall, "linked")):
        answer = api.get(f"/api/v1/resources/{resource.id}/availability", query_string=window).get_json()
        assert answer["free"] == [], (resource.id, answer)
        assert [(b["start"][:16], b["end"][:16], b["reason"]) for b in answer["busy"]] == [
            ("2026-11-12T10:00", "2026-11-12T12:00", reason)
        ]
    refused = api.book(hall, "2026-11-12T10:00", "2026-11-12T11:00", expect=409)
    assert refused["conflicts"][0]["reason"] == "linked"
