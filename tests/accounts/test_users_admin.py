"""Administration of users: the service rules, the JSON API and the /admin/users pages."""

from __future__ import annotations

import pytest

from accounts import services
from accounts.models import User
from app.errors import InvalidInput, PermissionDenied
from app.extensions import db
from tests.conftest import ENGLISH, PASSWORD

PROBLEM = "application/problem+json"


# --- services ----------------------------------------------------------------------------------


def test_only_admins_may_list_or_change_users(make_user):
    manager = make_user("UVT", "manager")
    with pytest.raises(PermissionDenied):
        services.list_users(manager)
    with pytest.raises(PermissionDenied):
        services.update_user(manager, manager.id, {"role": "admin"})


def test_search_and_filters(admin, make_user):
    make_user("UPT", "manager", email="ana.pop@upt.example.org", full_name="Ana Pop")
    make_user("UPT", "member", email="ion@upt.example.org", full_name="Ion Ionescu")
    make_user("UMFT", "member", email="maria@umft.example.org", full_name="Maria Pop")
    assert {u.email for u in services.list_users(admin, q="pop").items} == {
        "ana.pop@upt.example.org",
        "maria@umft.example.org",
    }
    assert [u.email for u in services.list_users(admin, q="pop", institution="upt").items] == [
        "ana.pop@upt.example.org"
    ]
    assert {u.email for u in services.list_users(admin, role="member").items} == {
        "ion@upt.example.org",
        "maria@umft.example.org",
    }
    page = services.list_users(admin, per_page=2, page=2)
    assert page.total == 4 and len(page.items) == 2 and page.pages == 2
    # LIKE wildcards are literal characters in the search
    assert services.list_users(admin, q="%").total == 0


def test_admin_cannot_demote_or_deactivate_themselves(admin):
    with pytest.raises(InvalidInput) as demote:
        services.update_user(admin, admin.id, {"role": "manager"})
    assert "role" in demote.value.messages
    with pytest.raises(InvalidInput) as deactivate:
        services.update_user(admin, admin.id, {"active": False})
    assert "active" in deactivate.value.messages
    db.session.rollback()
    assert db.session.get(User, admin.id).role == "admin"


def test_update_changes_every_field(admin, make_user):
    user = make_user("UVT", "member")
    services.update_user(
        admin,
        user.id,
        {"role": "manager", "institution": "UMFT", "affiliation": "researcher", "locale": "en", "full_name": "X Y"},
    )
    db.session.commit()
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert (fresh.role, fresh.institution.code, fresh.affiliation, fresh.locale, fresh.full_name) == (
        "manager",
        "UMFT",
        "researcher",
        "en",
        "X Y",
    )


# --- API ---------------------------------------------------------------------------------------


def test_api_list_create_get_patch(api_for, admin, make_user):
    api = api_for(admin)
    created = api.post(
        "/api/v1/users",
        json={
            "email": "Nou@UPT.example.org",
            "password": "secret-pass-1",
            "institution": "UPT",
            "role": "manager",
            "affiliation": "researcher",
            "full_name": "Nou Utilizator",
            "locale": "en",
        },
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["email"] == "nou@upt.example.org" and body["role"] == "manager" and body["active"] is True
    assert created.headers["Location"].endswith(f"/api/v1/users/{body['id']}")

    listed = api.get("/api/v1/users?q=nou&institution=UPT").get_json()
    assert [u["id"] for u in listed["items"]] == [body["id"]] and listed["total"] == 1

    assert api.get(f"/api/v1/users/{body['id']}").get_json()["full_name"] == "Nou Utilizator"
    patched = api.patch(f"/api/v1/users/{body['id']}", json={"role": "member", "active": False, "locale": None})
    assert patched.status_code == 200
    assert (patched.get_json()["role"], patched.get_json()["active"], patched.get_json()["locale"]) == (
        "member",
        False,
        None,
    )


@pytest.mark.parametrize("role", ["member", "manager"])
def test_api_refuses_non_admins(api_for, make_user, role):
    caller = make_user("UVT", role)
    api = api_for(caller)
    for response in (
        api.get("/api/v1/users"),
        api.get(f"/api/v1/users/{caller.id}"),
        api.patch(f"/api/v1/users/{caller.id}", json={"role": "admin"}),
        api.post("/api/v1/users", json={"email": "x@uvt.example.org", "password": "12345678", "institution": "UVT"}),
    ):
        assert response.status_code == 403 and response.content_type == PROBLEM
    db.session.expire_all()
    assert db.session.get(User, caller.id).role == role


def test_api_anonymous_is_401(client):
    assert client.get("/api/v1/users").status_code == 401


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"role": "owner"}, "role"),
        ({"affiliation": "alien"}, "affiliation"),
        ({"locale": "fr"}, "locale"),
        ({"institution": "XYZ"}, "institution"),
        ({"password": "short"}, "password"),
        ({"email": "x@y.org"}, "email"),
        ({"active": "yes"}, "active"),
    ],
)
def test_api_patch_validation_is_422(api_for, admin, make_user, payload, field):
    user = make_user("UVT", "member")
    response = api_for(admin).patch(f"/api/v1/users/{user.id}", json=payload)
    assert response.status_code == 422 and response.content_type == PROBLEM
    assert field in {e["field"] for e in response.get_json()["errors"]}


