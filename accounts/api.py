"""JSON API for tokens, the caller and institutions."""

from __future__ import annotations

from flask import Blueprint, g, request, url_for
from flask_babel import lazy_gettext as _l

from accounts import budget, services
from accounts.auth import require_api_user
from accounts.schemas import (
    InstitutionList,
    InstitutionOut,
    TokenCreated,
    TokenList,
    TokenOut,
    TokenRequest,
    UserCreate,
    UserOut,
    UserPage,
    UserQuery,
    UserUpdate,
)
from app.apidoc import operation
from app.errors import Unauthenticated
from app.validation import parse_json, parse_query

bp = Blueprint("accounts_api", __name__)


@bp.post("/auth/tokens")
@operation(TokenCreated, status=201, body=TokenRequest, errors=(429,))
def create_token():
    """Exchange email and password for a bearer token"""
    data = parse_json(TokenRequest, request.get_data())
    budget.check(data.email)
    user = services.authenticate(data.email, data.password)
    if user is None:
        budget.record_failure(data.email)
        raise Unauthenticated(_l("Wrong email or password."))
    secret, token = services.issue_token(user, name=data.name)
    return TokenCreated.model_validate(TokenOut.model_validate(token).model_dump() | {"token": secret})


@bp.get("/auth/tokens")
@operation(TokenList, auth=True)
def list_tokens():
    """My active tokens"""
    user = require_api_user()
    return TokenList(items=[TokenOut.model_validate(t) for t in services.list_tokens(user)])


@bp.delete("/auth/tokens/current")
@operation(status=204, auth=True)
def revoke_current_token():
    """Revoke the token used for this request"""
    user = require_api_user()
    services.revoke_token(user, g.api_token.id)
    return "", 204


@bp.delete("/auth/tokens/<id:token_id>")
@operation(status=204, errors=(404,), auth=True)
def revoke_token(token_id: int):
    """Revoke one of my tokens"""
    user = require_api_user()
    services.revoke_token(user, token_id)
    return "", 204


@bp.get("/me")
@operation(UserOut, auth=True)
def me():
    """The authenticated user"""
    return UserOut.model_validate(require_api_user())


@bp.get("/institutions")
@operation(InstitutionList)
def list_institutions():
    """The alliance's universities"""
    return InstitutionList(items=[InstitutionOut.model_validate(i) for i in services.list_institutions()])


@bp.get("/institutions/<code>")
@operation(InstitutionOut, errors=(404,))
def get_institution(code: str):
    """One university"""
    return InstitutionOut.model_validate(services.get_institution(code[:10]))


@bp.get("/users")
@operation(UserPage, query=UserQuery, errors=(403,), auth=True)
def list_users():
    """Users, searched by email or name and filtered (admins only)"""
    actor = require_api_user()
    query = parse_query(UserQuery, request.args)
    result = services.list_users(actor, **query.model_dump())
    items = [UserOut.model_validate(u) for u in result.items]
    return UserPage(items=items, total=result.total, page=result.page, per_page=result.per_page)


@bp.post("/users")
@operation(UserOut, status=201, body=UserCreate, errors=(403,), auth=True)
def create_user():
    """Create a user (admins only)"""
    actor = require_api_user()
    services.require_admin(actor)
    data = parse_json(UserCreate, request.get_data())
    user = services.admin_create_user(actor, data.model_dump(exclude_unset=True))
    return UserOut.model_validate(user), {"Location": url_for(".get_user", user_id=user.id)}


@bp.get("/users/<id:user_id>")
@operation(UserOut, errors=(403, 404), auth=True)
def get_user(user_id: int):
    """One user (admins only)"""
    return UserOut.model_validate(services.get_user(require_api_user(), user_id))


@bp.patch("/users/<id:user_id>")
@operation(UserOut, body=UserUpdate, errors=(403, 404), auth=True)
def update_user(user_id: int):
    """Change a user's role, institution, affiliation, language, name, password or active flag

    Admins only; an admin cannot remove their own admin role or deactivate themselves."""
    actor = require_api_user()
    services.require_admin(actor)
    data = parse_json(UserUpdate, request.get_data())
    user = services.update_user(actor, user_id, data.model_dump(exclude_unset=True))
    return UserOut.model_validate(user)
