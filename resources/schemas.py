"""JSON in and out for the catalogue."""

from __future__ import annotations

from datetime import time as Time
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, create_model

from app.apidoc import CodeOf, Instant, IsoDate, Items, LocalDateTime, Out, Page
from app.validation import Day, LongText, Minutes, Moment, Name, ShortText, StrictInput, When, text
from app.zones import isoformat_local
from config import DEFAULT_TIMEZONE
from resources.models import Block, Resource

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
    timezone: text(64, 1) | None = DEFAULT_TIMEZONE  # type: ignore[valid-type]
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
    institution: text(10) | None = None  # type: ignore[valid-type]
    q: ShortText | None = None  # type: ignore[valid-type]
    min_capacity: Annotated[int, Field(ge=0, le=100_000)] | None = None
    feature: text(40) | None = None  # type: ignore[valid-type]
    free_from: Moment | None = None
    free_to: Moment | None = None
    managed: bool = False
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=100)] = 20


InstitutionCode = Annotated[str, Field(pattern=r"^(?i:UVT|UPT|UMFT|USVT)$")]


class SearchQuery(BaseModel):
    """GET /search: what (filters), when (a date with a time range, or with nights), where (universities)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    kind: KindName | None = None
    feature: text(40) | None = None  # type: ignore[valid-type]
    q: ShortText | None = None  # type: ignore[valid-type]
    min_capacity: Annotated[int, Field(ge=0, le=100_000)] | None = None
    institution: Annotated[list[InstitutionCode], Field(max_length=4)] = []
    date: Day | None = None
    start: Time | None = None
    end: Time | None = None
    nights: Annotated[int, Field(ge=1, le=60)] | None = None


class TimelineQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    date: Day | None = None
    institution: InstitutionCode | None = None
    kind: KindName | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 40


class CalendarQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    week: Day | None = None


class SiteQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    institution: text(10) | None = None  # type: ignore[valid-type]


class BlockCreate(StrictInput):
    start: Moment
    end: Moment
    reason: ShortText = ""  # type: ignore[valid-type]


class SiteCreate(StrictInput):
    institution: Code  # type: ignore[valid-type]
    name: Name  # type: ignore[valid-type]
    address: ShortText = ""  # type: ignore[valid-type]
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None


# --- answers ----------------------------------------------------------------------------------


class SiteOut(Out):
    id: int
    institution: CodeOf
    name: str
    address: str
    latitude: float | None
    longitude: float | None


class SiteList(Items[SiteOut]):
    pass


def _answered(annotation: Any) -> Any:
    """An input type without its constraints (lengths, ranges, strictness, None): answers are not re-checked."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _answered(args[0])
    if origin in (Union, UnionType):
        kept = tuple(_answered(arg) for arg in args if arg is not NoneType)
        return Union[kept] if len(kept) > 1 else kept[0]  # noqa: UP007  # built from a tuple
    if origin is list:
        return list[_answered(args[0])]  # type: ignore[misc]
    if origin is dict:
        return dict[_answered(args[0]), _answered(args[1])]  # type: ignore[misc]
    return annotation


# Settings answered in another shape than they are written: the site as an object, links as ids.
_ANSWERED_AS = {
    "site_id": ("site", SiteOut | None),
    "institution": ("institution", CodeOf),
    "linked_to": ("linked_to", list[int]),
}


def _resource_out_fields() -> dict[str, Any]:
    """Every setting of ResourceFields, answered with its plain type; null only where the column is nullable."""
    fields: dict[str, Any] = {"id": (int, ...)}
    for name, info in ResourceFields.model_fields.items():
        if name in _ANSWERED_AS:
            answered_name, annotation = _ANSWERED_AS[name]
            fields[answered_name] = (annotation, ...)
            continue
        annotation = _answered(info.annotation)
        column = Resource.__table__.c.get(name)
        if column is not None and column.nullable:
            annotation = annotation | None
        fields[name] = (annotation, Field(description=info.description))
    fields["updated_at"] = (Instant, ...)
    return fields


class ResourceOutBase(Out):
    @classmethod
    def of(cls, resource: Resource) -> ResourceOutBase:
        values = {name: getattr(resource, name) for name in cls.model_fields if name != "linked_to"}
        return cls.model_validate(values | {"linked_to": [linked.id for linked in resource.linked]})


# Declared once: a new setting in ResourceFields is taken, answered and documented.
ResourceOut = create_model("ResourceOut", __base__=ResourceOutBase, __module__=__name__, **_resource_out_fields())


class ResourcePage(Page[ResourceOut]):  # type: ignore[valid-type]
    pass