def test_api_self_demotion_is_422_with_a_reason(api_for, admin):
    response = api_for(admin).patch(f"/api/v1/users/{admin.id}", json={"active": False})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "active"


def test_api_create_validation(api_for, admin, make_user):
    make_user(email="taken@uvt.example.org")
    api = api_for(admin)
    duplicate = api.post(
        "/api/v1/users", json={"email": "taken@uvt.example.org", "password": "12345678", "institution": "UVT"}
    )
    assert duplicate.status_code == 422 and duplicate.get_json()["errors"][0]["field"] == "email"
    missing = api.post("/api/v1/users", json={"email": "new@uvt.example.org"})
    assert missing.status_code == 422
    assert {"password", "institution"} <= {e["field"] for e in missing.get_json()["errors"]}


def test_api_unknown_user_is_404(api_for, admin):
    assert api_for(admin).get("/api/v1/users/99999").status_code == 404


# --- deactivation takes effect everywhere ------------------------------------------------------


def test_deactivated_user_cannot_sign_in_or_use_tokens_or_sessions(client, auth, api_auth, admin, make_user):
    user = make_user("UVT", "member")
    headers = api_auth.headers(user)
    auth.login(user.email)
    assert client.get("/bookings").status_code == 200
    services.update_user(admin, user.id, {"active": False})
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get("/bookings").status_code == 302  # the open session ends too
    assert client.post("/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD}).status_code == 401
    page = auth.login(user.email)
    assert page.status_code == 422 and "Wrong email or password" in page.text


# --- pages -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["member", "manager"])
def test_pages_are_admin_only(client, auth, make_user, role):
    user = make_user("UVT", role)
    auth.login(user.email)
    for path in ("/admin/users", "/admin/users/new", f"/admin/users/{user.id}"):
        response = client.get(path, headers=ENGLISH)
        assert response.status_code == 403, path
        assert "You are not allowed to do this." in response.text


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "lang, heading, label", [("en", "Users", "Email or name"), ("ro", "Utilizatori", "Email sau nume")]
)
def test_list_page_in_both_languages(client, auth, admin, make_user, lang, heading, label):
    make_user("UPT", "manager", email="mgr@upt.example.org")
    auth.login(admin.email)
    page = client.get("/admin/users?institution=UPT", headers={"Accept-Language": lang}).text
    assert f"<h1>{heading}</h1>" in page and label in page
    assert "mgr@upt.example.org" in page and f">{admin.email}</a>" not in page


def test_list_paginates(client, auth, admin, make_user):
    for n in range(30):
        make_user("USVT", "member", email=f"u{n:02d}@usvt.example.org")
    auth.login(admin.email)
    first = client.get("/admin/users?institution=USVT", headers=ENGLISH).text
    assert "Page 1 of 2" in first and "u00@usvt" in first and "u29@usvt" not in first
    second = client.get("/admin/users?institution=USVT&page=2", headers=ENGLISH).text
    assert "u29@usvt" in second and 'rel="prev"' in second


