"""The catalogue through the JSON API, as a script would use it."""

import pytest

from app.extensions import db
from tests.conftest import PASSWORD

PROBLEM = "application/problem+json"
LAB = {"name": "Laborator de fizică", "kind": "lab", "institution": "UVT"}


@pytest.fixture
def uvt_manager(make_user):
    return make_user("UVT", "manager")


@pytest.fixture
def headers(api_auth):
    return api_auth.headers


def test_create_with_every_field_and_read_back(client, admin, headers):
    payload = {
        "name": "Microscop confocal",
        "name_en": "Confocal microscope",
        "kind": "equipment",
        "institution": "UMFT",
        "description_ro": "Zeiss LSM 980.",
        "description_en": "Zeiss LSM 980.",
        "capacity": 3,
        "units": 2,
        "timezone": "Europe/Bucharest",
        "visibility": "public",
        "approval": "partners",
        "buffer_minutes": 15,
        "min_notice_minutes": 1440,
        "max_advance_days": 60,
        "min_duration_minutes": 60,
        "max_duration_minutes": 480,
        "opening_hours": {"mon": [["08:00", "12:00"], ["13:00", "18:00"]], "fri": [["08:00", "14:00"]]},
        "tariffs": {"own": 0, "partner": 250, "external": 400.5},
        "currency": "RON",
        "requires_authorization": True,
        "quota_hours_per_week": 6,
        "features": ["microscope", "training-required"],
    }
    response = client.post("/api/v1/resources", json=payload, headers=headers(admin))
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/resources/{created['id']}")
    fetched = client.get(f"/api/v1/resources/{created['id']}").get_json()  # public: anonymous may read
    for field, value in payload.items():
        assert fetched[field] == value, field
    assert fetched["linked_to"] == []


def test_defaults(client, admin, headers):
    created = client.post("/api/v1/resources", json=LAB, headers=headers(admin)).get_json()
    assert created["units"] == 1
    assert created["timezone"] == "Europe/Bucharest"
    assert created["visibility"] == "alliance"
    assert created["approval"] == "none"
    assert created["opening_hours"] is None
    assert created["currency"] == "RON"


def test_dorms_get_check_in_and_out_times(client, admin, headers):
    dorm = {"name": "Camera 12", "kind": "dorm", "institution": "USVT", "units": 3, "capacity": 3}
    created = client.post("/api/v1/resources", json=dorm, headers=headers(admin)).get_json()
    assert (created["check_in_time"], created["check_out_time"]) == ("14:00", "11:00")


def test_manager_creates_and_edits_only_their_institution(client, uvt_manager, make_resource, headers):
    h = headers(uvt_manager)
    own = client.post("/api/v1/resources", json=LAB, headers=h)
    assert own.status_code == 201
    other = client.post("/api/v1/resources", json={**LAB, "institution": "UPT"}, headers=h)
    assert other.status_code == 403
    assert other.content_type == PROBLEM

    resource_id = own.get_json()["id"]
    patched = client.patch(f"/api/v1/resources/{resource_id}", json={"capacity": 30}, headers=h)
    assert patched.status_code == 200 and patched.get_json()["capacity"] == 30
    moved = client.patch(f"/api/v1/resources/{resource_id}", json={"institution": "UPT"}, headers=h)
    assert moved.status_code == 403

    upt_lab = make_resource("UPT", visibility="public")
    refused = client.patch(f"/api/v1/resources/{upt_lab.id}", json={"capacity": 1}, headers=h)
    assert refused.status_code == 403
    assert client.get(f"/api/v1/resources/{upt_lab.id}").get_json()["capacity"] is None


@pytest.mark.parametrize("role", ["member"])
def test_members_cannot_create_or_edit(client, make_user, make_resource, headers, role):
    user = make_user("UVT", role)
    assert client.post("/api/v1/resources", json=LAB, headers=headers(user)).status_code == 403
    resource = make_resource("UVT")
    assert client.patch(f"/api/v1/resources/{resource.id}", json={"units": 2}, headers=headers(user)).status_code == 403


