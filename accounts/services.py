"""Users, passwords and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.orm import joinedload

from accounts.models import Affiliation, ApiToken, Institution, Role, User
from app.database import escape_like, utcnow
from app.errors import InvalidInput, NotFound, PermissionDenied
from app.extensions import db
from app.pagination import Page

MIN_PASSWORD_LENGTH = 8
# Only refresh last_used_at this often, so reading with a token is not a write per request.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(time_cost=config["PASSWORD_HASH_TIME_COST"], memory_cost=config["PASSWORD_HASH_MEMORY_COST"])


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(user: User, password: str) -> bool:
    hasher = _hasher()
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidInput({"email": str(exc)}) from exc


def find_institution(code: str) -> Institution | None:
    return db.session.scalar(select(Institution).where(Institution.code == code.upper()))


def get_institution(code: str) -> Institution:
    institution = find_institution(code)
    if institution is None:
        raise NotFound(_l("No institution with code %(code)s.", code=repr(code)))
    return institution


def list_institutions() -> list[Institution]:
    return list(db.session.scalars(select(Institution).order_by(Institution.id)))


def create_user(
    *,
    email: str,
    password: str,
    institution_code: str,
    role: str = Role.MEMBER.value,
    affiliation: str = Affiliation.STAFF.value,
    full_name: str = "",
) -> User:
    errors: dict[str, str] = {}
    if role not in {r.value for r in Role}:
        errors["role"] = _l("must be one of %(values)s", values=", ".join(r.value for r in Role))
    if affiliation not in {a.value for a in Affiliation}:
        errors["affiliation"] = _l("must be one of %(values)s", values=", ".join(a.value for a in Affiliation))
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = _l("must be at least %(num)s characters", num=MIN_PASSWORD_LENGTH)
    if errors:
        raise InvalidInput(errors)
    email = normalise_email(email)
    institution = find_institution(institution_code)
    if institution is None:
        raise InvalidInput({"institution": _l("unknown institution %(code)s", code=repr(institution_code))})
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise InvalidInput({"email": _l("A user with this email already exists.")})
    user = User(
        email=email,
        password_hash=hash_password(password),
        institution=institution,
        role=role,
        affiliation=affiliation,
        full_name=full_name,
    )
    db.session.add(user)
    db.session.flush()
    return user


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def authenticate(email: str, password: str) -> User | None:
    user = find_user_by_email(email)
    if user is None or not user.active:
        # Spend the same effort as a real check so timing does not reveal accounts.
        _hasher().hash(password)
        return None
    return user if verify_password(user, password) else None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(user: User, *, name: str = "", now: datetime | None = None) -> tuple[str, ApiToken]:
    """Return the secret (shown once) and its stored record."""
    now = now or utcnow()
    secret = "atu_" + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        token_hash=_digest(secret),
        name=name,
        created_at=now,
        expires_at=now + timedelta(hours=current_app.config["API_TOKEN_TTL_HOURS"]),
    )
    db.session.add(token)
    db.session.flush()
    return secret, token


@cache
def _token_by_digest() -> Select:
    """The token with its user, in one query; built once, as every API request asks it."""
    return select(ApiToken).where(ApiToken.token_hash == bindparam("digest")).options(joinedload(ApiToken.user))


def resolve_token(secret: str, *, now: datetime | None = None) -> ApiToken | None:
    now = now or utcnow()
    # The lookup is by SHA-256 of a 256-bit secret: equality on the digest leaks nothing useful.
    token = db.session.scalar(_token_by_digest(), {"digest": _digest(secret)})
    if token is None or token.revoked_at is not None or token.expires_at <= now or not token.user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        token.last_used_at = now
    return token


def end_sessions(user: User) -> None:
    """End every session and remember-me cookie of the user: their ids name the old version."""
    user.session_version = (user.session_version or 0) + 1


def revoke_all_tokens(user: User, *, now: datetime | None = None) -> None:
    """Revoke every live token of the user; reactivating the user later does not revive them."""
    now = now or utcnow()
    for token in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
        token.revoked_at = now


def list_tokens(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc())
        )
    )


def revoke_token(user: User, token_id: int, *, now: datetime | None = None) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(_l("No such token."))
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
    return token


# --- administration of users (admins only) -----------------------------------------------------

LOCALES = ("ro", "en")


def require_admin(actor: User | None) -> None:
    if actor is None or actor.role != Role.ADMIN:
        raise PermissionDenied(_l("Only an administrator may manage users."))


UserPage = Page[User]


def list_users(
    actor: User,
    *,
    q: str | None = None,
    institution: str | None = None,
    role: str | None = None,
    active: bool | None = None,
    page: int = 1,
    per_page: int = 25,
) -> UserPage:
    require_admin(actor)
    query = select(User)
    for term in (q or "").split():
        pattern = f"%{escape_like(term.lower())}%"
        query = query.where(
            or_(
                func.lower(User.email).like(pattern, escape="\\"), func.lower(User.full_name).like(pattern, escape="\\")
            )
        )
    if institution:
        query = query.join(Institution, User.institution_id == Institution.id).where(
            Institution.code == institution.upper()
        )
    if role:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.active.is_(active))
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(db.session.scalars(query.order_by(User.email).limit(per_page).offset((page - 1) * per_page)))
    return UserPage(items, total, page, per_page)


def get_user(actor: User, user_id: int) -> User:
    require_admin(actor)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No user %(id)s.", id=user_id))
    return user


def admin_create_user(actor: User, values: dict[str, Any]) -> User:
    require_admin(actor)
    errors = {field: _l("is required") for field in ("email", "password", "institution") if not values.get(field)}
    if values.get("locale") not in (None, *LOCALES):
        errors["locale"] = _l("must be ro or en")
    if errors:
        raise InvalidInput(errors)
    user = create_user(
        email=values["email"],
        password=values["password"],
        institution_code=values["institution"],
        role=values.get("role") or Role.MEMBER.value,
        affiliation=values.get("affiliation") or Affiliation.STAFF.value,
        full_name=values.get("full_name") or "",
    )
    user.locale = values.get("locale")
    if values.get("active") is False:
        user.active = False
    db.session.flush()
    return user


def update_user(actor: User, user_id: int, values: dict[str, Any]) -> User:
    """Change a user's role, institution, affiliation, locale, name, password or active flag."""
    user = get_user(actor, user_id)
    errors: dict[str, str] = {}
    for field in ("full_name", "institution", "role", "affiliation", "active"):
        if field in values and values[field] is None:
            errors[field] = _l("may not be null")
    if values.get("role") is not None and values["role"] not in {r.value for r in Role}:
        errors["role"] = _l("must be one of %(values)s", values=", ".join(r.value for r in Role))
    if values.get("affiliation") is not None and values["affiliation"] not in {a.value for a in Affiliation}:
        errors["affiliation"] = _l("must be one of %(values)s", values=", ".join(a.value for a in Affiliation))
    if values.get("locale") not in (None, *LOCALES):
        errors["locale"] = _l("must be ro or en")
    if values.get("password") is not None and len(values["password"]) < MIN_PASSWORD_LENGTH:
        errors["password"] = _l("must be at least %(num)s characters", num=MIN_PASSWORD_LENGTH)
    institution = None
    if values.get("institution") is not None:
        institution = find_institution(values["institution"])
        if institution is None:
            errors["institution"] = _l("unknown institution %(code)s", code=repr(values["institution"]))
    if user.id == actor.id:
        # An admin locking themselves out would leave nobody able to undo it.
        if values.get("role") not in (None, Role.ADMIN.value):
            errors["role"] = _l("You cannot remove your own admin role; ask another administrator.")
        if values.get("active") is False:
            errors["active"] = _l("You cannot deactivate your own account.")
    if errors:
        raise InvalidInput(errors)
    deactivated = values.get("active") is False and user.active
    for field in ("full_name", "role", "affiliation", "active"):
        if field in values:
            setattr(user, field, values[field])
    if "locale" in values:
        user.locale = values["locale"]
    if institution is not None:
        user.institution = institution
        user.institution_id = institution.id
    if values.get("password"):
        user.password_hash = hash_password(values["password"])
    if values.get("password") or deactivated:
        # A new password or a deactivation ends what the old one opened: sessions, cookies, tokens.
        end_sessions(user)
        revoke_all_tokens(user)
    db.session.flush()
    return user
