"""JSON in and out for institutions, users and tokens."""

from __future__ import annotations

from typing import Any

from accounts.models import ApiToken, Institution, User
from app.validation import StrictInput, text


class TokenRequest(StrictInput):
    email: text(254, 1)  # type: ignore[valid-type]
    password: text(1024, 1)  # type: ignore[valid-type]
    name: text(100) = ""  # type: ignore[valid-type]


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
    }


def token_json(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat(),
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
    }
