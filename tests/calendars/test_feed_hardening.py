"""Feeds that say exactly what happened (issue 12, item 10), read by icalendar, the strict `ical`
parser and ical.js: text escaped as RFC 5545 TEXT (calendar names included), Last-Modified and
ETag that move with every byte, DTSTAMP per occurrence, per-booking files that are valid iTIP."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import select, update

from app.extensions import db
from bookings.models import Booking, Occurrence
from calendars.render import FeedEvent, render, render_plain
from events.models import Event
from notifications.mails import compose
from notifications.models import OutboxMessage
from resources import services as catalogue
from resources.models import Resource, Site
from tests.calendars.conftest import assert_itip, strict_parse

D = "2026-11-10"

# What people type and paste: TEXT separators, a backslash, every kind of line break, a control
# character (a NUL where the database can hold one: PostgreSQL text cannot).
HOSTILE = "Curs, anul 2; grupa \\ A\r\nB\rC\nD\u2028E\x01F\tG"
# As one line: separators kept (escaped on the wire), breaks and tabs a space, controls gone.
SHOWN = "Curs, anul 2; grupa \\ A B C D EF G"
ESCAPED = b"Curs\\, anul 2\\; grupa \\\\ A B C D EF G"


def _feed_path(api, scope="mine") -> str:
    response = api.post("/api/v1/calendar-feeds", {"scope": scope})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["url"].split("localhost", 1)[1]


def _set_title(booking_id: int, title: str) -> None:
    # Stored as it is: data from before the text policy, or any path around it (defence in depth).
    db.session.execute(update(Booking).where(Booking.id == booking_id).values(title=title))
    db.session.commit()


def _backdate(hours: int = 1) -> None:
    """Every change time an hour earlier, so a change now is a later second than the last fetch."""
    shift = timedelta(hours=hours)
    for model in (Occurrence, Booking, Resource, Site, Event):
        for row in db.session.scalars(select(model)):
            row.updated_at = row.updated_at - shift
    db.session.commit()


def _lines(data: bytes, name: bytes) -> list[bytes]:
    unfolded = data.replace(b"\r\n ", b"")
    return [line for line in unfolded.split(b"\r\n") if line.startswith(name + b":")]


def _assert_clean(data: bytes) -> None:
    """Lines end in CRLF only: no bare CR or LF, no other control character."""
    body = data.replace(b"\r\n", b"")
    assert b"\r" not in body and b"\n" not in body
    assert not any(c < 0x20 and c != 0x09 for c in body)


# --- escaping -----------------------------------------------------------------------------------


def test_hostile_title_in_a_booking_file_is_one_escaped_line(client, auth, api_for, make_user, make_resource, icaljs):
    user = make_user("UVT")
    booking = api_for(user).book(make_resource(), f"{D}T10:00", f"{D}T11:00")
    _set_title(booking["id"], HOSTILE)
    auth.login(user.email)
    response = client.get(f"/bookings/{booking['id']}.ics")
    assert response.status_code == 200
    data = response.data
    _assert_clean(data)
    assert _lines(data, b"NAME") == [b"NAME:" + ESCAPED]
    assert _lines(data, b"X-WR-CALNAME") == [b"X-WR-CALNAME:" + ESCAPED]
    assert _lines(data, b"SUMMARY") == [b"SUMMARY:" + ESCAPED]
    strict = assert_itip(data)
    assert strict.name == [SHOWN] and strict.events[0].summary == SHOWN
    assert str(icalendar.Calendar.from_ical(data).walk("VEVENT")[0]["SUMMARY"]) == SHOWN
    assert [e["summary"] for e in icaljs(data)] == [SHOWN]


def test_a_booking_with_a_line_feed_in_its_title_can_be_cancelled_and_its_mail_built(
    client, api_for, make_user, make_resource
):
    user = make_user("UVT")
    api = api_for(user)
    booking = api.book(make_resource(), f"{D}T10:00", f"{D}T11:00")
    _set_title(booking["id"], "Seminar\nde fizică")
    assert api.delete(f"/api/v1/bookings/{booking['id']}").status_code == 200
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "cancelled").order_by(OutboxMessage.id.desc())
    ).first()
    mail = compose(message)
    assert mail.ics_method == "CANCEL"
    calendar = assert_itip(mail.ics.encode())
    assert calendar.name == ["Seminar de fizică"]


def test_hostile_resource_site_and_title_in_feeds(client, api, admin, make_resource, icaljs):
    site = catalogue.create_site(admin, institution="UVT", name="Corp A; etaj 2", address="Bd. Pârvan 4,\r\nTimișoara")
    lab = make_resource(name="Lab, fizică; \\ 1", site_id=site.id, visibility="public")
    booking = api.book(lab, f"{D}T10:00", f"{D}T11:00")
    _set_title(booking["id"], HOSTILE)
    location = "Lab, fizică; \\ 1, UVT, Corp A; etaj 2, Bd. Pârvan 4, Timișoara"
    for path, summary in (
        (_feed_path(api), SHOWN),
        (_feed_path(api, f"resource:{lab.id}"), SHOWN),
        (f"/calendars/resources/{lab.id}.ics", "Reserved / Rezervat"),
    ):
        data = client.get(path).data
        _assert_clean(data)
        strict = strict_parse(data)
        (event,) = strict.events
        assert event.summary == summary and event.location == location
        (js,) = icaljs(data)
        assert js["summary"] == summary and js["location"] == location
        (parsed,) = icalendar.Calendar.from_ical(data).walk("VEVENT")
        assert str(parsed["LOCATION"]) == location
    resource_feed = client.get(f"/calendars/resources/{lab.id}.ics").data
    assert strict_parse(resource_feed).name == ["ATU Facilities – Lab, fizică; \\ 1"]
    assert _lines(resource_feed, b"X-WR-CALNAME") == ["X-WR-CALNAME:ATU Facilities – Lab\\, fizică\\; \\\\ 1".encode()]


def test_hostile_event_title_names_the_event_feed(client, make_event, make_resource, make_user):
    event = make_event(
        {
            "resource": make_resource(name="Aula", visibility="public"),
            "start": datetime(2026, 11, 10, 9),
            "end": datetime(2026, 11, 10, 12),
        },
        organiser=make_user("UVT"),
        visibility="public",
    )
    db.session.execute(update(Event).where(Event.id == event.id).values(title=HOSTILE))
    db.session.commit()
    data = client.get(f"/calendars/events/{event.id}.ics").data
    _assert_clean(data)
    strict = strict_parse(data)
    assert strict.name == [f"{SHOWN} – ATU Facilities"]
    assert [e.summary for e in strict.events] == [f"{SHOWN} – Simpozion ATU"]


def test_spliced_rendering_equals_icalendar_rendering_for_hostile_text():
    events = [
        FeedEvent(
            uid=f"u{i}@x",
            start=datetime(2026, 11, 3, tzinfo=UTC) + timedelta(hours=2 * i),
            end=datetime(2026, 11, 3, 1, tzinfo=UTC) + timedelta(hours=2 * i),
            tz="Europe/Bucharest",
            summary=f"{HOSTILE}\x00 {i}",
            status="CONFIRMED",
            sequence=0,
            modified=datetime(2026, 11, 1, tzinfo=UTC),
            location=HOSTILE + "\x00",
            description=HOSTILE + "\x00",
            url=f"http://x/{i}",
        )
        for i in range(5)
    ]
    spliced = render(events, name=HOSTILE)
    assert spliced == render_plain(events, name=HOSTILE) == render(events, name=HOSTILE)
    _assert_clean(spliced)
    assert [e.description for e in strict_parse(spliced).events] == ["Curs, anul 2; grupa \\ A\nB\nC\nD\nEF G"] * 5


# --- Last-Modified and ETag ---------------------------------------------------------------------


def _revalidate(client, path, before):
    return client.get(
        path, headers={"If-Modified-Since": before.headers["Last-Modified"], "If-None-Match": before.headers["ETag"]}
    ), client.get(path, headers={"If-Modified-Since": before.headers["Last-Modified"]})


def _assert_moved(client, path, before):
    with_etag, since_only = _revalidate(client, path, before)
    assert with_etag.status_code == 200 and with_etag.headers["ETag"] != before.headers["ETag"]
    assert since_only.status_code == 200, "a client polling with If-Modified-Since keeps a stale copy"
    assert since_only.headers["Last-Modified"] != before.headers["Last-Modified"]
    return since_only


@pytest.mark.parametrize("public", [False, True])
def test_renaming_the_resource_moves_last_modified_and_etag(client, api, api_for, admin, make_resource, public):
    lab = make_resource(name="Laborator", visibility="public")
    api.book(lab, f"{D}T10:00", f"{D}T11:00")
    path = f"/calendars/resources/{lab.id}.ics" if public else _feed_path(api)
    _backdate()
    before = client.get(path)
    assert client.get(path, headers={"If-Modified-Since": before.headers["Last-Modified"]}).status_code == 304
    response = api_for(admin).patch(f"/api/v1/resources/{lab.id}", {"name": "Laborator nou"})
    assert response.status_code == 200, response.get_json()
    after = _assert_moved(client, path, before)
    assert b"Laborator nou" in after.data


def test_renaming_a_resource_with_nothing_booked_renames_its_feed(client, api, api_for, admin, make_resource):
    lab = make_resource(name="Laborator", visibility="public")
    path = f"/calendars/resources/{lab.id}.ics"
    _backdate()
    before = client.get(path)
    api_for(admin).patch(f"/api/v1/resources/{lab.id}", {"name": "Sala nouă"})
    after = _assert_moved(client, path, before)
    assert strict_parse(after.data).name == ["ATU Facilities – Sala nouă"]


def test_changing_the_site_address_moves_last_modified_and_etag(client, api, admin, make_resource):
    site = catalogue.create_site(admin, institution="UVT", name="Corp A", address="Bd. Pârvan 4")
    lab = make_resource(site_id=site.id, visibility="public")
    api.book(lab, f"{D}T10:00", f"{D}T11:00")
    db.session.commit()
    paths = [_feed_path(api), f"/calendars/resources/{lab.id}.ics"]
    _backdate()
    befores = [client.get(path) for path in paths]
    db.session.get(Site, site.id).address = "Str. Nouă 1"  # as the demo loader or an admin changes it
    db.session.commit()
    for path, before in zip(paths, befores, strict=True):
        after = _assert_moved(client, path, before)
        assert strict_parse(after.data).events[0].location.endswith("Corp A, Str. Nouă 1")


def test_renaming_the_event_moves_last_modified_and_etag(client, api_for, make_event, make_resource, make_user):
    organiser = make_user("UVT")
    event = make_event(
        {"resource": make_resource(name="Aula"), "start": datetime(2026, 11, 10, 9), "end": datetime(2026, 11, 10, 12)},
        organiser=organiser,
        visibility="public",
        title="Simpozion",
    )
    path = f"/calendars/events/{event.id}.ics"
    _backdate()
    before = client.get(path)
    response = api_for(organiser).patch(f"/api/v1/events/{event.id}", {"title": "Simpozion ATU 2026"})
    assert response.status_code == 200, response.get_json()
    after = _assert_moved(client, path, before)
    assert strict_parse(after.data).name == ["Simpozion ATU 2026 – ATU Facilities"]


# --- DTSTAMP per occurrence ---------------------------------------------------------------------


def _stamps(data: bytes) -> dict[str, tuple[datetime, datetime]]:
    return {e.uid: (e.dtstamp, e.last_modified) for e in strict_parse(data).events}


def test_changing_one_session_restamps_that_session_only(client, api, make_resource):
    booking = api.book(make_resource(), f"{D}T10:00", f"{D}T11:00", recurrence="FREQ=DAILY;COUNT=3")
    path = _feed_path(api)
    second = booking["occurrences"][1]
    _backdate()
    before = _stamps(client.get(path).data)
    response = api.patch(
        f"/api/v1/bookings/{booking['id']}",
        {"occurrence_id": second["id"], "start": "2026-11-11T14:00", "end": "2026-11-11T15:00"},
    )
    assert response.status_code == 200, response.get_json()
    after = _stamps(client.get(path).data)
    moved = {uid for uid in before if after[uid] != before[uid]}
    assert len(moved) == 1
    (uid,) = moved
    assert after[uid][0] > before[uid][0] and after[uid][0] == after[uid][1]
    # Cancelling another session stamps that one only.
    api.delete(f"/api/v1/bookings/{booking['id']}?occurrence_id={booking['occurrences'][2]['id']}")
    again = _stamps(client.get(path).data)
    third = db.session.get(Occurrence, booking["occurrences"][2]["id"]).uid
    assert {u for u in again if again[u] != after[u]} == {third}


def test_a_title_change_restamps_every_session(client, api, make_resource):
    booking = api.book(make_resource(), f"{D}T10:00", f"{D}T11:00", recurrence="FREQ=DAILY;COUNT=3")
    path = _feed_path(api)
    _backdate()
    before = _stamps(client.get(path).data)
    api.patch(f"/api/v1/bookings/{booking['id']}", {"title": "Nou"})
    after = _stamps(client.get(path).data)
    assert all(after[uid][0] > before[uid][0] for uid in before)


# --- iTIP ---------------------------------------------------------------------------------------


def test_a_partly_cancelled_series_is_a_request_of_the_live_sessions(client, auth, api_for, make_user, make_resource):
    user = make_user("UVT")
    api = api_for(user)
    booking = api.book(make_resource(), f"{D}T10:00", f"{D}T11:00", recurrence="FREQ=DAILY;COUNT=3")
    cancelled = booking["occurrences"][1]["id"]
    assert api.delete(f"/api/v1/bookings/{booking['id']}?occurrence_id={cancelled}").status_code == 200
    auth.login(user.email)
    response = client.get(f"/bookings/{booking['id']}.ics")
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8; method=REQUEST"
    calendar = assert_itip(response.data)
    assert calendar.method == "REQUEST" and len(calendar.events) == 2
    uids = {o.uid for o in db.session.scalars(select(Occurrence).where(Occurrence.booking_id == booking["id"]))}
    dead = db.session.get(Occurrence, cancelled).uid
    assert {e.uid for e in calendar.events} == uids - {dead}

    # The mail of that cancellation carries a CANCEL of the cancelled session alone.
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "cancelled").order_by(OutboxMessage.id.desc())
    ).first()
    mail = compose(message)
    assert mail.ics_method == "CANCEL"
    cancel = assert_itip(mail.ics.encode())
    assert cancel.method == "CANCEL" and [e.uid for e in cancel.events] == [dead]
    assert cancel.events[0].sequence == 1

    # Cancelling the rest: the file is a CANCEL of every session.
    api.delete(f"/api/v1/bookings/{booking['id']}")
    response = client.get(f"/bookings/{booking['id']}.ics")
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8; method=CANCEL"
    whole = assert_itip(response.data)
    assert whole.method == "CANCEL" and {e.uid for e in whole.events} == uids


def test_mails_of_a_live_series_are_requests(client, api_for, make_user, make_resource):
    user = make_user("UVT")
    booking = api_for(user).book(make_resource(), f"{D}T10:00", f"{D}T11:00", recurrence="FREQ=DAILY;COUNT=2")
    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.booking_id == booking["id"])).all()
    assert messages
    for message in messages:
        mail = compose(message)
        assert mail.ics_method == "REQUEST"
        assert len(assert_itip(mail.ics.encode()).events) == 2


def test_a_cancellation_leaving_the_feed_moves_last_modified(app, client, api, make_resource):
    booking = api.book(make_resource(), f"{D}T10:00", f"{D}T11:00")
    api.book(make_resource(), "2026-12-20T10:00", "2026-12-20T11:00")  # stays in the feed
    api.delete(f"/api/v1/bookings/{booking['id']}")
    path = _feed_path(api)
    _backdate(hours=24 * 400)  # the data is old: only the window moves
    before = client.get(path)
    assert len(strict_parse(before.data).events) == 2
    app.config["CLOCK_NOW"] = app.config["CLOCK_NOW"] + timedelta(days=45)
    after = _assert_moved(client, path, before)
    assert len(strict_parse(after.data).events) == 1  # the cancellation is dropped after its grace