class BlockOut(Out):
    id: int
    resource_id: int
    start: LocalDateTime
    end: LocalDateTime
    reason: str
    source: str

    @classmethod
    def fields_of(cls, block: Block) -> dict[str, Any]:
        tz = block.resource.timezone
        return {
            "id": block.id,
            "resource_id": block.resource_id,
            "start": isoformat_local(block.start_at, tz),
            "end": isoformat_local(block.end_at, tz),
            "reason": block.reason,
            "source": block.source,
        }

    @classmethod
    def of(cls, block: Block) -> BlockOut:
        return cls.model_validate(cls.fields_of(block))


class BlockList(Items[BlockOut]):
    pass


class OverlappingBooking(Out):
    """An active booking inside a new block; it is not cancelled."""

    booking_id: int
    occurrence_id: int
    title: str
    status: str
    requester: str
    start: LocalDateTime
    end: LocalDateTime

    @classmethod
    def of(cls, occurrence: Any, tz: str) -> OverlappingBooking:
        return cls(
            booking_id=occurrence.booking_id,
            occurrence_id=occurrence.id,
            title=occurrence.booking.title,
            status=occurrence.booking.status,
            requester=occurrence.booking.requester.email,
            start=isoformat_local(occurrence.start_at, tz),
            end=isoformat_local(occurrence.end_at, tz),
        )


class BlockCreated(BlockOut):
    overlapping_bookings: list[OverlappingBooking]

    @classmethod
    def of_new(cls, block: Block, overlapping: list[Any]) -> BlockCreated:
        tz = block.resource.timezone
        return cls.model_validate(
            cls.fields_of(block) | {"overlapping_bookings": [OverlappingBooking.of(o, tz) for o in overlapping]}
        )


class FeatureOut(Out):
    code: str
    name_ro: str
    name_en: str


class FeatureList(Items[FeatureOut]):
    pass


# --- search, week calendar and day timeline ------------------------------------------------------


class BookableSpan(Out):
    start: LocalDateTime
    end: LocalDateTime
    book_url: str = Field(description="the resource page with the booking form prefilled")


class FreeResource(Out):
    """A resource free for the span asked; the span and its booking link when a time was asked."""

    resource: ResourceOut  # type: ignore[valid-type]
    start: LocalDateTime | None = None
    end: LocalDateTime | None = None
    book_url: str | None = None


class TakenResource(Out):
    resource: ResourceOut  # type: ignore[valid-type]
    next_free: list[BookableSpan]


class SearchAnswer(Out):
    free: list[FreeResource]
    free_total: int
    busy: list[TakenResource]
    busy_total: int


class SlotOut(Out):
    start: LocalDateTime
    end: LocalDateTime
    kind: str = Field(description="own, booking, linked, block, imported, closed or free")
    title: str | None = Field(None, description="your own booking's title (managers: anyone's); a block's reason")
    booking_id: int | None = None

    @classmethod
    def fields_of(cls, resource: Resource, slot: Any) -> dict[str, Any]:
        values = {
            "start": isoformat_local(slot.start, resource.timezone),
            "end": isoformat_local(slot.end, resource.timezone),
            "kind": slot.kind,
        }
        if slot.piece.title:
            values["title"] = slot.piece.title
        if slot.piece.booking_id is not None:
            values["booking_id"] = slot.piece.booking_id
        return values

    @classmethod
    def of(cls, resource: Resource, slot: Any) -> SlotOut:
        return cls.model_validate(cls.fields_of(resource, slot))


class FreeSlotOut(SlotOut):
    book_url: str


class ResourceBrief(Out):
    id: int
    name: str
    name_en: str | None
    kind: KindName
    institution: CodeOf
    timezone: str


class TimelineHours(Out):
    from_: str = Field(alias="from")
    to: str


class TimelineRow(Out):
    resource: ResourceBrief
    busy: list[SlotOut]
    closed: list[SlotOut]
    free: list[FreeSlotOut]


class Timeline(Out):
    date: IsoDate
    hours: TimelineHours
    total: int
    items: list[TimelineRow]


class WeekDay(Out):
    date: IsoDate
    slots: list[SlotOut]


class Week(Out):
    resource_id: int
    timezone: str
    week: IsoDate
    previous: IsoDate
    next: IsoDate
    days: list[WeekDay]


# --- authorisations (training) ----------------------------------------------------------------


class AuthorizationCreate(StrictInput):
    email: text(254, 3)  # type: ignore[valid-type]
    expires: When | None = None


class AuthorizationOut(Out):
    id: int
    resource_id: int
    email: str
    expires: Instant | None

    @classmethod
    def of(cls, grant: Any) -> AuthorizationOut:
        return cls(id=grant.id, resource_id=grant.resource_id, email=grant.user.email, expires=grant.expires_at)


class AuthorizationList(Items[AuthorizationOut]):
    pass
