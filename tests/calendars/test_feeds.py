"""Feeds read back with third-party parsers (icalendar, recurring-ical-events): valid, private, stable."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events

from tests.conftest import Api

TZ = ZoneInfo("Europe/Bucharest")
D = "2026-11-10"


@pytest.fixture
def feed_url(api):
    def make(scope="mine", who: Api | None = None) -> str:
        response = (who or api).post("/api/v1/calendar-feeds", {"scope": scope})
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        assert body["webcal_url"].startswith("webcal://") and body["url"].startswith("http://")
        return body["url"].split("localhost", 1)[1]

    return make


def fetch(client, path, **headers):
    return client.get(path, headers=headers)


def parse(response) -> icalendar.Calendar:
    assert response.status_code == 200, response.data[:300]
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.data)


def events(calendar):
    return list(calendar.walk("VEVENT"))


def test_my_feed_is_valid_and_complete(client, api, feed_url, make_resource):
    lab = make_resource("UVT", name="Laborator de fizică")
    booking = api.book(lab, f"{D}T10:00", f"{D}T12:00", title="Spectroscopie")
    calendar = parse(fetch(client, feed_url()))
    assert calendar["VERSION"] == "2.0" and "ATU Facilities" in str(calendar["PRODID"])
    assert "UID" not in calendar  # a calendar-level UID breaks vdirsyncer
    assert str(calendar["X-WR-CALNAME"]) == str(calendar["NAME"])
    assert calendar["REFRESH-INTERVAL"].to_ical() == b"PT1H" and str(calendar["X-PUBLISHED-TTL"]) == "PT1H"
    (timezone,) = calendar.walk("VTIMEZONE")
    assert str(timezone["TZID"]) == "Europe/Bucharest"
    assert all("RRULE" in part and "RDATE" not in part for part in timezone.subcomponents)
    (event,) = events(calendar)
    assert str(event["SUMMARY"]) == "Spectroscopie" and str(event["STATUS"]) == "CONFIRMED"
    assert event["DTSTART"].params["TZID"] == "Europe/Bucharest"
    assert event.decoded("DTSTART") == datetime(2026, 11, 10, 10, tzinfo=TZ)
    assert event.decoded("DTEND") == datetime(2026, 11, 10, 12, tzinfo=TZ)
    assert "Laborator de fizică" in str(event["LOCATION"])
    assert str(event["URL"]).endswith(f"/bookings#booking-{booking['id']}")
    assert event.decoded("DTSTAMP") == event.decoded("LAST-MODIFIED")


def test_no_floating_times_and_unique_uids(client, api, feed_url, make_resource):
    lab = make_resource()
    api.book(lab, f"{D}T10:00", f"{D}T11:00", recurrence="FREQ=DAILY;COUNT=5")
    api.book(make_resource(kind="dorm", units=2), "2026-11-20", "2026-11-22")
    found = events(parse(fetch(client, feed_url())))
    assert len(found) == 6
    assert len({str(e["UID"]) for e in found}) == 6
    for event in found:
        for prop in ("DTSTART", "DTEND"):
            assert event.decoded(prop).tzinfo is not None


def test_weekly_series_same_local_hour_across_dst(client, api, feed_url, make_resource):
    lab = make_resource(max_advance_days=365)
    api.book(lab, "2027-03-18T10:00", "2027-03-18T11:00", recurrence="FREQ=WEEKLY;COUNT=3")
    calendar = parse(fetch(client, feed_url()))
    occurrences = recurring_ical_events.of(calendar).between(date(2027, 3, 1), date(2027, 4, 30))
    starts = sorted(e.decoded("DTSTART") for e in occurrences)
    assert [s.astimezone(TZ).hour for s in starts] == [10, 10, 10]
    assert [s.utcoffset() for s in starts] == [timedelta(hours=2), timedelta(hours=2), timedelta(hours=3)]


def test_pending_is_tentative(client, api_for, make_user, make_resource, feed_url):
    aula = make_resource("UMFT", "room", approval="all")
    guest = api_for(make_user("UPT"))
    guest.book(aula, f"{D}T10:00", f"{D}T12:00")
    (event,) = events(parse(fetch(client, feed_url(who=guest))))
    assert str(event["STATUS"]) == "TENTATIVE"


def test_stable_bytes_etag_and_304(client, api, feed_url, make_resource):
    api.book(make_resource(), f"{D}T10:00", f"{D}T11:00")
    path = feed_url()
    first, second = fetch(client, path), fetch(client, path)
    assert first.data == second.data
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert fetch(client, path, **{"If-None-Match": etag}).status_code == 304
    last_modified = first.headers["Last-Modified"]
    assert fetch(client, path, **{"If-Modified-Since": last_modified}).status_code == 304
    # If-None-Match wins: a stale ETag gets the body even with a matching If-Modified-Since.
    assert fetch(client, path, **{"If-None-Match": '"stale"', "If-Modified-Since": last_modified}).status_code == 200


def test_cancellation_is_kept_then_dropped(app, client, api, feed_url, make_resource):
    booking = api.book(make_resource(), f"{D}T10:00", f"{D}T11:00")
    path = feed_url()
    before = fetch(client, path)
    (event,) = events(parse(before))
    assert int(event["SEQUENCE"]) == 0
    api.delete(f"/api/v1/bookings/{booking['id']}")
    after = fetch(client, path, **{"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    (cancelled,) = events(parse(after))
    assert str(cancelled["STATUS"]) == "CANCELLED" and int(cancelled["SEQUENCE"]) == 1
    assert str(cancelled["UID"]) == str(event["UID"])
    app.config["CLOCK_NOW"] = app.config["CLOCK_NOW"] + timedelta(days=45)
    assert events(parse(fetch(client, path))) == []


def test_reschedule_bumps_sequence(client, api, feed_url, make_resource):
    booking = api.book(make_resource(), f"{D}T10:00", f"{D}T11:00")
    api.patch(f"/api/v1/bookings/{booking['id']}", {"start": f"{D}T14:00", "end": f"{D}T15:00"})
    (event,) = events(parse(fetch(client, feed_url())))
    assert int(event["SEQUENCE"]) == 1 and event.decoded("DTSTART").hour == 14


def test_public_feed_shows_only_busy_time(client, api, make_resource):
    court = make_resource(kind="sports", visibility="public", name="Teren de tenis")
    booking = api.book(court, f"{D}T18:00", f"{D}T19:00", title="Antrenament secret")
    response = fetch(client, f"/calendars/resources/{court.id}.ics")
    (event,) = events(parse(response))
    text = response.data.decode()
    assert "Antrenament secret" not in text and api.headers["Authorization"] not in text
    assert "@" not in str(event.get("ORGANIZER", "")) and "ATTENDEE" not in event
    assert str(event["SUMMARY"]) == "Reserved / Rezervat"
    private = events(
        parse(
            fetch(
                client, api.post("/api/v1/calendar-feeds", {"scope": "mine"}).get_json()["url"].split("localhost", 1)[1]
            )
        )
    )
    assert str(private[0]["UID"]) != str(event["UID"])
    assert booking["id"]


@pytest.mark.parametrize("visibility", ["alliance", "institution"])
def test_public_feed_of_a_non_public_resource_is_404(client, make_resource, visibility):
    lab = make_resource(visibility=visibility)
    response = fetch(client, f"/calendars/resources/{lab.id}.ics")
    assert response.status_code == 404 and response.content_type == "application/problem+json"


def test_revoke_regenerate_and_unknown_tokens(client, api, make_resource):
    api.book(make_resource(), f"{D}T10:00", f"{D}T11:00")
    created = api.post("/api/v1/calendar-feeds", {"scope": "mine"}).get_json()
    old_path = created["url"].split("localhost", 1)[1]
    assert fetch(client, old_path).status_code == 200
    listed = api.get("/api/v1/calendar-feeds").get_json()["items"]
    assert [f["url"] for f in listed] == [created["url"]]
    regenerated = api.post(f"/api/v1/calendar-feeds/{created['id']}/regenerate").get_json()
    new_path = regenerated["url"].split("localhost", 1)[1]
    assert new_path != old_path
    gone = fetch(client, old_path)
    assert gone.status_code == 404 and gone.content_type == "application/problem+json" and b"<html" not in gone.data
    assert fetch(client, new_path).status_code == 200
    assert api.delete(f"/api/v1/calendar-feeds/{created['id']}").status_code == 204
    assert fetch(client, new_path).status_code == 404
    assert fetch(client, "/calendars/feeds/not-a-token.ics").status_code == 404
    assert fetch(client, "/calendars/feeds/" + "x" * 500 + ".ics").status_code == 404


@pytest.mark.parametrize(
    ("scope", "status"),
    [
        ("mine", 201),
        ("institution:UVT", 403),
        ("resource:999999", 404),
        ("resource:abc", 422),
        ("everything", 422),
        ("event:999999", 404),
        ("institution:XYZ", 422),
    ],
)
def test_scopes(api, scope, status):
    assert api.post("/api/v1/calendar-feeds", {"scope": scope}).status_code == status


def test_manager_feeds_show_titles(client, api, api_for, make_user, make_resource):
    lab = make_resource("UVT")
    api.book(lab, f"{D}T10:00", f"{D}T11:00", title="Titlul membrului")
    manager = api_for(make_user("UVT", "manager"))
    for scope in (f"resource:{lab.id}", "institution:UVT"):
        url = manager.post("/api/v1/calendar-feeds", {"scope": scope}).get_json()["url"].split("localhost", 1)[1]
        (event,) = events(parse(fetch(client, url)))
        assert str(event["SUMMARY"]) == "Titlul membrului"
    other = api_for(make_user("UVT"))
    url = (
        other.post("/api/v1/calendar-feeds", {"scope": f"resource:{lab.id}"}).get_json()["url"].split("localhost", 1)[1]
    )
    (event,) = events(parse(fetch(client, url)))
    assert str(event["SUMMARY"]) == "Reserved / Rezervat"  # another member sees busy time only


def test_one_booking_as_a_file(client, auth, make_user, make_resource, api_for):
    user = make_user("UVT")
    booking = api_for(user).book(make_resource(), f"{D}T10:00", f"{D}T11:00", title="Seminar")
    auth.login(user.email)
    request = client.get(f"/bookings/{booking['id']}.ics")
    calendar = icalendar.Calendar.from_ical(request.data)
    assert str(calendar["METHOD"]) == "REQUEST" and "REFRESH-INTERVAL" not in calendar
    assert str(events(calendar)[0]["ATTENDEE"]) == f"mailto:{user.email}"
    api_for(user).delete(f"/api/v1/bookings/{booking['id']}")
    cancel = icalendar.Calendar.from_ical(client.get(f"/bookings/{booking['id']}.ics").data)
    assert str(cancel["METHOD"]) == "CANCEL" and str(events(cancel)[0]["STATUS"]) == "CANCELLED"
    assert client.get("/bookings/999999.ics").status_code == 404


def test_feed_links_on_my_bookings_page(client, auth, make_user):
    user = make_user("UVT")
    auth.login(user.email)
    page = client.get("/bookings", headers={"Accept-Language": "en"}).text
    assert "Create my calendar feed" in page
    client.post("/bookings/feeds", data={"scope": "mine"})
    page = client.get("/bookings", headers={"Accept-Language": "en"}).text
    https = re.search(r'value="(http://localhost/calendars/feeds/[^"]+\.ics)"', page).group(1)
    assert f'value="webcal://{https.split("://", 1)[1]}"' in page and 'data-copy="feed-' in page
    assert client.get(https.split("localhost", 1)[1]).status_code == 200
    feed_id = re.search(r"/bookings/feeds/(\d+)/regenerate", page).group(1)
    client.post(f"/bookings/feeds/{feed_id}/regenerate")
    assert client.get(https.split("localhost", 1)[1]).status_code == 404
    client.post(f"/bookings/feeds/{feed_id}/revoke")
    assert "Create my calendar feed" in client.get("/bookings", headers={"Accept-Language": "en"}).text


def test_spliced_rendering_equals_icalendar_rendering():
    from datetime import UTC

    from calendars.render import FeedEvent, render, render_plain

    events = [
        FeedEvent(
            uid=f"u{i}@x",
            start=datetime(2026, 11, 3, tzinfo=UTC) + timedelta(hours=2 * i),
            end=datetime(2026, 11, 3, 1, tzinfo=UTC) + timedelta(hours=2 * i),
            tz="Europe/Bucharest",
            summary=f'Sesiune {i}; ăîșț, \\ "x"',
            status="CONFIRMED",
            sequence=i % 3,
            modified=datetime(2026, 11, 1, tzinfo=UTC),
            location="Lab, Bd. Vasile Pârvan 4",
            url=f"http://x/{i}",
        )
        for i in range(50)
    ]
    assert render(events, name="x") == render_plain(events, name="x")
    assert render(events, name="x") == render(events, name="x")  # second time from the event cache


def test_a_change_elsewhere_keeps_the_bytes_a_change_here_changes_them(
    client, api, api_for, make_user, feed_url, make_resource
):
    lab = make_resource()
    mine = api.book(lab, f"{D}T10:00", f"{D}T11:00")
    path = feed_url()
    first = fetch(client, path)
    api_for(make_user("UPT")).book(lab, f"{D}T12:00", f"{D}T13:00")  # someone else's booking
    second = fetch(client, path, **{"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 304
    api.patch(f"/api/v1/bookings/{mine['id']}", {"title": "Nou"})
    third = fetch(client, path, **{"If-None-Match": first.headers["ETag"]})
    assert third.status_code == 200 and b"SUMMARY:Nou" in third.data


def test_an_unchanged_poll_costs_one_query(app, client, api, feed_url, make_resource):
    """Nothing changed anywhere since the last poll: the feed, its owner and the global change marker come
    in one query, and the feed's own query is not even built."""
    from sqlalchemy import event

    from app.extensions import db

    api.book(make_resource(), f"{D}T10:00", f"{D}T11:00")
    path = feed_url()
    etag = fetch(client, path).headers["ETag"]
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert fetch(client, path, **{"If-None-Match": etag}).status_code == 304
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len([s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))]) == 1, statements


def test_an_owner_who_loses_the_role_loses_the_feed_at_the_next_poll(client, api_for, make_user, feed_url):
    """The quick answer is keyed by the owner's role and university: a manager's university feed stops at
    once when they are no longer a manager, though no booking changed."""
    from app.extensions import db

    manager = make_user("UVT", "manager")
    path = feed_url("institution:UVT", who=api_for(manager))
    assert fetch(client, path).status_code == 200
    assert fetch(client, path).status_code == 200  # now answered from the quick cache
    manager.role = "member"
    db.session.commit()
    assert fetch(client, path).status_code == 404