def test_writes_need_a_token(client, make_resource):
    resource = make_resource(visibility="public")
    assert client.post("/api/v1/resources", json=LAB).status_code == 401
    assert client.patch(f"/api/v1/resources/{resource.id}", json={"units": 2}).status_code == 401
    block = {"start": "2026-12-01T08:00", "end": "2026-12-01T10:00"}
    assert client.post(f"/api/v1/resources/{resource.id}/blocks", json=block).status_code == 401


def test_patch_clears_nullable_fields_and_refuses_null_for_others(client, admin, make_resource, headers):
    resource = make_resource(capacity=10, opening_hours={"mon": [["08:00", "10:00"]]})
    h = headers(admin)
    cleared = client.patch(
        f"/api/v1/resources/{resource.id}", json={"capacity": None, "opening_hours": None}, headers=h
    )
    assert cleared.status_code == 200
    assert cleared.get_json()["capacity"] is None and cleared.get_json()["opening_hours"] is None
    refused = client.patch(f"/api/v1/resources/{resource.id}", json={"units": None, "name": None}, headers=h)
    assert refused.status_code == 422
    assert {e["field"] for e in refused.get_json()["errors"]} >= {"units", "name"}


def test_links_are_symmetric_and_rewritable(client, admin, make_resource, headers):
    hall, court_a, court_b = make_resource(kind="sports"), make_resource(kind="sports"), make_resource(kind="sports")
    h = headers(admin)
    client.patch(f"/api/v1/resources/{hall.id}", json={"linked_to": [court_a.id, court_b.id]}, headers=h)
    assert client.get(f"/api/v1/resources/{court_a.id}", headers=h).get_json()["linked_to"] == [hall.id]
    client.patch(f"/api/v1/resources/{hall.id}", json={"linked_to": [court_b.id]}, headers=h)
    assert client.get(f"/api/v1/resources/{court_a.id}", headers=h).get_json()["linked_to"] == []
    assert client.get(f"/api/v1/resources/{court_b.id}", headers=h).get_json()["linked_to"] == [hall.id]


@pytest.mark.parametrize(
    ("linked", "message"),
    [("self", "itself"), ("missing", "no resources"), ("other-institution", "same institution")],
)
def test_bad_links_are_422(client, admin, make_resource, headers, linked, message):
    resource = make_resource("UVT")
    target = {"self": resource.id, "missing": 999_999, "other-institution": make_resource("UPT").id}[linked]
    response = client.patch(f"/api/v1/resources/{resource.id}", json={"linked_to": [target]}, headers=headers(admin))
    assert response.status_code == 422
    assert message in response.get_json()["errors"][0]["detail"]


def test_visibility_decides_who_sees_what(client, make_user, make_resource, headers):
    public = make_resource("UMFT", name="Public", visibility="public")
    alliance = make_resource("UMFT", name="Alliance", visibility="alliance")
    internal = make_resource("UMFT", name="Internal", visibility="institution")
    names = lambda h=None: {r["name"] for r in client.get("/api/v1/resources", headers=h).get_json()["items"]}  # noqa: E731
    assert names() == {"Public"}
    assert names(headers(make_user("UPT"))) == {"Public", "Alliance"}
    assert names(headers(make_user("UMFT"))) == {"Public", "Alliance", "Internal"}
    assert client.get(f"/api/v1/resources/{alliance.id}").status_code == 404
    upt = headers(make_user("UPT"))
    assert client.get(f"/api/v1/resources/{internal.id}", headers=upt).status_code == 404
    assert client.get(f"/api/v1/resources/{public.id}", headers=upt).status_code == 200


def test_inactive_resources_are_hidden_except_from_their_managers(client, make_user, make_resource, headers):
    resource = make_resource("UVT", visibility="public", active=False)
    assert client.get(f"/api/v1/resources/{resource.id}").status_code == 404
    assert (
        client.get(f"/api/v1/resources/{resource.id}", headers=headers(make_user("UVT", "manager"))).status_code == 200
    )
    assert (
        client.get(f"/api/v1/resources/{resource.id}", headers=headers(make_user("UPT", "manager"))).status_code == 404
    )


