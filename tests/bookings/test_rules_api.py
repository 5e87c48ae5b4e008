"""Every conflict rule through the API, at its edges. "Now" is pinned to Monday 2 Nov 2026, 09:00 local."""

import pytest

from tests.bookings.conftest import reasons

D = "2026-11-10"  # a Tuesday, eight days after "now"


def test_confirmed_booking_with_local_offsets_and_price(api, make_resource):
    lab = make_resource("UVT", tariffs={"own": 25, "partner": 50})
    booking = api.book(lab, f"{D}T10:00", f"{D}T12:30", title="Măsurători")
    assert booking["status"] == "confirmed"
    assert (booking["start"], booking["end"]) == (f"{D}T10:00:00+02:00", f"{D}T12:30:00+02:00")
    assert booking["price"] == {"amount": 62.5, "currency": "RON"}
    assert booking["title"] == "Măsurători" and booking["resource_id"] == lab.id


def test_aware_input_keeps_its_instant(api, make_resource):
    lab = make_resource()
    booking = api.book(lab, f"{D}T08:00:00Z", f"{D}T09:00:00Z")
    assert booking["start"] == f"{D}T10:00:00+02:00"


@pytest.mark.parametrize(
    ("start", "end", "status"),
    [
        ("09:00", "10:00", 201),
        ("12:00", "13:00", 201),
        ("09:00", "10:01", 409),
        ("11:59", "13:00", 409),
        ("10:30", "11:30", 409),
        ("09:00", "13:00", 409),
        ("10:00", "12:00", 409),
    ],
)
def test_overlap_edges(api, make_resource, start, end, status):
    lab = make_resource()
    api.book(lab, f"{D}T10:00", f"{D}T12:00")
    response = api.book(lab, f"{D}T{start}", f"{D}T{end}", expect=status)
    if status == 409:
        assert reasons(response) == ["overlap"]
        assert response["conflicts"][0]["start"] == f"{D}T{start}:00+02:00"


@pytest.mark.parametrize(("start", "status"), [("12:14", 409), ("12:15", 201)])
def test_buffer(api, make_resource, start, status):
    lab = make_resource(buffer_minutes=15)
    api.book(lab, f"{D}T10:00", f"{D}T12:00")
    api.book(lab, f"{D}T{start}", f"{D}T13:30", expect=status)


def test_units_up_to_the_last(api, make_resource):
    printers = make_resource(kind="equipment", units=3)
    api.book(printers, f"{D}T10:00", f"{D}T12:00", units=2)
    api.book(printers, f"{D}T11:00", f"{D}T13:00", units=1)
    full = api.book(printers, f"{D}T11:30", f"{D}T11:45", expect=409)
    assert full["conflicts"][0]["detail"] == "0 of 3 units free"
    api.book(printers, f"{D}T12:00", f"{D}T13:00", units=2)  # the 2-unit booking ended at 12:00
    too_many = api.book(printers, f"{D}T14:00", f"{D}T15:00", units=4, expect=422)
    assert too_many["errors"][0]["field"] == "units"


def test_linked_resources_block_each_other(api, make_resource):
    court_a, court_b = make_resource(kind="sports"), make_resource(kind="sports")
    hall = make_resource(kind="sports", linked_to=[court_a.id, court_b.id])
    api.book(court_a, f"{D}T18:00", f"{D}T19:00")
    assert reasons(api.book(hall, f"{D}T18:30", f"{D}T20:00", expect=409)) == ["linked"]
    api.book(court_b, f"{D}T18:00", f"{D}T19:00")  # the other court is not linked to court A
    api.book(hall, f"{D}T19:00", f"{D}T20:00")
    assert reasons(api.book(court_a, f"{D}T19:30", f"{D}T20:30", expect=409)) == ["linked"]