def test_create_then_edit_round_trip(client, auth, admin):
    auth.login(admin.email)
    form = client.get("/admin/users/new", headers=ENGLISH).text
    for name in ("email", "full_name", "institution", "role", "affiliation", "locale", "active", "password"):
        assert f'name="{name}"' in form, name
    created = client.post(
        "/admin/users/new",
        data={
            "email": "creat@umft.example.org",
            "full_name": "Creat Nou",
            "institution": "UMFT",
            "role": "manager",
            "affiliation": "researcher",
            "locale": "ro",
            "active": "y",
            "password": "parola-buna-1",
        },
        headers=ENGLISH,
    )
    assert created.status_code == 302
    user = db.session.scalar(db.select(User).where(User.email == "creat@umft.example.org"))
    assert (user.role, user.institution.code, user.affiliation, user.locale, user.active) == (
        "manager",
        "UMFT",
        "researcher",
        "ro",
        True,
    )
    edit = client.get(created.headers["Location"], headers=ENGLISH).text
    assert "User creat@umft.example.org created." in edit
    assert '<option selected value="manager">' in edit
    saved = client.post(
        f"/admin/users/{user.id}",
        data={"full_name": "Alt Nume", "institution": "UPT", "role": "admin", "affiliation": "staff", "locale": ""},
        headers=ENGLISH,
        follow_redirects=True,
    )
    assert "Saved the changes" in saved.text
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert (user.full_name, user.role, user.institution.code, user.locale, user.active) == (
        "Alt Nume",
        "admin",
        "UPT",
        None,
        False,  # an unticked box deactivates
    )


def test_form_errors_are_shown_on_the_fields(client, auth, admin, make_user):
    make_user(email="taken@uvt.example.org")
    auth.login(admin.email)
    response = client.post(
        "/admin/users/new",
        data={
            "email": "taken@uvt.example.org",
            "institution": "UVT",
            "role": "member",
            "affiliation": "staff",
            "password": "12345678",
        },
        headers=ENGLISH,
    )
    assert response.status_code == 422
    assert 'id="email-error"' in response.text and "already exists" in response.text
    short = client.post(
        "/admin/users/new",
        data={
            "email": "ok@uvt.example.org",
            "institution": "UVT",
            "role": "member",
            "affiliation": "staff",
            "password": "123",
        },
        headers=ENGLISH,
    )
    assert short.status_code == 422 and 'id="password-error"' in short.text


@pytest.mark.parametrize(
    "lang, message",
    [
        ("en", "You cannot remove your own admin role; ask another administrator."),
        ("ro", "Nu vă puteți retrage propriul rol de administrator"),
    ],
)
def test_admin_cannot_demote_self_on_the_page(client, auth, admin, lang, message):
    auth.login(admin.email)
    response = client.post(
        f"/admin/users/{admin.id}",
        data={"institution": "UVT", "role": "member", "affiliation": "staff", "active": "y"},
        headers={"Accept-Language": lang},
    )
    assert response.status_code == 422 and message in response.text
    db.session.expire_all()
    assert db.session.get(User, admin.id).role == "admin"


def test_admin_cannot_deactivate_self_on_the_page(client, auth, admin):
    auth.login(admin.email)
    response = client.post(
        f"/admin/users/{admin.id}",
        data={"institution": "UVT", "role": "admin", "affiliation": "staff"},
        headers=ENGLISH,
    )
    assert response.status_code == 422 and "You cannot deactivate your own account." in response.text
    assert 'id="active-error"' in response.text


def test_list_filters_by_status(client, auth, admin, make_user):
    gone = make_user("UPT", "member", email="plecat@upt.example.org")
    make_user("UPT", "member", email="activ@upt.example.org")
    services.update_user(admin, gone.id, {"active": False})
    db.session.commit()
    auth.login(admin.email)
    page = client.get("/admin/users?status=deactivated", headers=ENGLISH).text
    assert "plecat@upt.example.org" in page and "activ@upt.example.org" not in page
    assert "<strong>deactivated</strong>" in page


def test_an_admin_sets_a_new_password_by_page_and_by_api(client, auth, admin, make_user, api_for):
    user = make_user("UPT", email="uitat@upt.example.org")
    auth.login(admin.email)
    page = client.post(
        f"/admin/users/{user.id}",
        data={
            "full_name": "",
            "institution": "UPT",
            "role": "member",
            "affiliation": "student",
            "locale": "",
            "active": "y",
            "password": "parola-noua-1",
        },
        headers=ENGLISH,
    )
    assert page.status_code == 302
    db.session.expire_all()
    assert services.authenticate(user.email, PASSWORD) is None
    assert services.authenticate(user.email, "parola-noua-1") is not None
    patched = api_for(admin).patch(f"/api/v1/users/{user.id}", {"password": "parola-api-22"})
    assert patched.status_code == 200, patched.get_json()
    assert "password" not in patched.get_json()
    db.session.expire_all()
    assert services.authenticate(user.email, "parola-noua-1") is None
    assert services.authenticate(user.email, "parola-api-22").id == user.id
