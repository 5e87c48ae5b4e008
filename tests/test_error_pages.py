"""The HTML error page: 403, 404, 405, 429 and 500 in both languages, each with a message and a way home."""

from __future__ import annotations

import pytest
from flask import abort

ROMANIAN = {"Accept-Language": "ro"}
ENGLISH = {"Accept-Language": "en"}

MESSAGES = {
    403: ("You are not allowed to do this.", "Nu aveți permisiunea să faceți acest lucru."),
    404: ("This page does not exist.", "Această pagină nu există."),
    405: ("This action is not allowed here.", "Această acțiune nu este permisă aici."),
    429: (
        "Too many attempts. Please wait a minute and try again.",
        "Prea multe încercări. Vă rugăm să așteptați un minut",
    ),
    500: ("Something went wrong on our side. Please try again later.", "A apărut o problemă din partea noastră."),
}


@pytest.fixture
def failing_app(app):
    """Routes that fail on purpose; exceptions are not propagated, as in production."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/test-only/boom")
    def boom():
        raise RuntimeError("kaput")

    @app.get("/test-only/slow-down")
    def slow_down():
        abort(429)

    return app


def request_for(client, status: int, make_user, auth):
    if status == 403:
        user = make_user("UVT", "member")
        auth.login(user.email)
        return "/manage/resources", "get"
    return {
        404: ("/no-such-page", "get"),
        405: ("/logout", "get"),
        429: ("/test-only/slow-down", "get"),
        500: ("/test-only/boom", "get"),
    }[status]


@pytest.mark.own_app  # adds routes to the app
@pytest.mark.parametrize("status", sorted(MESSAGES))
@pytest.mark.parametrize("lang", ["en", "ro"])
def test_error_page_in_both_languages(failing_app, client, make_user, auth, status, lang):
    path, method = request_for(client, status, make_user, auth)
    response = getattr(client, method)(path, headers=ENGLISH if lang == "en" else ROMANIAN)
    assert response.status_code == status
    assert response.content_type.startswith("text/html")
    english, romanian = MESSAGES[status]
    assert (english if lang == "en" else romanian) in response.text
    assert f'<html lang="{lang}">' in response.text
    assert f"{status}</h1>" in response.text
    home = "Back to the search" if lang == "en" else "Înapoi la căutare"
    assert f'<a href="/" class="button primary">{home}</a>' in response.text
    assert 'class="hint"' in response.text  # a helpful next step, not only a code


@pytest.mark.own_app  # adds routes to the app
def test_server_error_hides_the_exception(failing_app, client):
    response = client.get("/test-only/boom", headers=ENGLISH)
    assert response.status_code == 500 and "kaput" not in response.text and "Traceback" not in response.text


@pytest.mark.own_app  # adds routes to the app
def test_api_errors_stay_problem_json(failing_app, client):
    assert client.get("/api/v1/nope").content_type == "application/problem+json"


def test_anonymous_forbidden_page_offers_sign_in(client, make_resource):
    # A hidden resource is a 404 for everyone; the API's 403 for a page needs a signed-in user,
    # so check the sign-in link on the 401-style path through a manage page instead.
    response = client.get("/manage/resources", headers=ENGLISH)
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]