def test_filters_and_pagination(client, make_resource):
    for code in ("UVT", "UPT", "UMFT", "USVT"):
        for kind in ("lab", "sports", "dorm", "equipment", "room"):
            make_resource(code, kind, name=f"{code} {kind}", capacity=len(kind) * 5, visibility="public")
    make_resource(
        "UMFT",
        "lab",
        name="Laborator de științe ale vieții",
        capacity=12,
        visibility="public",
        features=["bsl2", "fume-hood"],
    )

    def get(**params):
        return client.get("/api/v1/resources", query_string=params).get_json()

    assert get()["total"] == 21
    for code in ("UVT", "UPT", "UMFT", "USVT"):
        for kind in ("lab", "sports", "dorm", "equipment", "room"):
            items = get(kind=kind, institution=code)["items"]
            assert {(r["institution"], r["kind"]) for r in items} == {(code, kind)}
    assert {r["name"] for r in get(min_capacity=40)["items"]} == {
        f"{c} equipment" for c in ("UVT", "UPT", "UMFT", "USVT")
    }
    assert [r["name"] for r in get(q="stiinte VIETII")["items"]] == ["Laborator de științe ale vieții"]
    assert [r["name"] for r in get(feature="bsl2")["items"]] == ["Laborator de științe ale vieții"]
    assert get(q="100%")["total"] == 0  # LIKE wildcards are literal

    page1, page2, page3 = (get(per_page=8, page=n) for n in (1, 2, 3))
    assert (page1["total"], len(page1["items"]), len(page2["items"]), len(page3["items"])) == (21, 8, 8, 5)
    ids = [r["id"] for p in (page1, page2, page3) for r in p["items"]]
    assert len(set(ids)) == 21
    assert get(per_page=8, page=4)["items"] == []


def test_free_from_to_excludes_blocked_and_closed_resources(client, admin, make_resource, headers):
    open_lab = make_resource(name="Open", visibility="public", opening_hours={"tue": [["08:00", "20:00"]]})
    closed_lab = make_resource(
        name="Closed on Tuesday", visibility="public", opening_hours={"mon": [["08:00", "20:00"]]}
    )
    blocked_lab = make_resource(name="Blocked", visibility="public")
    touching = make_resource(name="Block ends at ten", visibility="public")
    h = headers(admin)
    client.post(
        f"/api/v1/resources/{blocked_lab.id}/blocks",
        json={"start": "2026-12-08T11:00", "end": "2026-12-08T11:30"},
        headers=h,
    )
    client.post(
        f"/api/v1/resources/{touching.id}/blocks",
        json={"start": "2026-12-08T08:00", "end": "2026-12-08T10:00"},
        headers=h,
    )
    items = client.get(
        "/api/v1/resources", query_string={"free_from": "2026-12-08T10:00", "free_to": "2026-12-08T12:00"}
    ).get_json()
    assert {r["name"] for r in items["items"]} == {"Open", "Block ends at ten"}
    assert items["total"] == 2
    assert closed_lab.id not in [r["id"] for r in items["items"]] and open_lab.id in [r["id"] for r in items["items"]]


def test_blocks_in_local_time(client, admin, make_resource, headers):
    resource = make_resource(visibility="public")
    h = headers(admin)
    created = client.post(
        f"/api/v1/resources/{resource.id}/blocks",
        json={"start": "2026-03-29T02:00", "end": "2026-03-29T05:00", "reason": "Mentenanță"},
        headers=h,
    )
    assert created.status_code == 201
    block = created.get_json()
    # Across the spring-forward change the offset moves from +02:00 to +03:00.
    assert (block["start"], block["end"]) == ("2026-03-29T02:00:00+02:00", "2026-03-29T05:00:00+03:00")
    assert block.pop("overlapping_bookings") == []  # only the creation answer lists affected bookings
    assert client.get(f"/api/v1/resources/{resource.id}/blocks").get_json()["items"] == [block]
    assert client.delete(f"/api/v1/resources/{resource.id}/blocks/{block['id']}", headers=h).status_code == 204
    assert client.get(f"/api/v1/resources/{resource.id}/blocks").get_json()["items"] == []


