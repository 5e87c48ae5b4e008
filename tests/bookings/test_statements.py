"""Monthly settlement between universities: sums of hours, nights and amounts per pair."""

import csv
import io

import pytest


@pytest.fixture
def usage(api_for, make_user, make_resource):
    lab = make_resource("UMFT", tariffs={"own": 0, "partner": 100})
    dorm = make_resource("USVT", "dorm", units=2, capacity=2, tariffs={"own": 40, "partner": 80})
    upt, uvt, umft = api_for(make_user("UPT")), api_for(make_user("UVT")), api_for(make_user("UMFT"))
    upt.book(lab, "2026-11-10T10:00", "2026-11-10T12:00")  # 2 h x 100
    # Weekly 1 h on 23 Nov, 30 Nov and 7 Dec: 300 RON in all, 200 of it in November.
    upt.book(lab, "2026-11-23T10:00", "2026-11-23T11:00", recurrence="FREQ=WEEKLY;COUNT=3")
    uvt.book(dorm, "2026-11-12", "2026-11-14")  # 2 nights x 80
    umft.book(lab, "2026-11-11T10:00", "2026-11-11T11:00")  # own: free
    cancelled = uvt.book(lab, "2026-11-12T10:00", "2026-11-12T11:00")
    uvt.delete(f"/api/v1/bookings/{cancelled['id']}")
    aula = make_resource("UMFT", "room", approval="all", tariffs={"partner": 500})
    upt.book(aula, "2026-11-20T10:00", "2026-11-20T11:00")  # pending: not settled
    return lab


def rows(api, month="2026-11"):
    response = api.get(f"/api/v1/statements?month={month}")
    assert response.status_code == 200, response.get_json()
    return {(r["user_institution"], r["owner_institution"]): r for r in response.get_json()["items"]}


def test_admin_sees_every_pair(usage, api_for, admin):
    table = rows(api_for(admin))
    assert set(table) == {("UPT", "UMFT"), ("UVT", "USVT"), ("UMFT", "UMFT")}
    assert table[("UPT", "UMFT")] == {
        "user_institution": "UPT",
        "owner_institution": "UMFT",
        "bookings": 2,
        "hours": 4.0,
        "nights": 0,
        "amount": 400.0,
        "currency": "RON",
    }
    assert table[("UVT", "USVT")]["nights"] == 2 and table[("UVT", "USVT")]["amount"] == 160.0
    assert table[("UMFT", "UMFT")]["amount"] == 0.0 and table[("UMFT", "UMFT")]["hours"] == 1.0
    december = rows(api_for(admin), "2026-12")
    assert december[("UPT", "UMFT")]["amount"] == 100.0 and december[("UPT", "UMFT")]["hours"] == 1.0


def test_managers_see_their_university_and_members_nothing(usage, api_for, make_user):
    assert set(rows(api_for(make_user("USVT", "manager")))) == {("UVT", "USVT")}
    assert set(rows(api_for(make_user("UPT", "manager")))) == {("UPT", "UMFT")}
    assert api_for(make_user("UPT")).get("/api/v1/statements?month=2026-11").status_code == 403
    assert api_for(make_user("UPT", "manager")).get("/api/v1/statements?month=2026-13").status_code == 422
    assert api_for(make_user("UPT", "manager")).get("/api/v1/statements?month=soon").status_code == 422


def test_page_and_csv(usage, client, auth, admin):
    auth.login(admin.email)
    page = client.get("/statements?month=2026-11", headers={"Accept-Language": "en"}).text
    assert "UPT" in page and "400.00 RON" in page
    download = client.get("/statements/2026-11.csv")
    assert download.headers["Content-Type"].startswith("text/csv")
    records = list(csv.DictReader(io.StringIO(download.text)))
    assert {(r["user_institution"], r["owner_institution"], r["amount"]) for r in records} == {
        ("UPT", "UMFT", "400.00"),
        ("UVT", "USVT", "160.00"),
        ("UMFT", "UMFT", "0.00"),
    }
