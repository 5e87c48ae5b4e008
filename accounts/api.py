"""JSON API for tokens, the caller and institutions."""

from __future__ import annotations

from flask import Blueprint, current_app, g, request, url_for

from accounts import services
from accounts.schemas import (
    TokenRequest,
    UserCreate,
    UserQuery,
    UserUpdate,
    institution_json,
    token_json,
    user_json,
)
from app.api import require_api_user
from app.errors import Unauthenticated
from app.extensions import db, limiter
from app.validation import parse_json, parse_query

bp = Blueprint("accounts_api", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.post("/auth/tokens")
@limiter.limit(_login_limit)
def create_token():
    data = parse_json(TokenRequest, request.get_data())
    user = services.authenticate(data.email, data.password)
    if user is None:
        raise Unauthenticated("Wrong email or password.")
    secret, token = services.issue_token(user, name=data.name)
    db.session.commit()
    return {"token": secret, **token_json(token)}, 201


@bp.get("/auth/tokens")
def list_tokens():
    user = require_api_user()
    return {"items": [token_json(t) for t in services.list_tokens(user)]}


@bp.delete("/auth/tokens/current")
def revoke_current_token():
    user = require_api_user()
    services.revoke_token(user, g.api_token.id)
    db.session.commit()
    return "", 204


@bp.delete("/auth/tokens/<id:token_id>")
def revoke_token(token_id: int):
    user = require_api_user()
    services.revoke_token(user, token_id)
    db.session.commit()
    return "", 204


@bp.get("/me")
def me():
    return user_json(require_api_user())


@bp.get("/institutions")
def list_institutions():
    return {"items": [institution_json(i) for i in services.list_institutions()]}


@bp.get("/institutions/<code>")
def get_institution(code: str):
    return institution_json(services.get_institution(code[:10]))


@bp.get("/users")
def list_users():
    actor = require_api_user()
    query = parse_query(UserQuery, request.args)
    result = services.list_users(actor, **query.model_dump())
    return {
        "items": [user_json(u) for u in result.items],
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
    }


@bp.post("/users")
def create_user():
    actor = require_api_user()
    services.require_admin(actor)
    data = parse_json(UserCreate, request.get_data())
    user = services.admin_create_user(actor, data.model_dump(exclude_unset=True))
    db.session.commit()
    return user_json(user), 201, {"Location": url_for(".get_user", user_id=user.id)}


@bp.get("/users/<id:user_id>")
def get_user(user_id: int):
    return user_json(services.get_user(require_api_user(), user_id))


@bp.patch("/users/<id:user_id>")
def update_user(user_id: int):
    actor = require_api_user()
    services.require_admin(actor)
    data = parse_json(UserUpdate, request.get_data())
    user = services.update_user(actor, user_id, data.model_dump(exclude_unset=True))
    db.session.commit()
    return user_json(user)
