"""Managers' pages: resource settings (every field, round trip, errors on fields, nothing half-saved),
blocked periods, imported calendars (served on loopback) and authorisations, with their permissions."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from bookings.models import Booking
from calendars.models import FeedImport
from resources.models import Authorization, Block, Resource
from resources.services import DEFAULTS, SIMPLE_FIELDS
from tests.calendars.test_imports import ONE, FeedServer
from tests.conftest import ENGLISH

EVERY_FIELD = {
    "name": "Sala de fitness",
    "name_en": "Fitness room",
    "description_ro": "Aparate cardio și forță.",
    "description_en": "Cardio and weights.",
    "kind": "sports",
    "institution": "UPT",
    "site_id": "",
    "capacity": "25",
    "units": "3",
    "timezone": "Europe/Bucharest",
    "visibility": "public",
    "approval": "partners",
    "approval_deadline_hours": "48",
    "allow_partners": "y",
    "requires_authorization": "y",
    "hours_mon": "08:00-12:00, 14:00–20:00",
    "hours_tue": "",
    "hours_wed": "07:30 – 22:00",
    "hours_thu": "",
    "hours_fri": "00:00-24:00",
    "hours_sat": "",
    "hours_sun": "",
    "min_duration_minutes": "30",
    "max_duration_minutes": "180",
    "min_notice_minutes": "60",
    "max_advance_days": "30",
    "partner_max_advance_days": "7",
    "buffer_minutes": "15",
    "quota_hours_per_week": "6.5",
    "tariff_own": "0",
    "tariff_partner": "25.50",
    "tariff_external": "",
    "currency": "RON",
    "check_in_required": "y",
    "no_show_minutes": "20",
    "check_in_time": "",
    "check_out_time": "",
    "features": ["showers", "changing-rooms"],
    "active": "y",
}


def form_names(html: str) -> set[str]:
    return set(re.findall(r'name="([a-z_]+)"', html))


@pytest.fixture
def upt_manager(make_user):
    return make_user("UPT", "manager")


def login_as(auth, user):
    assert auth.login(user.email).status_code == 302


# --- the settings form -------------------------------------------------------------------------


def test_form_renders_every_resource_setting(client, auth, upt_manager):
    login_as(auth, upt_manager)
    html = client.get("/manage/resources/new", headers=ENGLISH).text
    names = form_names(html)
    # Every settable field of the service (and of the API) has a control on the page.
    expected = set(SIMPLE_FIELDS) - {"opening_hours", "tariffs"} | {"institution", "site_id", "linked_to", "features"}
    expected |= {f"hours_{d}" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")} | {"always_open"}
    expected |= {"tariff_own", "tariff_partner", "tariff_external"}
    missing = expected - names - {"linked_to"}  # no other resource to link yet: the group says so
    assert missing == set()
    assert "No other resources of this university to link." in html
    # A manager only creates at their own university.
    assert re.search(
        r'<select id="institution" name="institution"><option selected value="UPT">UPT</option></select>', html
    )


def test_create_edit_round_trip_persists_every_value(client, auth, upt_manager, make_resource):
    court = make_resource("UPT", "sports", name="Teren 1")
    login_as(auth, upt_manager)
    created = client.post("/manage/resources/new", data={**EVERY_FIELD, "linked_to": [str(court.id)]}, headers=ENGLISH)
    assert created.status_code == 302, created.text
    resource = db.session.scalar(select(Resource).where(Resource.name == "Sala de fitness"))
    assert created.headers["Location"].endswith(f"/manage/resources/{resource.id}/edit")
    stored = {
        "name_en": "Fitness room",
        "kind": "sports",
        "capacity": 25,
        "units": 3,
        "visibility": "public",
        "approval": "partners",
        "approval_deadline_hours": 48,
        "allow_partners": True,
        "requires_authorization": True,
        "min_duration_minutes": 30,
        "max_duration_minutes": 180,
        "min_notice_minutes": 60,
        "max_advance_days": 30,
        "partner_max_advance_days": 7,
        "buffer_minutes": 15,
        "quota_hours_per_week": 6.5,
        "check_in_required": True,
        "no_show_minutes": 20,
        "active": True,
        "description_en": "Cardio and weights.",
    }
    assert {k: getattr(resource, k) for k in stored} == stored
    assert resource.institution.code == "UPT"
    assert resource.opening_hours == {
        "mon": [["08:00", "12:00"], ["14:00", "20:00"]],
        "wed": [["07:30", "22:00"]],
        "fri": [["00:00", "24:00"]],
    }
    assert resource.tariffs == {"own": 0.0, "partner": 25.5}
    assert sorted(resource.features) == ["changing-rooms", "showers"]
    assert [r.id for r in resource.linked] == [court.id]

    page = client.get(f"/manage/resources/{resource.id}/edit", headers=ENGLISH).text
    assert "Resource created: Fitness room." in page
    assert 'value="08:00–12:00, 14:00–20:00"' in page and 'value="25.50"' in page
    assert re.search(r'checked id="features-\d+" name="features" type="checkbox" value="showers"', page)
    assert re.search(rf'checked id="linked_to-0" name="linked_to" type="checkbox" value="{court.id}"', page)

    # Edit: close Monday, go always open, drop a tariff and a feature, deactivate, unlink.
    changed = {**EVERY_FIELD, "always_open": "y", "tariff_partner": "", "features": ["showers"], "capacity": ""}
    del changed["active"], changed["allow_partners"]
    saved = client.post(f"/manage/resources/{resource.id}/edit", data=changed, headers=ENGLISH, follow_redirects=True)
    assert "Settings saved." in saved.text
    db.session.expire_all()
    resource = db.session.get(Resource, resource.id)
    assert resource.opening_hours is None and resource.tariffs == {"own": 0.0}
    assert resource.features == ["showers"] and resource.linked == [] and resource.capacity is None
    assert resource.active is False and resource.allow_partners is False


def test_dorm_times_round_trip(client, auth, admin):
    login_as(auth, admin)
    data = {**EVERY_FIELD, "kind": "dorm", "name": "Cameră 101", "check_in_time": "15:00", "check_out_time": "10:30"}
    assert client.post("/manage/resources/new", data=data).status_code == 302
    dorm = db.session.scalar(select(Resource).where(Resource.name == "Cameră 101"))
    assert (dorm.check_in_time, dorm.check_out_time) == ("15:00", "10:30")
    page = client.get(f"/manage/resources/{dorm.id}/edit").text
    assert 'value="15:00"' in page and 'value="10:30"' in page


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"hours_mon": "8 to 12"}, "hours_mon", "Write the hours like"),
        ({"hours_mon": "12:00-08:00"}, "hours_mon", "must start before it ends"),
        ({"hours_tue": "08:00-12:00, 11:00-13:00"}, "hours_tue", "overlaps the previous interval"),
        ({"timezone": "Mars/Olympus"}, "timezone", "not a known IANA time zone"),
        ({"min_duration_minutes": "200", "max_duration_minutes": "100"}, "min_duration_minutes", "must not exceed"),
        ({"units": "0"}, "units", "Number must be between 1 and 10000"),
        ({"capacity": "-3"}, "capacity", "Number must be between 0 and 100000"),
        ({"currency": "lei"}, "currency", "Three capital letters"),
        ({"name": ""}, "name", "This field is required"),
        ({"tariff_partner": "abc"}, "tariff_partner", "Not a valid decimal value"),
        ({"tariff_partner": "sNaN"}, "tariff_partner", "Give a number."),
        ({"quota_hours_per_week": "Infinity"}, "quota_hours_per_week", "Give a number."),
        ({"features": ["jacuzzi"]}, "features", "is not a valid choice"),
        ({"institution": "UVT"}, "institution", "Not a valid choice"),
        ({"quota_hours_per_week": "500"}, "quota_hours_per_week", "Number must be between"),
        ({"check_in_time": "25:00"}, "check_in_time", "Not a valid time value"),
    ],
)
def test_errors_are_shown_on_their_fields_and_nothing_is_saved(
    client, auth, upt_manager, make_resource, change, field, message
):
    resource = make_resource("UPT", "sports", name="Original", units=2)
    login_as(auth, upt_manager)
    response = client.post(f"/manage/resources/{resource.id}/edit", data={**EVERY_FIELD, **change}, headers=ENGLISH)
    assert response.status_code == 422
    error = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', response.text)
    assert error is not None and message in error.group(1), response.text[-2000:]
    assert "Nothing was saved" in response.text
    db.session.expire_all()
    unchanged = db.session.get(Resource, resource.id)
    assert (unchanged.name, unchanged.units, unchanged.opening_hours) == ("Original", 2, None)


def test_new_resource_errors_in_romanian(client, auth, upt_manager):
    login_as(auth, upt_manager)
    response = client.post("/manage/resources/new", data={**EVERY_FIELD, "name": ""}, headers={"Accept-Language": "ro"})
    assert response.status_code == 422
    assert "Nu s-a salvat nimic" in response.text and "<h1>Resursă nouă</h1>" in response.text
    assert db.session.scalar(select(Resource.id)) is None


def test_linking_to_another_universitys_resource_is_refused(client, auth, admin, make_resource):
    own = make_resource("UPT", "sports", name="Sala")
    other = make_resource("UVT", "sports", name="Alta")
    login_as(auth, admin)
    response = client.post(
        f"/manage/resources/{own.id}/edit",
        data={**EVERY_FIELD, "linked_to": [str(other.id)]},
        headers=ENGLISH,
    )
    # Not offered as a choice at all: the form refuses it before the service would.
    assert response.status_code == 422 and 'id="linked_to-error"' in response.text
    assert db.session.get(Resource, own.id).linked == []


def test_admin_may_move_a_resource_and_gets_every_university(client, auth, admin, make_resource):
    resource = make_resource("UPT", "lab", name="Mutat")
    login_as(auth, admin)
    html = client.get(f"/manage/resources/{resource.id}/edit").text
    assert all(f'value="{code}"' in html for code in ("UVT", "UPT", "UMFT", "USVT"))
    response = client.post(f"/manage/resources/{resource.id}/edit", data={**EVERY_FIELD, "institution": "UMFT"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Resource, resource.id).institution.code == "UMFT"


# --- who may use the pages ---------------------------------------------------------------------

MANAGE_PAGES = ("edit", "blocks", "imports", "authorisations")


def test_members_get_403_everywhere(client, auth, make_user, make_resource):
    resource = make_resource("UVT", visibility="alliance")
    member = make_user("UVT", "member")
    login_as(auth, member)
    assert client.get("/manage/resources", headers=ENGLISH).status_code == 403
    assert client.get("/manage/resources/new", headers=ENGLISH).status_code == 403
    for page in MANAGE_PAGES:
        response = client.get(f"/manage/resources/{resource.id}/{page}", headers=ENGLISH)
        assert response.status_code == 403 and "You are not allowed to do this." in response.text


def test_manager_of_another_university_gets_what_the_api_gives(client, auth, api_for, make_user, make_resource):
    seen = make_resource("UVT", visibility="alliance")
    hidden = make_resource("UVT", visibility="institution")
    stranger = make_user("UMFT", "manager")
    api = api_for(stranger)
    login_as(auth, stranger)
    for resource, status in ((seen, 403), (hidden, 404)):
        assert api.patch(f"/api/v1/resources/{resource.id}", json={"units": 2}).status_code == status
        for page in MANAGE_PAGES:
            assert client.get(f"/manage/resources/{resource.id}/{page}").status_code == status
        assert client.post(f"/manage/resources/{resource.id}/edit", data=EVERY_FIELD).status_code == status
    db.session.expire_all()
    assert db.session.get(Resource, seen.id).units == 1


def test_anonymous_is_sent_to_sign_in(client, make_resource):
    resource = make_resource(visibility="public")
    for path in ("/manage/resources", f"/manage/resources/{resource.id}/edit"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "lang, heading, link", [("en", "My resources", "Blocked periods"), ("ro", "Resursele mele", "Perioade blocate")]
)
def test_list_shows_what_the_user_manages(client, auth, upt_manager, make_resource, lang, heading, link):
    mine = make_resource("UPT", name="Al meu", active=False)
    make_resource("UVT", name="Al altora", visibility="public")
    login_as(auth, upt_manager)
    page = client.get("/manage/resources", headers={"Accept-Language": lang}).text
    assert f"<h1>{heading}</h1>" in page and link in page
    assert "Al meu" in page and "Al altora" not in page  # inactive ones too, other universities not
    assert f"/manage/resources/{mine.id}/blocks" in page


def test_admin_list_shows_every_university(client, auth, admin, make_resource):
    make_resource("UPT", name="Din UPT")
    make_resource("USVT", name="Din USVT", visibility="institution")
    login_as(auth, admin)
    page = client.get("/manage/resources?q=din").text
    assert "Din UPT" in page and "Din USVT" in page


def test_api_managed_filter_matches_the_page(api_for, upt_manager, make_resource):
    make_resource("UPT", name="Al meu")
    make_resource("UVT", name="Public", visibility="public")
    names = [r["name"] for r in api_for(upt_manager).get("/api/v1/resources?managed=true").get_json()["items"]]
    assert names == ["Al meu"]


# --- blocked periods ---------------------------------------------------------------------------


def test_blocks_add_list_and_remove(client, auth, upt_manager, make_resource):
    resource = make_resource("UPT")
    login_as(auth, upt_manager)
    response = client.post(
        f"/manage/resources/{resource.id}/blocks",
        data={
            "start_date": "2026-12-23",
            "start_time": "08:00",
            "end_date": "2027-01-05",
            "end_time": "08:00",
            "reason": "Vacanță",
        },
        headers=ENGLISH,
        follow_redirects=True,
    )
    assert "Blocked period added." in response.text and "Vacanță" in response.text
    block = db.session.scalar(select(Block))
    assert block.start_at.isoformat() == "2026-12-23T06:00:00+00:00"  # local 08:00 in winter is 06:00 UTC
    deleted = client.post(
        f"/manage/resources/{resource.id}/blocks/{block.id}/delete", headers=ENGLISH, follow_redirects=True
    )
    assert "Blocked period removed" in deleted.text
    assert db.session.scalar(select(Block.id)) is None


def test_block_over_bookings_names_them(client, auth, api_for, upt_manager, make_user, make_resource):
    resource = make_resource("UPT")
    booker = make_user("UPT", "member", email="ana@upt.example.org")
    api_for(booker).book(resource, "2026-11-10T10:00", "2026-11-10T12:00", title="Laborator Fizică")
    login_as(auth, upt_manager)
    response = client.post(
        f"/manage/resources/{resource.id}/blocks",
        data={
            "start_date": "2026-11-10",
            "start_time": "09:00",
            "end_date": "2026-11-10",
            "end_time": "17:00",
            "reason": "Revizie",
        },
        headers=ENGLISH,
        follow_redirects=True,
    )
    assert "This block overlaps 1 booking(s), which are not cancelled" in response.text
    assert "Laborator Fizică (ana@upt.example.org" in response.text
    assert "1 booking falls in this period:" in response.text
    assert db.session.scalar(select(Booking.status)) == "confirmed"  # told, not cancelled


def test_block_api_lists_the_overlapping_bookings(api_for, upt_manager, make_user, make_resource):
    resource = make_resource("UPT")
    api_for(make_user("UPT", "member")).book(resource, "2026-11-10T10:00", "2026-11-10T12:00", title="Ore")
    response = api_for(upt_manager).post(
        f"/api/v1/resources/{resource.id}/blocks", json={"start": "2026-11-10T09:00", "end": "2026-11-10T17:00"}
    )
    assert response.status_code == 201
    overlapping = response.get_json()["overlapping_bookings"]
    assert [(o["title"], o["start"]) for o in overlapping] == [("Ore", "2026-11-10T10:00:00+02:00")]


@pytest.mark.parametrize(
    "data, field",
    [
        (
            {"start_date": "2026-12-23", "start_time": "10:00", "end_date": "2026-12-23", "end_time": "09:00"},
            "end_date",
        ),
        (
            {"start_date": "2026-03-29", "start_time": "03:30", "end_date": "2026-03-29", "end_time": "05:00"},
            "start_date",
        ),
        ({"start_date": "", "start_time": "10:00", "end_date": "2026-12-23", "end_time": "11:00"}, "start_date"),
    ],
)
def test_block_errors_on_the_form(client, auth, upt_manager, make_resource, data, field):
    resource = make_resource("UPT")
    login_as(auth, upt_manager)
    response = client.post(f"/manage/resources/{resource.id}/blocks", data=data, headers=ENGLISH)
    assert response.status_code == 422 and f'id="{field}-error"' in response.text
    assert db.session.scalar(select(Block.id)) is None


def test_imported_blocks_are_listed_but_not_removable_one_by_one(client, auth, upt_manager, make_resource):
    resource = make_resource("UPT")
    feed = FeedImport(resource_id=resource.id, url="https://example.org/x.ics")
    db.session.add(feed)
    db.session.flush()
    from datetime import UTC, datetime

    block = Block(
        resource_id=resource.id,
        start_at=datetime(2026, 11, 20, 8, tzinfo=UTC),
        end_at=datetime(2026, 11, 20, 9, tzinfo=UTC),
        reason="Imported busy time",
        source="import",
        import_id=feed.id,
    )
    db.session.add(block)
    db.session.commit()
    login_as(auth, upt_manager)
    page = client.get(f"/manage/resources/{resource.id}/blocks", headers=ENGLISH).text
    assert "imported" in page and "Managed with its imported calendar" in page
    assert f"/blocks/{block.id}/delete" not in page
    refused = client.post(
        f"/manage/resources/{resource.id}/blocks/{block.id}/delete", headers=ENGLISH, follow_redirects=True
    )
    assert "removed with its import" in refused.text
    assert db.session.get(Block, block.id) is not None


# --- imported calendars (a real HTTP server on loopback, no internet) -------------------------


@pytest.fixture
def feeds():
    server = FeedServer()
    yield server
    server.close()


@pytest.mark.parametrize("app_config", [{"IMPORT_ALLOW_PRIVATE_HOSTS": True, "IMPORT_TIMEOUT_SECONDS": 0.5}])
def test_imports_page_add_refresh_remove(client, auth, upt_manager, make_resource, feeds, runner):
    resource = make_resource("UPT")
    login_as(auth, upt_manager)
    url = feeds.serve("/cal.ics", ONE)
    added = client.post(f"/resources/{resource.id}/imports", data={"url": url}, headers=ENGLISH, follow_redirects=True)
    assert added.request.path == f"/manage/resources/{resource.id}/imports"
    assert "Calendar added; it is fetched within a minute" in added.text and "refresh queued" in added.text
    runner.invoke(args=["jobs", "run", "import-pending"])  # the fetch runs outside the request
    added = client.get(f"/manage/resources/{resource.id}/imports", headers=ENGLISH)
    assert url in added.text and "working" in added.text and "1 busy period" in added.text
    feed = db.session.scalar(select(FeedImport))

    feeds.serve("/cal.ics", b"not a calendar")
    refreshed = client.post(
        f"/resources/{resource.id}/imports/{feed.id}/refresh",
        data={"back": "manage"},
        headers=ENGLISH,
        follow_redirects=True,
    )
    assert "Refresh queued" in refreshed.text
    runner.invoke(args=["jobs", "run", "import-pending"])
    refreshed = client.get(f"/manage/resources/{resource.id}/imports", headers=ENGLISH)
    assert "last refresh failed: not a valid iCalendar feed" in refreshed.text and "last good copy" in refreshed.text

    removed = client.post(
        f"/resources/{resource.id}/imports/{feed.id}/remove",
        data={"back": "manage"},
        headers=ENGLISH,
        follow_redirects=True,
    )
    assert "Imported calendar removed" in removed.text and "No calendar is imported yet." in removed.text
    assert db.session.scalar(select(Block.id)) is None


def test_bad_import_address_is_explained(client, auth, upt_manager, make_resource):
    resource = make_resource("UPT")
    login_as(auth, upt_manager)
    response = client.post(
        f"/resources/{resource.id}/imports",
        data={"url": "ftp://x"},
        headers=ENGLISH,
        follow_redirects=True,
    )
    assert response.request.path.endswith("/imports") and "give an http(s) or webcal address" in response.text


# --- authorisations ----------------------------------------------------------------------------


def test_authorisations_page_grants_and_withdraws(client, auth, upt_manager, make_user, make_resource):
    resource = make_resource("UPT", requires_authorization=True)
    trained = make_user("UVT", "member", email="instruit@uvt.example.org")
    login_as(auth, upt_manager)
    page = client.get(f"/manage/resources/{resource.id}/authorisations", headers=ENGLISH).text
    assert "Nobody is authorised yet." in page and 'name="expires"' in page
    granted = client.post(
        f"/resources/{resource.id}/authorizations",
        data={"email": trained.email, "expires": "2027-06-30", "back": "manage"},
        headers=ENGLISH,
        follow_redirects=True,
    )
    assert granted.request.path.endswith("/authorisations") and "Authorised." in granted.text
    assert "instruit@uvt.example.org" in granted.text and "until" in granted.text
    grant = db.session.scalar(select(Authorization))
    unknown = client.post(
        f"/resources/{resource.id}/authorizations",
        data={"email": "nobody@x.org", "back": "manage"},
        headers=ENGLISH,
        follow_redirects=True,
    )
    assert "No user has this email address." in unknown.text
    withdrawn = client.post(
        f"/resources/{resource.id}/authorizations/{grant.id}/revoke",
        data={"back": "manage"},
        headers=ENGLISH,
        follow_redirects=True,
    )
    assert "Authorisation withdrawn." in withdrawn.text and db.session.scalar(select(Authorization.id)) is None


def test_authorisations_page_warns_when_training_is_off(client, auth, upt_manager, make_resource):
    resource = make_resource("UPT")
    login_as(auth, upt_manager)
    page = client.get(f"/manage/resources/{resource.id}/authorisations", headers=ENGLISH).text
    assert "does not require training now" in page


def test_defaults_of_a_new_form_match_the_service(client, auth, upt_manager):
    login_as(auth, upt_manager)
    html = client.get("/manage/resources/new").text
    assert re.search(rf'name="units"[^>]*value="{DEFAULTS["units"]}"', html)
    assert 'value="Europe/Bucharest"' in html and 'value="RON"' in html
    assert re.search(r'checked id="always_open"', html) and re.search(r'checked id="active"', html)


def test_resource_page_links_managers_to_the_manage_pages(client, auth, upt_manager, make_user, make_resource):
    resource = make_resource("UPT", visibility="public")
    login_as(auth, upt_manager)
    page = client.get(f"/resources/{resource.id}", headers=ENGLISH).text
    for part in ("edit", "blocks", "imports", "authorisations"):
        assert f'href="/manage/resources/{resource.id}/{part}"' in page
    auth.logout()
    login_as(auth, make_user("UPT", "member"))
    assert "/manage/resources/" not in client.get(f"/resources/{resource.id}", headers=ENGLISH).text


@pytest.mark.parametrize("role, links", [("manager", 4), ("admin", 6), ("member", 0)])
def test_manage_menu_in_the_header(client, auth, make_user, role, links):
    login_as(auth, make_user("UPT", role))
    page = client.get("/bookings", headers=ENGLISH).text
    menu = re.search(r'<li class="manage-menu">(.*?)</details>', page, re.S)
    if links == 0:
        assert menu is None
        return
    hrefs = re.findall(r'href="([^"]+)"', menu.group(1))
    assert (
        hrefs == ["/approvals", "/statements", "/reports", "/manage/resources", "/admin/users", "/admin/mail"][:links]
    )
    assert "<summary" in menu.group(1) and "Manage</summary>" in menu.group(1)


def test_each_block_lists_its_own_bookings_in_constant_queries(
    client, auth, api_for, upt_manager, make_user, make_resource
):
    from sqlalchemy import event

    resource = make_resource("UPT")
    booker = api_for(make_user("UPT"))
    booker.book(resource, "2026-11-10T10:00", "2026-11-10T11:00", title="Alfa")
    booker.book(resource, "2026-11-12T10:00", "2026-11-12T11:00", title="Beta")
    login_as(auth, upt_manager)

    def add_block(day: str, reason: str) -> None:
        data = {"start_date": day, "start_time": "08:00", "end_date": day, "end_time": "18:00", "reason": reason}
        client.post(f"/manage/resources/{resource.id}/blocks", data=data, headers=ENGLISH, follow_redirects=True)

    def page_and_queries() -> tuple[str, int]:
        statements: list[str] = []

        def count(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            text = client.get(f"/manage/resources/{resource.id}/blocks", headers=ENGLISH).text
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return text, len(statements)

    add_block("2026-11-10", "Revizie marți")
    _, one_block = page_and_queries()
    add_block("2026-11-12", "Revizie joi")
    add_block("2026-11-20", "Revizie vineri")
    page, three_blocks = page_and_queries()
    assert three_blocks == one_block
    tuesday, thursday, friday = (page.index(r) for r in ("Revizie marți", "Revizie joi", "Revizie vineri"))
    assert tuesday < page.index("Alfa") < thursday < page.index("Beta") < friday
    assert page.count("Alfa") == 1 and page.count("Beta") == 1
