"""An event's programme as a feed attendees subscribe to: public URL for public events, a private
`event:ID` feed for alliance ones; read by icalendar, recurring-ical-events and Mozilla's ical.js."""

from datetime import date, datetime

import pytest
import recurring_ical_events
from icalendar import Calendar

from bookings.models import Occurrence
from events.models import Event


@pytest.fixture
def symposium(make_event, make_resource):
    """Opening and a seminar on 10 November, guest beds 9-11 November (not programme)."""

    def make(organiser, visibility="public") -> Event:
        aula = make_resource("UPT", "room", name="Aula Magna", visibility="public")
        seminar = make_resource("UVT", "room", name="Sala 201", visibility="public")
        beds = make_resource("USVT", "dorm", units=4, capacity=4, name="Camera 12")
        return make_event(
            {
                "resource": aula,
                "start": datetime(2026, 11, 10, 9),
                "end": datetime(2026, 11, 10, 12),
                "title": "Deschidere",
            },
            {"resource": seminar, "start": datetime(2026, 11, 10, 14), "end": datetime(2026, 11, 10, 17)},
            {"resource": beds, "start": date(2026, 11, 9), "end": date(2026, 11, 11), "units": 4},
            organiser=organiser,
            visibility=visibility,
        )

    return make


def _vevents(data: bytes):
    return Calendar.from_ical(data).walk("VEVENT")


def test_public_event_feed_is_the_programme(client, symposium, make_user, icaljs):
    event = symposium(make_user("UVT"))
    response = client.get(f"/calendars/events/{event.id}.ics")
    assert response.status_code == 200 and response.content_type == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["X-WR-CALNAME"]) == "Simpozion ATU – ATU Facilities"
    events = sorted(_vevents(response.data), key=lambda e: e["DTSTART"].dt)
    assert [str(e["SUMMARY"]) for e in events] == ["Simpozion ATU – Deschidere", "Simpozion ATU"]
    assert "Aula Magna" in str(events[0]["LOCATION"]) and "UPT" in str(events[0]["LOCATION"])
    assert str(events[0]["URL"]).endswith(f"/events/{event.id}")
    # Guest beds are not programme; UIDs cannot be matched with the organisers' private copies.
    stored = {o.uid for o in Occurrence.query.all()}
    assert not {str(e["UID"]) for e in events} & stored
    # A recurrence-aware reader and Mozilla's ical.js see the same two sessions at 09:00 and 14:00 local.
    between = recurring_ical_events.of(calendar).between(date(2026, 11, 1), date(2026, 12, 1))
    assert sorted(e["DTSTART"].dt.strftime("%H:%M %z") for e in between) == ["09:00 +0200", "14:00 +0200"]
    parsed = sorted(icaljs(response.data), key=lambda e: e["start"])
    assert [(e["summary"], e["local_start"][:16], e["tzid"]) for e in parsed] == [
        ("Simpozion ATU – Deschidere", "2026-11-10T09:00", "Europe/Bucharest"),
        ("Simpozion ATU", "2026-11-10T14:00", "Europe/Bucharest"),
    ]
    assert datetime.fromisoformat(parsed[0]["start"].replace("Z", "+00:00")).hour == 7


def test_event_feed_follows_changes(client, symposium, api_for, make_user, icaljs):
    user = make_user("UVT")
    event, organiser = symposium(user), api_for(user)
    url = f"/calendars/events/{event.id}.ics"
    first = client.get(url)
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    organiser.patch(f"/api/v1/events/{event.id}", {"shift_days": 1, "title": "Simpozion ATU 2026"})
    moved = sorted(icaljs(client.get(url).data), key=lambda e: e["start"])
    assert [(e["summary"], e["local_start"][:16], e["sequence"]) for e in moved] == [
        ("Simpozion ATU 2026 – Deschidere", "2026-11-11T09:00", 1),
        ("Simpozion ATU 2026", "2026-11-11T14:00", 1),
    ]
    organiser.delete(f"/api/v1/events/{event.id}")
    assert {e["status"] for e in icaljs(client.get(url).data)} == {"CANCELLED"}


def test_alliance_event_feed_needs_a_private_link(client, symposium, api_for, make_user):
    event = symposium(make_user("UVT"), visibility="alliance")
    response = client.get(f"/calendars/events/{event.id}.ics")
    assert response.status_code == 404 and response.content_type == "application/problem+json"
    attendee = api_for(make_user("UMFT"))
    created = attendee.post("/api/v1/calendar-feeds", {"scope": f"event:{event.id}"})
    assert created.status_code == 201, created.get_json()
    feed = client.get(created.get_json()["url"].split("localhost", 1)[1])
    assert feed.status_code == 200
    assert sorted(str(e["SUMMARY"]) for e in _vevents(feed.data)) == ["Simpozion ATU", "Simpozion ATU – Deschidere"]
    assert attendee.post("/api/v1/calendar-feeds", {"scope": "event:999999"}).status_code == 404
