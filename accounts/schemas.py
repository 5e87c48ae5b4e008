"""JSON in and out for institutions, users and tokens."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from accounts.models import ApiToken, Institution, User
from app.validation import StrictInput, text

RoleName = Literal["member", "manager", "admin"]
AffiliationName = Literal["student", "staff", "researcher"]
LocaleName = Literal["ro", "en"]


class TokenRequest(StrictInput):
    email: text(254, 1)  # type: ignore[valid-type]
    password: text(1024, 1)  # type: ignore[valid-type]
    name: text(100) = ""  # type: ignore[valid-type]


class UserUpdate(StrictInput):
    """Absent fields are left as they are; `locale: null` means "follow the browser"."""

    full_name: text(200) | None = None  # type: ignore[valid-type]
    institution: text(10, 1) | None = None  # type: ignore[valid-type]
    role: RoleName | None = None
    affiliation: AffiliationName | None = None
    locale: LocaleName | None = None
    active: bool | None = None
    password: text(1024, 8) | None = None  # type: ignore[valid-type]


class UserCreate(UserUpdate):
    email: text(254, 3)  # type: ignore[valid-type]
    password: text(1024, 8)  # type: ignore[assignment,valid-type]
    institution: text(10, 1)  # type: ignore[assignment,valid-type]


class UserQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    q: text(200) | None = None  # type: ignore[valid-type]
    institution: Annotated[str, Field(max_length=10)] | None = None
    role: RoleName | None = None
    active: bool | None = None
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=100)] = 25


def institution_json(institution: Institution) -> dict[str, Any]:
    return {
        "code": institution.code,
        "name_ro": institution.name_ro,
        "name_en": institution.name_en,
        "short_name": institution.short_name,
        "website": institution.website,
        "city": institution.city,
    }


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "full_name": user.full_name,
        "institution": user.institution.code,
        "role": user.role,
        "affiliation": user.affiliation,
        "locale": user.locale,
        "active": user.active,
        "created_at": user.created_at.isoformat(),
    }


def token_json(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat(),
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
    }
