"""Sessions that end: a password change (page or API), a deactivation and signing out end every
copy of the user's session cookie and remember-me cookie, and revoke their API tokens for good.

Each test signs in with "remember me", keeps copies of both cookies, and replays each copy alone in
a fresh client after the event (issue 12, item 5; SPEC "Bad input, faults and sessions")."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient

from accounts import services
from tests.conftest import ENGLISH, PASSWORD

PRIVATE_PAGE = "/bookings"  # any page that needs a signed-in user


@dataclass
class SavedCookies:
    session: str
    remember: str


def sign_in(app: Flask, email: str, password: str = PASSWORD) -> tuple[FlaskClient, SavedCookies]:
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": password, "remember": "y"}, headers=ENGLISH)
    assert response.status_code == 302, response.text
    session, remember = client.get_cookie("session"), client.get_cookie("remember_token")
    assert session is not None and remember is not None
    return client, SavedCookies(session.value, remember.value)


def replay(app: Flask, name: str, value: str) -> int:
    """The status of the private page for a fresh client carrying only this copy of one cookie."""
    client = app.test_client()
    client.set_cookie(name, value)
    return client.get(PRIVATE_PAGE, headers=ENGLISH).status_code


def assert_both_work(app: Flask, saved: SavedCookies) -> None:
    assert replay(app, "session", saved.session) == 200
    assert replay(app, "remember_token", saved.remember) == 200


def assert_both_dead(app: Flask, saved: SavedCookies) -> None:
    # Refused cookies leave the visitor anonymous: the page sends them to sign in.
    assert replay(app, "session", saved.session) == 302
    assert replay(app, "remember_token", saved.remember) == 302


def test_copies_of_the_cookies_work_until_something_ends_them(app, make_user):
    user = make_user()
    _, saved = sign_in(app, user.email)
    assert_both_work(app, saved)


def test_signing_out_ends_every_copy_of_the_session_and_remember_me_cookie(app, make_user):
    user = make_user()
    client, saved = sign_in(app, user.email)
    assert client.post("/logout").status_code == 302
    assert_both_dead(app, saved)
    # Signing in again works, with new cookies.
    _, fresh = sign_in(app, user.email)
    assert_both_work(app, fresh)


def test_an_admin_changing_a_password_on_the_page_ends_sessions_and_tokens(app, make_user, admin, api_auth):
    user = make_user()
    _, saved = sign_in(app, user.email)
    token = api_auth.headers(user)
    admin_client, _ = sign_in(app, admin.email)
    response = admin_client.post(
        f"/admin/users/{user.id}",
        data={
            "full_name": "",
            "institution": "UVT",
            "role": "member",
            "affiliation": "staff",
            "locale": "",
            "active": "y",
            "password": "a-new-password-1",
        },
    )
    assert response.status_code == 302, response.text
    assert_both_dead(app, saved)
    assert app.test_client().get("/api/v1/me", headers=token).status_code == 401
    # The new password signs in; the old one does not.
    sign_in(app, user.email, "a-new-password-1")
    assert app.test_client().post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 422


def test_an_admin_changing_a_password_through_the_api_ends_sessions_and_tokens(app, make_user, admin, api_auth):
    user = make_user()
    _, saved = sign_in(app, user.email)
    token = api_auth.headers(user)
    response = app.test_client().patch(
        f"/api/v1/users/{user.id}", json={"password": "a-new-password-1"}, headers=api_auth.headers(admin)
    )
    assert response.status_code == 200, response.get_json()
    assert_both_dead(app, saved)
    assert app.test_client().get("/api/v1/me", headers=token).status_code == 401


def test_changing_only_a_name_ends_nothing(app, make_user, admin, api_auth):
    user = make_user()
    _, saved = sign_in(app, user.email)
    token = api_auth.headers(user)
    response = app.test_client().patch(
        f"/api/v1/users/{user.id}", json={"full_name": "Ana"}, headers=api_auth.headers(admin)
    )
    assert response.status_code == 200
    assert_both_work(app, saved)
    assert app.test_client().get("/api/v1/me", headers=token).status_code == 200


def test_deactivation_ends_sessions_and_reactivation_revives_neither_cookies_nor_tokens(
    app, make_user, admin, api_auth
):
    user = make_user()
    _, saved = sign_in(app, user.email)
    token = api_auth.headers(user)
    admin_headers = api_auth.headers(admin)
    api = app.test_client()
    assert api.patch(f"/api/v1/users/{user.id}", json={"active": False}, headers=admin_headers).status_code == 200
    assert_both_dead(app, saved)
    assert api.get("/api/v1/me", headers=token).status_code == 401
    assert api.patch(f"/api/v1/users/{user.id}", json={"active": True}, headers=admin_headers).status_code == 200
    assert_both_dead(app, saved)
    assert api.get("/api/v1/me", headers=token).status_code == 401
    # The user can sign in again and get new tokens.
    assert api.get("/api/v1/me", headers=api_auth.headers(user)).status_code == 200


def test_an_admin_changing_their_own_password_stays_signed_in_here_only(app, admin):
    client, saved = sign_in(app, admin.email)
    response = client.post(
        f"/admin/users/{admin.id}",
        data={
            "full_name": "",
            "institution": "UVT",
            "role": "admin",
            "affiliation": "staff",
            "locale": "",
            "active": "y",
            "password": "a-new-password-1",
        },
    )
    assert response.status_code == 302, response.text
    assert client.get(PRIVATE_PAGE).status_code == 200
    assert_both_dead(app, saved)


def test_an_id_without_a_session_version_signs_nobody_in(app, make_user):
    """A cookie from before session versions (the bare user id) is refused."""
    user = make_user()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    assert client.get(PRIVATE_PAGE).status_code == 302
    with client.session_transaction() as session:
        session["_user_id"] = f"{user.id}:{user.session_version}"
    assert client.get(PRIVATE_PAGE).status_code == 200


def test_the_services_bump_the_version_and_revoke_tokens(make_user, admin):
    user = make_user()
    _, token = services.issue_token(user)
    version = user.session_version
    services.update_user(admin, user.id, {"password": "a-new-password-1"})
    assert user.session_version == version + 1
    assert token.revoked_at is not None
