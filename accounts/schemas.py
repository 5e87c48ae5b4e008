"""JSON in and out for institutions, users and tokens."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.apidoc import CodeOf, Instant, Items, Out, Page
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
    institution: text(10) | None = None  # type: ignore[valid-type]
    role: RoleName | None = None
    active: bool | None = None
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=100)] = 25


# --- answers ----------------------------------------------------------------------------------


class InstitutionOut(Out):
    code: str
    name_ro: str
    name_en: str
    short_name: str
    website: str | None
    city: str


class InstitutionList(Items[InstitutionOut]):
    pass


class UserOut(Out):
    id: int
    email: str
    full_name: str
    institution: CodeOf
    role: RoleName
    affiliation: AffiliationName
    locale: str | None
    active: bool
    created_at: Instant


class UserPage(Page[UserOut]):
    pass


class TokenOut(Out):
    id: int
    name: str
    created_at: Instant
    expires_at: Instant
    last_used_at: Instant | None


class TokenList(Items[TokenOut]):
    pass


class TokenCreated(TokenOut):
    token: str = Field(description="the secret: send it as 'Authorization: Bearer TOKEN'; shown only once")
