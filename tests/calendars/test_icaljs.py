"""An independent client reads our feeds: Mozilla's ical.js (Thunderbird, many web calendars) via node.

The VTIMEZONE must be read right for years, not only the first one: icalendar's default
RDATE form is misread by ical.js after the first year, our RRULE form is not.
"""

from datetime import datetime


def test_icaljs_reads_a_series_over_three_years_at_the_same_local_hour(client, api, make_resource, icaljs):
    lab = make_resource(max_advance_days=3650)
    # Every 13 weeks for three years: occurrences on both sides of six DST changes.
    booking = api.book(lab, "2026-11-17T10:00", "2026-11-17T11:30", recurrence="FREQ=WEEKLY;INTERVAL=13;COUNT=12")
    url = api.post("/api/v1/calendar-feeds", {"scope": "mine"}).get_json()["url"].split("localhost", 1)[1]
    events = icaljs(client.get(url).data)
    ours = {o["id"]: o for o in booking["occurrences"]}
    assert len(events) == len(ours) == 12
    by_start = {e["local_start"][:19]: e for e in events}
    for occurrence in ours.values():
        local = occurrence["start"][:19]
        event = by_start[local]
        assert event["tzid"] == event["zone"] == "Europe/Bucharest"
        assert local.endswith("10:00:00")
        # ical.js's instant equals ours: offset applied correctly for that date, every year.
        assert datetime.fromisoformat(event["start"].replace("Z", "+00:00")) == datetime.fromisoformat(
            occurrence["start"]
        )
    assert {e["status"] for e in events} == {"CONFIRMED"}


def test_icaljs_sees_cancellations_and_sequence(client, api, make_resource, icaljs):
    booking = api.book(make_resource(), "2026-11-10T10:00", "2026-11-10T11:00")
    url = api.post("/api/v1/calendar-feeds", {"scope": "mine"}).get_json()["url"].split("localhost", 1)[1]
    api.delete(f"/api/v1/bookings/{booking['id']}")
    (event,) = icaljs(client.get(url).data)
    assert event["status"] == "CANCELLED" and event["sequence"] == 1
