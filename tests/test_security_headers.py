"""Security headers on every kind of answer (pages, API, feeds, static files, error pages), a per-view
override for framing, and what production adds and refuses (HSTS, Secure cookies, a real SECRET_KEY)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import abort

from app.extensions import db
from app.factory import create_app
from app.security import InsecureConfiguration, add_security_headers, content_security_policy
from config import DEV_SECRET_KEY, ProductionConfig
from tests.conftest import PASSWORD

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def assert_guarded(response) -> None:
    headers = response.headers
    assert headers["Content-Security-Policy"] == POLICY, response.request.path
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in headers  # only under production


def test_pages_carry_the_policy_and_refuse_framing(client, auth, make_user, make_resource):
    resource = make_resource(visibility="public")
    for path in ("/", "/login", "/resources", f"/resources/{resource.id}", "/events", "/timeline"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_guarded(response)
    auth.login(make_user().email)
    assert_guarded(client.get("/bookings"))


def test_api_feeds_and_static_files_carry_them_too(client, api, make_resource):
    resource = make_resource(visibility="public")
    assert_guarded(api.get("/api/v1/resources"))
    assert_guarded(client.get("/api/v1/resources"))  # 401 problem+json
    assert_guarded(client.get("/api/v1/openapi.json"))
    feed = client.get(f"/calendars/resources/{resource.id}.ics")
    assert feed.status_code == 200
    assert_guarded(feed)
    assert_guarded(
        client.get(f"/calendars/resources/{resource.id}.ics", headers={"If-None-Match": feed.headers["ETag"]})
    )
    with client.get("/static/css/app.css") as stylesheet:
        assert_guarded(stylesheet)
    assert_guarded(client.get("/healthz"))


def test_the_language_switch_redirect_carries_them(client):
    response = client.get("/language/en?next=/")
    assert response.status_code == 302
    assert_guarded(response)


@pytest.mark.own_app
def test_error_pages_carry_them(app, client, make_user, auth):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/test-only/boom")
    def boom():
        raise RuntimeError("kaput")

    assert_guarded(client.get("/no-such-page"))  # 404 page
    assert_guarded(client.get("/api/v1/no-such-thing"))  # 404 problem+json
    assert_guarded(client.post("/healthz"))  # 405
    assert_guarded(client.get("/test-only/boom"))  # 500 page
    auth.login(make_user().email)
    assert_guarded(client.get("/statements"))  # 403 page


@pytest.mark.own_app
def test_a_view_can_allow_framing_for_itself(app, client):
    @app.get("/test-only/door")
    @content_security_policy(frame_ancestors="https://door.example.org")
    def door():
        return "door"

    @app.get("/test-only/door-refused")
    @content_security_policy(frame_ancestors="https://door.example.org")
    def door_refused():
        abort(403)

    response = client.get("/test-only/door")
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors https://door.example.org" in policy and "frame-ancestors 'none'" not in policy
    assert "script-src 'self'" in policy and "X-Frame-Options" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # The next request is back to the default: the override lived in that request's `g` only.
    assert_guarded(client.get("/"))
    assert "door.example.org" in client.get("/test-only/door-refused").headers["Content-Security-Policy"]


def test_a_header_the_view_set_itself_is_kept(client, app):
    # Feeds and downloads set their own Content-Type; the hook adds, it never overwrites.
    with app.test_request_context("/"):
        response = app.make_response(("x", 200, {"Referrer-Policy": "no-referrer"}))
        add_security_headers(response, None)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- Production -------------------------------------------------------------------------------------------


def production(database: str, **overrides: Any) -> type:
    settings = {
        "SQLALCHEMY_DATABASE_URI": database,
        "SECRET_KEY": "a-long-random-production-key-0123456789",
        **overrides,
    }
    return type("Production", (ProductionConfig,), settings)


@pytest.mark.parametrize("key", [DEV_SECRET_KEY, "", "   ", None])
def test_production_refuses_to_start_without_a_real_secret_key(database, key):
    with pytest.raises(InsecureConfiguration, match="SECRET_KEY"):
        create_app(production(database, SECRET_KEY=key))


def test_production_starts_with_a_real_key_and_sends_hsts(database):
    app = create_app(production(database))
    try:
        with app.test_client() as client:
            response = client.get("/login", base_url="https://localhost")
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        assert response.headers["X-Frame-Options"] == "DENY"
    finally:
        with app.app_context():
            db.engine.dispose()


def test_production_asks_for_a_key_and_lax_sessions():
    assert ProductionConfig.REQUIRE_SECRET_KEY is True
    assert ProductionConfig.SESSION_COOKIE_SAMESITE == "Lax"


PRODUCTION_COOKIES = {
    name: getattr(ProductionConfig, name)
    for name in (
        "SESSION_COOKIE_SECURE",
        "REMEMBER_COOKIE_SECURE",
        "SESSION_COOKIE_SAMESITE",
        "STRICT_TRANSPORT_SECURITY",
    )
}


class TestCookiesUnderProduction:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return PRODUCTION_COOKIES

    def test_every_cookie_is_secure(self, client, make_user):
        user = make_user()
        cookies: dict[str, str] = {}
        sign_in = client.post(
            "/login",
            data={"email": user.email, "password": PASSWORD, "remember": "y"},
            base_url="https://localhost",
        )
        switch = client.get("/language/en?next=/", base_url="https://localhost")
        for response in (sign_in, switch):
            for header in response.headers.getlist("Set-Cookie"):
                cookies[header.split("=", 1)[0]] = header
        assert {"session", "remember_token", "lang"} <= cookies.keys(), cookies
        for header in cookies.values():
            attributes = [part.strip().lower() for part in header.split(";")]
            assert "secure" in attributes, header
            assert "samesite=lax" in attributes, header
            assert "httponly" in attributes, header


def test_static_urls_carry_their_contents_hash(app, client):
    """A static URL names its file's version, so nginx may cache it for good and an upgrade is seen at once."""
    import hashlib
    from pathlib import Path

    from flask import url_for

    css = Path(app.static_folder) / "css" / "app.css"
    expected = hashlib.sha256(css.read_bytes()).hexdigest()[:12]
    with app.test_request_context():
        assert url_for("static", filename="css/app.css") == f"/static/css/app.css?v={expected}"
        assert url_for("static", filename="no/such.css") == "/static/no/such.css"
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert f"/static/css/app.css?v={expected}" in page
    with client.get(f"/static/css/app.css?v={expected}") as served:
        assert served.status_code == 200 and served.data == css.read_bytes()


def test_pages_name_an_icon_and_a_manifest_that_are_served(client):
    """No page asks for a favicon that is not there (a console error on every page), and the web app
    manifest is valid JSON with its own media type, naming an icon that is served."""
    import json

    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert 'rel="icon" href="/static/icons/atu.svg?v=' in page and 'rel="manifest"' in page
    legacy = client.get("/favicon.ico")
    assert legacy.status_code == 301 and legacy.headers["Location"].startswith("/static/icons/atu.svg")
    with client.get("/static/manifest.webmanifest") as manifest:
        assert manifest.status_code == 200 and manifest.mimetype == "application/manifest+json"
        icons = json.loads(manifest.data)["icons"]
    with client.get(icons[0]["src"]) as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