def test_blocks_and_a_block_inside_a_series(api, api_for, admin, make_resource):
    lab = make_resource()
    api_for(admin).post(
        f"/api/v1/resources/{lab.id}/blocks",
        {"start": "2026-11-17T00:00", "end": "2026-11-18T00:00", "reason": "Calibrare"},
    )
    single = api.book(lab, "2026-11-17T10:00", "2026-11-17T11:00", expect=409)
    assert reasons(single) == ["blocked"] and single["conflicts"][0]["detail"] == "Calibrare"
    series = api.book(lab, f"{D}T10:00", f"{D}T11:00", recurrence="FREQ=WEEKLY;COUNT=3", expect=409)
    assert [(c["start"][:10], c["reason"]) for c in series["conflicts"]] == [("2026-11-17", "blocked")]
    booked = api.book(lab, f"{D}T10:00", f"{D}T11:00", recurrence="FREQ=WEEKLY;COUNT=3", skip_conflicts=True)
    assert [o["start"][:10] for o in booked["occurrences"]] == ["2026-11-10", "2026-11-24"]
    assert [s["start"][:10] for s in booked["skipped"]] == ["2026-11-17"]


def test_skip_conflicts_with_nothing_left_is_409(api, admin, api_for, make_resource):
    lab = make_resource()
    api_for(admin).post(f"/api/v1/resources/{lab.id}/blocks", {"start": f"{D}T00:00", "end": f"{D}T23:00"})
    api.book(lab, f"{D}T10:00", f"{D}T11:00", skip_conflicts=True, expect=409)


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [("07:59", "09:00", "closed"), ("19:00", "20:01", "closed"), ("08:00", "20:00", None), ("19:00", "20:00", None)],
)
def test_opening_hours(api, make_resource, start, end, reason):
    lab = make_resource(opening_hours={"tue": [["08:00", "20:00"]]})
    response = api.book(lab, f"{D}T{start}", f"{D}T{end}", expect=409 if reason else 201)
    if reason:
        assert reasons(response) == [reason]


def test_sunday_is_closed(api, make_resource):
    lab = make_resource(opening_hours={"mon": [["08:00", "20:00"]]})
    assert reasons(api.book(lab, "2026-11-15T10:00", "2026-11-15T11:00", expect=409)) == ["closed"]


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        ("2026-11-02T08:00", "2026-11-02T08:30", "past"),  # now is 09:00 local
        ("2026-11-02T10:59", "2026-11-02T12:00", "notice"),  # 120 minutes' notice ends at 11:00
        ("2026-11-02T11:00", "2026-11-02T12:00", None),
        # The whole booking lies in the window: it may end exactly 30 days after now, not a minute later
        # (a rule on the end, so that availability's busy "too_far" time is exactly what is refused).
        ("2026-12-02T08:00", "2026-12-02T09:00", None),
        ("2026-12-02T08:01", "2026-12-02T09:01", "too_far"),
        ("2026-12-02T09:00", "2026-12-02T10:00", "too_far"),
    ],
)
def test_notice_and_booking_window(api, make_resource, start, end, reason):
    lab = make_resource(min_notice_minutes=120, max_advance_days=30)
    response = api.book(lab, start, end, expect=409 if reason else 201)
    if reason:
        assert reasons(response) == [reason]


@pytest.mark.parametrize(("minutes", "reason"), [(29, "too_short"), (30, None), (240, None), (241, "too_long")])
def test_duration_limits(api, make_resource, minutes, reason):
    lab = make_resource(min_duration_minutes=30, max_duration_minutes=240)
    end = f"{D}T{8 + minutes // 60:02d}:{minutes % 60:02d}"
    response = api.book(lab, f"{D}T08:00", end, expect=409 if reason else 201)
    if reason:
        assert reasons(response) == [reason]


def test_weekly_quota_counts_pending_and_confirmed(api, make_resource):
    court = make_resource(kind="sports", quota_hours_per_week=2)
    api.book(court, f"{D}T10:00", f"{D}T11:30")
    over = api.book(court, "2026-11-12T10:00", "2026-11-12T11:00", expect=409)
    assert reasons(over) == ["quota"] and over["conflicts"][0]["detail"] == "0.5 of 2 hours left that week"
    api.book(court, "2026-11-12T10:00", "2026-11-12T10:30")  # the last half hour fits
    api.book(court, "2026-11-16T10:00", "2026-11-16T12:00")  # Monday: a new week


def test_quota_within_one_series(api, make_resource):
    court = make_resource(kind="sports", quota_hours_per_week=2)
    response = api.book(court, f"{D}T10:00", f"{D}T11:00", recurrence="FREQ=DAILY;COUNT=3", expect=409)
    assert [(c["start"][:10], c["reason"]) for c in response["conflicts"]] == [("2026-11-12", "quota")]