def test_imported_busy_time_is_not_deleted_one_block_at_a_time(client, admin, headers, make_resource, make_block):
    from app.extensions import db
    from resources.models import Block

    resource = make_resource()
    imported = make_block(resource, reason="imported", source="import")
    response = client.delete(f"/api/v1/resources/{resource.id}/blocks/{imported.id}", headers=headers(admin))
    assert response.status_code == 409 and "with its import" in response.get_json()["detail"]
    assert db.session.get(Block, imported.id) is not None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"start": "2026-12-01T10:00", "end": "2026-12-01T10:00"}, "end"),
        ({"start": "2026-12-01T10:00", "end": "2026-12-01T09:00"}, "end"),
        ({"start": "2026-03-29T03:30", "end": "2026-03-29T05:00"}, "start"),
        ({"start": "1850-01-01T00:00", "end": "2026-12-01T09:00"}, "start"),
        ({"start": "2026-12-01T10:00", "end": "2040-12-01T10:00"}, "end"),
        ({"start": "tomorrow", "end": "2026-12-01T09:00"}, "start"),
        ({"start": "2026-12-01T10:00"}, "end"),
        ({"start": "2026-12-01T10:00", "end": "2026-12-01T11:00", "reason": "x" * 501}, "reason"),
    ],
)
def test_bad_blocks_are_422(client, admin, make_resource, headers, payload, field):
    resource = make_resource()
    response = client.post(f"/api/v1/resources/{resource.id}/blocks", json=payload, headers=headers(admin))
    assert response.status_code == 422, response.get_json()
    assert field in {e["field"] for e in response.get_json()["errors"]}


def test_blocks_by_other_institutions_manager_are_403(client, make_user, make_resource, headers):
    resource = make_resource("UVT", visibility="public")
    response = client.post(
        f"/api/v1/resources/{resource.id}/blocks",
        headers=headers(make_user("UPT", "manager")),
        json={"start": "2026-12-01T10:00", "end": "2026-12-01T11:00"},
    )
    assert response.status_code == 403


def test_sites_and_features(client, admin, headers):
    created = client.post(
        "/api/v1/sites",
        headers=headers(admin),
        json={
            "institution": "UPT",
            "name": "Corp Electro",
            "address": "Bd. Vasile Pârvan 2",
            "latitude": 45.75,
            "longitude": 21.22,
        },
    )
    assert created.status_code == 201
    assert client.get("/api/v1/sites?institution=UPT").get_json()["items"] == [created.get_json()]
    site_id = created.get_json()["id"]
    lab = client.post(
        "/api/v1/resources", headers=headers(admin), json={**LAB, "institution": "UPT", "site_id": site_id}
    )
    assert lab.get_json()["site"]["address"] == "Bd. Vasile Pârvan 2"
    wrong_site = client.post("/api/v1/resources", headers=headers(admin), json={**LAB, "site_id": site_id})
    assert wrong_site.status_code == 422
    features = client.get("/api/v1/features").get_json()["items"]
    assert {"code": "projector", "name_ro": "Videoproiector", "name_en": "Projector"} in features


def test_api_token_from_demo_style_login(client, make_user):
    user = make_user("USVT", "admin")
    token = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD}).get_json()["token"]
    response = client.post(
        "/api/v1/resources", json={**LAB, "institution": "USVT"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201


def test_the_free_filter_reads_a_fixed_number_of_statements_and_pages_in_catalogue_order(app, client, make_resource):
    """The candidates are judged without their features and links; only the page's resources load them, in
    one query each, however many resources are free (no query per row)."""
    from sqlalchemy import event

    def free_page(per_page: int) -> tuple[list[str], int, list[dict]]:
        statements: list[str] = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            answer = client.get(
                "/api/v1/resources",
                query_string={"free_from": "2026-12-08T10:00", "free_to": "2026-12-08T12:00", "per_page": per_page},
            ).get_json()
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return statements, answer["total"], answer["items"]

    labs = [make_resource(name=f"Lab {n:02d}", visibility="public", features=["microscope"]) for n in range(6)]
    few, total, items = free_page(2)
    many, _, all_items = free_page(6)
    assert total == 6 and len(few) == len(many)
    assert [i["name"] for i in all_items] == [r.name for r in labs]  # catalogue order
    assert all(i["features"] == ["microscope"] for i in all_items)
    assert [i["name"] for i in items] == ["Lab 00", "Lab 01"]
