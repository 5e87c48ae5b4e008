import pytest

from accounts.views import is_safe_next


def test_login_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert '<label for="email">' in response.text


def test_login_and_logout(client, auth, make_user):
    user = make_user(full_name="Ana Popescu")
    response = auth.login(user.email, follow=True)
    assert response.status_code == 200
    assert "Ana Popescu" in response.text
    auth.logout()
    assert "Ana Popescu" not in client.get("/").text


def test_wrong_password_shows_the_form_again(client, auth, make_user):
    user = make_user()
    response = auth.login(user.email, "wrong-password")
    assert response.status_code == 422
    assert "Wrong email or password" in response.text
    assert 'aria-invalid="true"' in response.text


def test_login_redirects_to_a_safe_next(client, make_user):
    user = make_user()
    response = client.post(
        "/login", data={"email": user.email, "password": "correct-horse-9", "next": "/resources?kind=lab"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/resources?kind=lab"


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/resources", True),
        ("/resources?kind=lab", True),
        ("https://evil.example.com/", False),
        ("//evil.example.com", False),
        ("/\\evil.example.com", False),
        ("javascript:alert(1)", False),
        ("", False),
    ],
)
def test_is_safe_next(target, safe):
    assert is_safe_next(target) is safe


def test_open_redirect_is_refused(client, make_user):
    user = make_user()
    response = client.post(
        "/login", data={"email": user.email, "password": "correct-horse-9", "next": "https://evil.example.com/"}
    )
    assert response.headers["Location"] == "/"


class TestCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_login_without_csrf_token_is_refused(self, client, make_user):
        user = make_user()
        response = client.post("/login", data={"email": user.email, "password": "correct-horse-9"})
        assert response.status_code == 400
        assert "/login" in client.get("/").text  # still signed out

    def test_api_needs_no_csrf_token(self, client, make_user):
        user = make_user()
        response = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": "correct-horse-9"})
        assert response.status_code == 201