def test_authorisation_required(api, api_for, member, make_user, make_resource):
    sem = make_resource(kind="equipment", requires_authorization=True)
    refused = api.book(sem, f"{D}T10:00", f"{D}T11:00", expect=403)
    assert "training" in refused["detail"]
    manager = api_for(make_user("UVT", "manager"))
    grant = manager.post(f"/api/v1/resources/{sem.id}/authorizations", {"email": member.email, "expires": "2026-11-20"})
    assert grant.status_code == 201
    api.book(sem, f"{D}T10:00", f"{D}T11:00")
    # The authorisation expires at the end of 20 November; later bookings are checked against "now", not the date.
    listing = manager.get(f"/api/v1/resources/{sem.id}/authorizations").get_json()["items"]
    assert [g["email"] for g in listing] == [member.email]
    assert manager.delete(f"/api/v1/resources/{sem.id}/authorizations/{listing[0]['id']}").status_code == 204
    api.book(sem, f"{D}T12:00", f"{D}T13:00", expect=403)


def test_expired_authorisation(app, api, api_for, member, make_user, make_resource):
    sem = make_resource(kind="equipment", requires_authorization=True)
    manager = api_for(make_user("UVT", "manager"))
    manager.post(f"/api/v1/resources/{sem.id}/authorizations", {"email": member.email, "expires": "2026-11-01T12:00"})
    api.book(sem, f"{D}T10:00", f"{D}T11:00", expect=403)  # now is 2 Nov


def test_members_cannot_grant_authorisations(api, make_resource, member):
    sem = make_resource(kind="equipment", requires_authorization=True)
    assert api.post(f"/api/v1/resources/{sem.id}/authorizations", {"email": member.email}).status_code == 403


def test_institution_only_resources(api_for, make_user, make_resource):
    internal = make_resource("UMFT", visibility="institution")
    api_for(make_user("UPT")).book(internal, f"{D}T10:00", f"{D}T11:00", expect=404)
    api_for(make_user("UMFT")).book(internal, f"{D}T10:00", f"{D}T11:00", expect=201)


def test_partners_may_have_a_shorter_booking_window(api_for, make_user, make_resource):
    # A USVT hall: its own students book three weeks ahead, partners one week ahead.
    hall = make_resource("USVT", "sports", max_advance_days=21, partner_max_advance_days=7)
    own, partner = api_for(make_user("USVT")), api_for(make_user("UVT"))
    own.book(hall, "2026-11-20T10:00", "2026-11-20T11:00")  # 18 days ahead
    too_far = partner.book(hall, "2026-11-12T10:00", "2026-11-12T11:00", expect=409)  # 10 days ahead
    assert reasons(too_far) == ["too_far"] and "7 days" in too_far["conflicts"][0]["detail"]
    partner.book(hall, "2026-11-09T08:00", "2026-11-09T09:00")  # 06:00Z: just inside the partners' week


def test_resources_closed_to_partners(api_for, make_user, make_resource, admin):
    lab = make_resource("UMFT", allow_partners=False)
    refused = api_for(make_user("UPT")).book(lab, f"{D}T10:00", f"{D}T11:00", expect=403)
    assert "partner" in refused["detail"]
    api_for(make_user("UMFT")).book(lab, f"{D}T10:00", f"{D}T11:00")
    body = api_for(admin).get(f"/api/v1/resources/{lab.id}").get_json()
    assert body["allow_partners"] is False and body["partner_max_advance_days"] is None


def test_a_spent_quota_suggests_next_week_without_checking_every_slot(api, make_resource):
    from sqlalchemy import event

    from app.extensions import db

    court = make_resource(kind="sports", quota_hours_per_week=2)
    api.book(court, f"{D}T10:00", f"{D}T12:00")
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        refused = api.book(court, "2026-11-12T10:00", "2026-11-12T11:00", expect=409)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert reasons(refused) == ["quota"]
    slots = refused["suggestions"]["slots"]
    # Only outside the spent week (Monday 9 to Sunday 15 November), nearest first.
    assert len(slots) == 3 and all(not "2026-11-09" <= s["start"] < "2026-11-16" for s in slots), slots
    # The week's spent quota is found once, not for each of the ~300 candidate slots (it was 140+ checks).
    assert len(statements) < 80, len(statements)
