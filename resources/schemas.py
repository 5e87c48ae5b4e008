"""JSON in and out for the catalogue."""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime
from datetime import time as Time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.validation import LongText, Minutes, Name, ShortText, StrictInput, text
from calendars.zones import isoformat_local
from resources.models import Block, Resource, Site

KindName = Literal["lab", "sports", "dorm", "equipment", "room"]
VisibilityName = Literal["public", "alliance", "institution"]
ApprovalName = Literal["none", "partners", "all"]
TariffClass = Literal["own", "partner", "external"]
Amount = Annotated[float, Field(ge=0, le=1_000_000)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Code = text(10, 1)
TimeOfDay = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class ResourceFields(StrictInput):
    """Every setting of a resource, each declared once: its type, limits and default.

    Absent means "leave as is" in a PATCH and the default written here in a POST (and in the
    settings form and the demo file); a setting whose default is None may be cleared with null.
    """

    name: Name | None = None
    name_en: text(200) | None = None  # type: ignore[valid-type]
    kind: KindName | None = None
    institution: Code | None = None  # type: ignore[valid-type]
    site_id: Id | None = None
    description_ro: LongText | None = ""  # type: ignore[valid-type]
    description_en: LongText | None = ""  # type: ignore[valid-type]
    capacity: Annotated[int, Field(ge=0, le=100_000)] | None = None
    units: Annotated[int, Field(ge=1, le=10_000)] | None = 1
    timezone: text(64, 1) | None = "Europe/Bucharest"  # type: ignore[valid-type]
    visibility: VisibilityName | None = "alliance"
    approval: ApprovalName | None = "none"
    buffer_minutes: Annotated[int, Field(ge=0, le=24 * 60)] | None = 0
    min_notice_minutes: Minutes | None = 0
    max_advance_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    partner_max_advance_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    allow_partners: bool | None = True
    check_in_required: bool | None = False
    no_show_minutes: Annotated[int, Field(ge=1, le=24 * 60)] | None = 15
    min_duration_minutes: Annotated[Minutes, Field(ge=1)] | None = None
    max_duration_minutes: Annotated[Minutes, Field(ge=1)] | None = None
    # Shape only; the service checks weekdays, times and overlaps for API and forms alike.
    opening_hours: dict[str, list[list[str]]] | None = None
    linked_to: Annotated[list[Id], Field(max_length=50)] | None = []
    tariffs: dict[TariffClass, Amount] | None = {}
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = "RON"
    requires_authorization: bool | None = False
    quota_hours_per_week: Annotated[float, Field(gt=0, le=168)] | None = None
    approval_deadline_hours: Annotated[int, Field(ge=1, le=24 * 60)] | None = 72
    check_in_time: TimeOfDay | None = None
    check_out_time: TimeOfDay | None = None
    features: Annotated[list[text(40, 1)], Field(max_length=50)] | None = []  # type: ignore[valid-type]
    active: bool | None = True


class ResourceCreate(ResourceFields):
    name: Name  # type: ignore[assignment]
    kind: KindName  # type: ignore[assignment]
    institution: Code  # type: ignore[assignment,valid-type]


def resource_defaults() -> dict[str, Any]:
    """A new resource's value for every setting left out: the defaults declared above (fresh copies)."""
    return {
        name: field.get_default(call_default_factory=True)
        for name, field in ResourceCreate.model_fields.items()
        if not field.is_required()
    }


class ResourceQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    kind: KindName | None = None
    institution: Annotated[str, Field(max_length=10)] | None = None
    q: ShortText | None = None  # type: ignore[valid-type]
    min_capacity: Annotated[int, Field(ge=0, le=100_000)] | None = None
    feature: Annotated[str, Field(max_length=40)] | None = None
    free_from: datetime | None = None
    free_to: datetime | None = None
    managed: bool = False
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=100)] = 20


InstitutionCode = Annotated[str, Field(pattern=r"^(?i:UVT|UPT|UMFT|USVT)$")]


class SearchQuery(BaseModel):
    """GET /search: what (filters), when (a date with a time range, or with nights), where (universities)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    kind: KindName | None = None
    feature: Annotated[str, Field(max_length=40)] | None = None
    q: ShortText | None = None  # type: ignore[valid-type]
    min_capacity: Annotated[int, Field(ge=0, le=100_000)] | None = None
    institution: Annotated[list[InstitutionCode], Field(max_length=4)] = []
    date: Date | None = None
    start: Time | None = None
    end: Time | None = None
    nights: Annotated[int, Field(ge=1, le=60)] | None = None


class TimelineQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    date: Date | None = None
    institution: InstitutionCode | None = None
    kind: KindName | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 40


class CalendarQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    week: Date | None = None


class BlockCreate(StrictInput):
    start: datetime
    end: datetime
    reason: ShortText = ""  # type: ignore[valid-type]


class SiteCreate(StrictInput):
    institution: Code  # type: ignore[valid-type]
    name: Name  # type: ignore[valid-type]
    address: ShortText = ""  # type: ignore[valid-type]
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None


def site_json(site: Site) -> dict[str, Any]:
    return {
        "id": site.id,
        "institution": site.institution.code,
        "name": site.name,
        "address": site.address,
        "latitude": site.latitude,
        "longitude": site.longitude,
    }


def resource_json(resource: Resource) -> dict[str, Any]:
    return {
        "id": resource.id,
        "name": resource.name,
        "name_en": resource.name_en,
        "kind": resource.kind,
        "institution": resource.institution.code,
        "site": site_json(resource.site) if resource.site else None,
        "description_ro": resource.description_ro,
        "description_en": resource.description_en,
        "capacity": resource.capacity,
        "units": resource.units,
        "timezone": resource.timezone,
        "visibility": resource.visibility,
        "approval": resource.approval,
        "buffer_minutes": resource.buffer_minutes,
        "min_notice_minutes": resource.min_notice_minutes,
        "max_advance_days": resource.max_advance_days,
        "partner_max_advance_days": resource.partner_max_advance_days,
        "allow_partners": resource.allow_partners,
        "check_in_required": resource.check_in_required,
        "no_show_minutes": resource.no_show_minutes,
        "min_duration_minutes": resource.min_duration_minutes,
        "max_duration_minutes": resource.max_duration_minutes,
        "opening_hours": resource.opening_hours,
        "linked_to": [linked.id for linked in resource.linked],
        "tariffs": resource.tariffs,
        "currency": resource.currency,
        "requires_authorization": resource.requires_authorization,
        "quota_hours_per_week": resource.quota_hours_per_week,
        "approval_deadline_hours": resource.approval_deadline_hours,
        "check_in_time": resource.check_in_time,
        "check_out_time": resource.check_out_time,
        "features": resource.features,
        "active": resource.active,
        "updated_at": resource.updated_at.isoformat(),
    }


def block_json(block: Block) -> dict[str, Any]:
    tz = block.resource.timezone
    return {
        "id": block.id,
        "resource_id": block.resource_id,
        "start": isoformat_local(block.start_at, tz),
        "end": isoformat_local(block.end_at, tz),
        "reason": block.reason,
        "source": block.source,
    }


def overlapping_json(occurrence: Any, tz: str) -> dict[str, Any]:
    return {
        "booking_id": occurrence.booking_id,
        "occurrence_id": occurrence.id,
        "title": occurrence.booking.title,
        "status": occurrence.booking.status,
        "requester": occurrence.booking.requester.email,
        "start": isoformat_local(occurrence.start_at, tz),
        "end": isoformat_local(occurrence.end_at, tz),
    }
