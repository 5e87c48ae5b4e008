from datetime import timedelta

import pytest

from accounts import services
from accounts.models import ApiToken
from app.database import utcnow
from app.errors import InvalidInput
from app.extensions import db
from tests.conftest import PASSWORD


def test_password_is_stored_as_argon2id(make_user):
    user = make_user(password="s3cret-password")
    assert user.password_hash.startswith("$argon2id$")
    assert "s3cret-password" not in user.password_hash
    assert services.authenticate(user.email, "s3cret-password") == user
    assert services.authenticate(user.email, "wrong-password") is None
    assert services.authenticate("nobody@uvt.example.org", "s3cret-password") is None


def test_email_is_case_insensitive(make_user):
    user = make_user(email="Ana.Pop@UVT.example.org")
    assert user.email == "ana.pop@uvt.example.org"
    assert services.authenticate("ANA.POP@uvt.example.org", PASSWORD) == user


def test_inactive_users_cannot_sign_in(make_user):
    user = make_user()
    user.active = False
    db.session.commit()
    assert services.authenticate(user.email, PASSWORD) is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"institution_code": "UBB"}, "institution"),
        ({"role": "superuser"}, "role"),
        ({"affiliation": "alumni"}, "affiliation"),
    ],
)
def test_create_user_refuses_bad_values(app, kwargs, field):
    values = {"email": "x@uvt.example.org", "password": PASSWORD, "institution_code": "UVT", **kwargs}
    with pytest.raises(InvalidInput) as error:
        services.create_user(**values)
    assert field in error.value.messages


def test_duplicate_email_is_refused(make_user):
    make_user(email="dup@upt.example.org", institution="UPT")
    with pytest.raises(InvalidInput) as error:
        services.create_user(email="DUP@upt.example.org", password=PASSWORD, institution_code="UPT")
    assert "email" in error.value.messages


def test_token_is_stored_only_as_a_hash(make_user):
    user = make_user()
    secret, token = services.issue_token(user)
    db.session.commit()
    stored = db.session.get(ApiToken, token.id)
    assert secret not in stored.token_hash
    assert len(stored.token_hash) == 64
    assert services.resolve_token(secret).user == user
    assert services.resolve_token(secret + "x") is None


def test_token_expires_and_can_be_revoked(make_user):
    user = make_user()
    now = utcnow()
    secret, token = services.issue_token(user, now=now)
    ttl = token.expires_at - now
    assert ttl == timedelta(days=30)
    assert services.resolve_token(secret, now=now + ttl - timedelta(seconds=1)) is not None
    assert services.resolve_token(secret, now=now + ttl) is None  # the expiry instant is already expired
    services.revoke_token(user, token.id)
    assert services.resolve_token(secret, now=now) is None


def test_a_user_cannot_revoke_someone_elses_token(make_user):
    owner, other = make_user(), make_user()
    _, token = services.issue_token(owner)
    with pytest.raises(services.NotFound):
        services.revoke_token(other, token.id)
