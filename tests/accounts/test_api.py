import pytest

from tests.conftest import PASSWORD

PROBLEM = "application/problem+json"


def test_token_flow(client, make_user):
    user = make_user("UPT", "member")
    response = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 201
    body = response.get_json()
    assert body["token"].startswith("atu_") and "expires_at" in body
    headers = {"Authorization": f"Bearer {body['token']}"}

    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.get_json()["institution"] == "UPT"

    assert client.delete("/api/v1/auth/tokens/current", headers=headers).status_code == 204
    after = client.get("/api/v1/me", headers=headers)
    assert after.status_code == 401
    assert after.content_type == PROBLEM
    assert after.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "payload",
    [{"email": "member@uvt.example.org", "password": "wrong"}, {"email": "ghost@uvt.example.org", "password": "x"}],
)
def test_wrong_credentials_are_401(client, make_user, payload):
    make_user(email="member@uvt.example.org")
    response = client.post("/api/v1/auth/tokens", json=payload)
    assert response.status_code == 401
    assert response.content_type == PROBLEM
    assert "token" not in response.get_json()


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Bearer nope", "Basic dXNlcjpwYXNz", "bearer " + "a" * 300, "Token abc"],
)
def test_bad_authorization_headers_are_401(client, header):
    response = client.get("/api/v1/resources", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.content_type == PROBLEM


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/auth/tokens"])
def test_endpoints_needing_a_user_are_401_without_token(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.get_json()["status"] == 401


def test_list_and_revoke_my_tokens(client, make_user, api_auth):
    user = make_user()
    first = api_auth.token(user)
    second = api_auth.token(user)
    headers = {"Authorization": f"Bearer {first}"}
    listing = client.get("/api/v1/auth/tokens", headers=headers).get_json()["items"]
    assert len(listing) == 2
    assert all("token" not in item and "token_hash" not in item for item in listing)
    other_id = next(item["id"] for item in listing if item["last_used_at"] is None)
    assert client.delete(f"/api/v1/auth/tokens/{other_id}", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"}).status_code == 401
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_institutions_lists_the_four_universities(client):
    body = client.get("/api/v1/institutions").get_json()
    assert [i["code"] for i in body["items"]] == ["UVT", "UPT", "UMFT", "USVT"]
    umft = client.get("/api/v1/institutions/umft").get_json()
    assert umft["name_ro"].startswith("Universitatea de Medicină și Farmacie")
    assert "Victor Babeș" in umft["name_en"]
    assert client.get("/api/v1/institutions/XYZ").status_code == 404


@pytest.mark.committed  # failed sign-ins are written on their own connection
class TestRateLimit:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}

    def test_token_endpoint_is_rate_limited(self, client, make_user):
        user = make_user()
        codes = [
            client.post("/api/v1/auth/tokens", json={"email": user.email, "password": "wrong"}).status_code
            for _ in range(4)
        ]
        assert codes == [401, 401, 401, 429]
        limited = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD})
        assert limited.status_code == 429
        assert limited.content_type == PROBLEM

    def test_login_page_is_rate_limited(self, client, make_user):
        user = make_user()
        codes = [client.post("/login", data={"email": user.email, "password": "bad"}).status_code for _ in range(4)]
        assert codes == [422, 422, 422, 429]
        again = client.post("/login", data={"email": user.email, "password": "x"}, headers={"Accept-Language": "en"})
        assert "Too many attempts" in again.text
