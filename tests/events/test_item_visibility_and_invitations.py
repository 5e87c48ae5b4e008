"""Issue 12, events: an item is shown only to people who may see its resource (API, page and feed
alike), and co-organisers are invited and must accept, without the answer telling whether an address
has an account."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from events.models import EventInvitation
from notifications.models import OutboxMessage
from resources import services as catalogue
from tests.conftest import ENGLISH

D = "2026-11-10"  # a Tuesday


def _item(resource, start, end):
    return {"resource_id": resource.id, "start": start, "end": end}


def _public_symposium(api, hall, secret):
    body = {
        "title": "Simpozion",
        "visibility": "public",
        "items": [_item(hall, f"{D}T09:00", f"{D}T10:00"), _item(secret, f"{D}T11:00", f"{D}T12:00")],
    }
    response = api.post("/api/v1/events", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _venue(admin, make_resource):
    site = catalogue.create_site(admin, institution="UVT", name="Clădirea ascunsă", address="Strada Secretă 7")
    db.session.commit()
    hall = make_resource("UVT", "room", name="Aula publică", visibility="public")
    secret = make_resource("UVT", "room", name="Laborator intern", visibility="institution", site_id=site.id)
    return hall, secret


def test_anonymous_sees_no_institution_only_item(client, admin, api_for, make_user, make_resource):
    hall, secret = _venue(admin, make_resource)
    lead = make_user("UVT")
    event = _public_symposium(api_for(lead), hall, secret)
    url = f"/api/v1/events/{event['id']}"

    anonymous = client.get(url)
    assert anonymous.status_code == 200
    data = anonymous.get_json()
    assert [i["resource_id"] for i in data["items"]] == [hall.id] and data["hidden_items"] == 1
    assert "Laborator intern" not in anonymous.text and "Strada Secretă" not in anonymous.text
    listed = client.get("/api/v1/events").get_json()["items"]
    assert [i["resource_id"] for i in listed[0]["items"]] == [hall.id]

    page = client.get(f"/events/{event['id']}", headers=ENGLISH)
    assert page.status_code == 200 and "Aula publică" in page.text
    assert "Laborator intern" not in page.text and "Strada Secretă" not in page.text
    assert "1 more item is visible to signed-in members." in page.text

    feed = client.get(f"/calendars/events/{event['id']}.ics")
    assert feed.status_code == 200
    text = feed.data.decode()
    assert "Aula publică" in text and "Laborator intern" not in text and "Secret" not in text
    assert text.count("BEGIN:VEVENT") == 1

    # A member of another university sees what the catalogue shows them; a colleague and the organiser all.
    stranger = api_for(make_user("UPT")).get(url).get_json()
    assert [i["resource_id"] for i in stranger["items"]] == [hall.id] and stranger["hidden_items"] == 1
    colleague = api_for(make_user("UVT")).get(url).get_json()
    assert {i["resource_id"] for i in colleague["items"]} == {hall.id, secret.id} and colleague["hidden_items"] == 0
    assert len(api_for(lead).get(url).get_json()["items"]) == 2


def test_an_alliance_resource_in_a_public_event_is_for_members(client, api_for, make_user, make_resource):
    hall = make_resource("UVT", "room", name="Aula publică", visibility="public")
    seminar = make_resource("UPT", "room", name="Sala de seminar", visibility="alliance")
    event = _public_symposium(api_for(make_user("UVT")), hall, seminar)
    assert "Sala de seminar" not in client.get(f"/api/v1/events/{event['id']}").text
    assert "Sala de seminar" not in client.get(f"/calendars/events/{event['id']}.ics").data.decode()
    member = api_for(make_user("UMFT")).get(f"/api/v1/events/{event['id']}").get_json()
    assert len(member["items"]) == 2 and member["hidden_items"] == 0


def test_a_private_event_feed_follows_the_same_rule(client, admin, api_for, make_user, make_resource):
    hall, secret = _venue(admin, make_resource)
    event = _public_symposium(api_for(make_user("UVT")), hall, secret)
    stranger = api_for(make_user("UPT"))
    feed = stranger.post("/api/v1/calendar-feeds", {"scope": f"event:{event['id']}"})
    assert feed.status_code == 201, feed.get_json()
    path = feed.get_json()["url"].split("://", 1)[-1].split("/", 1)[1]
    text = client.get("/" + path).data.decode()
    assert "Aula publică" in text and "Laborator intern" not in text


def test_naming_a_co_organiser_gives_no_rights_until_accepted(client, auth, api_for, make_user, make_resource):
    hall = make_resource("UVT", "room")
    lead, co = make_user("UVT"), make_user("UPT", full_name="Ioan Pop")
    organiser, co_api = api_for(lead), api_for(co)
    event = organiser.post(
        "/api/v1/events", {"title": "Atelier", "organisers": [co.email], "items": [_item(hall, f"{D}T09", f"{D}T10")]}
    ).get_json()
    url = f"/api/v1/events/{event['id']}"
    assert event["organisers"] == [lead.email]
    # No rights anywhere: API, pages, lists.
    assert co_api.patch(url, {"title": "Preluat"}).status_code == 403
    assert co_api.delete(url).status_code == 403
    assert co_api.get("/api/v1/events?mine=1").get_json()["items"] == []
    assert "invitations" not in co_api.get(url).get_json() or co_api.get(url).get_json()["invitations"] is None
    auth.login(co.email)
    assert client.get(f"/events/{event['id']}/edit").status_code == 403
    assert "Ioan Pop (UPT)" not in client.get(f"/events/{event['id']}", headers=ENGLISH).text
    # The invitation is listed for them with accept and decline, on the API and the page.
    mine = co_api.get("/api/v1/events/invitations").get_json()["items"]
    assert [(i["event_id"], i["accept"]) for i in mine] == [(event["id"], f"{url}/accept")]
    index = client.get("/events", headers=ENGLISH).text
    assert "Invitations to co-organise" in index and f"/events/{event['id']}/accept" in index
    # Someone else cannot accept it for them.
    assert api_for(make_user("UPT")).post(f"{url}/accept").status_code == 404
    # Accepting on the page gives the rights.
    accepted = client.post(f"/events/{event['id']}/accept", headers=ENGLISH)
    assert accepted.status_code == 302
    assert co_api.get(url).get_json()["organisers"] == [lead.email, co.email]
    assert co_api.patch(url, {"title": "Atelier 2"}).status_code == 200
    assert co_api.post(f"{url}/accept").status_code == 404  # nothing left to answer
    assert co_api.get("/api/v1/events/invitations").get_json()["items"] == []


def test_a_declined_invitation_gives_nothing(api_for, make_user, make_resource):
    hall = make_resource("UVT", "room")
    lead, co = make_user("UVT"), make_user("UPT")
    organiser, co_api = api_for(lead), api_for(co)
    event = organiser.post(
        "/api/v1/events", {"title": "Atelier", "organisers": [co.email], "items": [_item(hall, f"{D}T09", f"{D}T10")]}
    ).get_json()
    url = f"/api/v1/events/{event['id']}"
    declined = co_api.post(f"{url}/decline")
    assert declined.status_code == 200 and declined.get_json()["organisers"] == [lead.email]
    assert co_api.post(f"{url}/accept").status_code == 404
    assert co_api.patch(url, {"title": "Preluat"}).status_code == 403
    assert organiser.get(url).get_json()["invitations"] == [{"email": co.email, "status": "declined"}]
    # Withdrawn and named again: a new invitation.
    assert organiser.patch(url, {"organisers": []}).status_code == 200
    assert organiser.patch(url, {"organisers": [co.email]}).status_code == 200
    assert co_api.post(f"{url}/accept").status_code == 200
    # Withdrawing an accepted co-organiser takes the rights away.
    assert organiser.patch(url, {"organisers": []}).get_json()["organisers"] == [lead.email]
    assert co_api.patch(url, {"title": "Preluat"}).status_code == 403


def _normalised(body, *emails):
    text = str(body)
    for email in emails:
        text = text.replace(email, "ADDRESS")
    return re.sub(r"[0-9a-f]{8,}|\d+", "N", text)  # ids, dates, UIDs


def test_known_and_unknown_addresses_get_identical_answers(client, auth, api_for, make_user, make_resource):
    hall = make_resource("UVT", "room")
    lead, known = make_user("UVT"), make_user("UPT")
    unknown = "nobody-here@example.org"
    organiser = api_for(lead)

    answers = []
    for email, day in ((known.email, "2026-11-10"), (unknown, "2026-11-17")):
        body = {"title": "Atelier", "organisers": [email], "items": [_item(hall, f"{day}T09:00", f"{day}T10:00")]}
        created = organiser.post("/api/v1/events", body)
        url = f"/api/v1/events/{created.get_json()['id']}"
        changed = organiser.patch(url, {"organisers": [email.upper(), "other@example.org"]})
        later = [_item(hall, f"{day}T13:00", f"{day}T14:00")]
        dry = organiser.post("/api/v1/events", {**body, "items": later, "dry_run": True})
        answers.append(
            [
                (r.status_code, r.content_type, _normalised(r.get_json(), email.upper(), email))
                for r in (created, changed, dry)
            ]
        )
    assert answers[0] == answers[1]
    assert [r[0] for r in answers[0]] == [201, 200, 200]

    # The page form answers alike too.
    auth.login(lead.email)
    pages = []
    for email, day in ((known.email, "2026-11-11"), (unknown, "2026-11-18")):
        data = {
            "title": "Atelier",
            "visibility": "alliance",
            "organisers": email,
            "book": "1",
            "items-0-resource_id": str(hall.id),
            "items-0-date": day,
            "items-0-start_time": "09:00",
            "items-0-end_time": "10:00",
            "items-0-units": "1",
        }
        response = client.post("/events/new", data=data, headers=ENGLISH, follow_redirects=True)
        pages.append((response.status_code, "Event booked" in response.text, email in response.text))
    assert pages[0] == pages[1] == (200, True, True)

    # The mail goes only to the account; the unknown address is stored but nobody is written to.
    invited = db.session.scalars(select(OutboxMessage.to_email).where(OutboxMessage.kind == "event_invitation")).all()
    assert set(invited) == {known.email}
    assert unknown in db.session.scalars(select(EventInvitation.email)).all()


def test_an_address_that_signs_up_later_can_accept(api_for, make_user, make_resource):
    hall = make_resource("UVT", "room")
    organiser = api_for(make_user("UVT"))
    event = organiser.post(
        "/api/v1/events",
        {"title": "Atelier", "organisers": ["Later@Example.org"], "items": [_item(hall, f"{D}T09", f"{D}T10")]},
    ).get_json()
    later = make_user("UPT", email="later@example.org")
    assert api_for(later).post(f"/api/v1/events/{event['id']}/accept").status_code == 200
