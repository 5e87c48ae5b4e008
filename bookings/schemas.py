"""JSON in and out for bookings."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.apidoc import CodeOf, Instant, IsoDate, Items, LocalDateTime, Out, Problem
from app.validation import Id, StrictInput, When, text
from app.zones import isoformat_local, to_local
from availability.rules import Clash
from bookings.models import Booking, Occurrence
from config import DEFAULT_TIMEZONE


class BookingCreate(StrictInput):
    resource_id: Id
    start: When
    end: When
    title: text(200, 1)  # type: ignore[valid-type]
    units: Annotated[int, Field(ge=1, le=10_000)] = 1
    recurrence: text(500) | None = None  # type: ignore[valid-type]
    skip_conflicts: bool = False
    project_code: text(100) = ""  # type: ignore[valid-type]


class BookingUpdate(StrictInput):
    start: When | None = None
    end: When | None = None
    occurrence_id: Id | None = None
    title: text(200, 1) | None = None  # type: ignore[valid-type]
    project_code: text(100) | None = None  # type: ignore[valid-type]


class Decision(StrictInput):
    reason: text(1000) = ""  # type: ignore[valid-type]


# --- answers ----------------------------------------------------------------------------------

StatusName = Literal["pending", "confirmed", "rejected", "cancelled"]


class OccurrenceOut(Out):
    id: int
    start: LocalDateTime
    end: LocalDateTime
    status: Literal["active", "cancelled"]

    @classmethod
    def of(cls, occurrence: Occurrence, tz: str) -> OccurrenceOut:
        return cls(
            id=occurrence.id,
            start=isoformat_local(occurrence.start_at, tz),
            end=isoformat_local(occurrence.end_at, tz),
            status="active" if occurrence.active else "cancelled",
        )


class Price(Out):
    amount: float
    currency: str


class Requester(Out):
    id: int
    email: str
    institution: CodeOf


class BookingOut(Out):
    """A booking; `check_in`/`check_out` for dorm stays, `occurrences` when recurring, else `occurrence_id`."""

    id: int
    resource_id: int
    resource_name: str
    institution: CodeOf
    title: str
    status: StatusName
    start: LocalDateTime
    end: LocalDateTime
    units: int
    recurrence: str | None
    price: Price
    requester_class: str
    project_code: str
    requester: Requester
    decision_reason: str | None
    hold_until: Instant | None
    created_at: Instant
    updated_at: Instant
    check_in: IsoDate | None = None
    check_out: IsoDate | None = None
    occurrences: list[OccurrenceOut] | None = None
    occurrence_id: int | None = None

    @classmethod
    def fields_of(cls, booking: Booking) -> dict[str, Any]:
        resource = booking.resource
        tz = resource.timezone
        active = [o for o in booking.occurrences if o.active] or booking.occurrences
        first, last = active[0], active[-1]
        values: dict[str, Any] = {
            "id": booking.id,
            "resource_id": resource.id,
            "resource_name": resource.name,
            "institution": resource.institution,
            "title": booking.title,
            "status": booking.status,
            "start": isoformat_local(first.start_at, tz),
            "end": isoformat_local(last.end_at if not booking.recurrence else first.end_at, tz),
            "units": booking.units,
            "recurrence": booking.recurrence,
            "price": Price(amount=float(booking.price_amount), currency=booking.currency),
            "requester_class": booking.requester_class,
            "project_code": booking.project_code,
            "requester": Requester.model_validate(booking.requester),
            "decision_reason": booking.decision_reason or None,
            "hold_until": booking.hold_until,
            "created_at": booking.created_at,
            "updated_at": booking.updated_at,
        }
        if booking.all_day:
            values["check_in"] = to_local(first.start_at, tz).date().isoformat()
            values["check_out"] = to_local(last.end_at, tz).date().isoformat()
        if booking.recurrence or len(booking.occurrences) > 1:
            values["occurrences"] = [OccurrenceOut.of(o, tz) for o in booking.occurrences]
        else:
            values["occurrence_id"] = first.id
        return values

    @classmethod
    def of(cls, booking: Booking) -> BookingOut:
        return cls.model_validate(cls.fields_of(booking))


class BookingList(Items[BookingOut]):
    pass


class ClashOut(Out):
    """A requested occurrence that cannot be booked, and why (with what it clashes, where the caller may see it)."""

    start: LocalDateTime
    end: LocalDateTime
    reason: str
    detail: str
    with_: list[dict[str, Any]] | None = Field(None, alias="with")

    @classmethod
    def of(cls, clash: Clash, tz: str) -> ClashOut:
        values: dict[str, Any] = {
            "start": isoformat_local(clash.start, tz),
            "end": isoformat_local(clash.end, tz),
            "reason": clash.reason,
            "detail": str(clash.detail),  # translated now, in the request's language
        }
        if clash.clashes_with:
            values["with"] = clash.clashes_with
        return cls.model_validate(values)


class BookingCreated(BookingOut):
    skipped: list[ClashOut] | None = Field(None, description="occurrences left out with skip_conflicts")


def clash_json(clash: Clash, tz: str) -> dict[str, Any]:
    return ClashOut.of(clash, tz).dump()


class SpanOut(Out):
    start: LocalDateTime
    end: LocalDateTime


class ResourceSuggestion(Out):
    id: int
    name: str
    name_en: str | None
    kind: str
    institution: CodeOf
    capacity: int | None
    units: int


class Suggestions(Out):
    slots: list[SpanOut]
    resources: list[ResourceSuggestion]


def suggestions_json(suggestions: dict[str, Any], tz: str) -> dict[str, Any]:
    slots = [SpanOut(start=isoformat_local(s, tz), end=isoformat_local(e, tz)) for s, e in suggestions.get("slots", [])]
    resources = [ResourceSuggestion.model_validate(r) for r in suggestions.get("resources", [])]
    return Suggestions(slots=slots, resources=resources).dump()


class BookingConflictProblem(Problem):
    """A 409 of the booking rules: each requested occurrence that cannot be booked, and other free times."""

    conflicts: list[ClashOut] | None = None  # type: ignore[assignment]
    suggestions: Suggestions | None = None


# The time rules' reasons (duration rules belong to a booking, not to time).
BusyReason = Literal["past", "notice", "too_far", "closed", "blocked", "imported", "linked", "overlap"]


class BusySpan(Out):
    start: LocalDateTime
    end: LocalDateTime
    reason: BusyReason = Field(description="why it cannot be booked: the same words as a 409's `reason`")


class Availability(Out):
    busy: list[BusySpan]
    free: list[SpanOut]


# --- query and header parameters: parsed by app.validation.parse_query / parse_headers -------------
# Unknown parameters are ignored, like the other API queries; an empty value counts as absent.

_QUERY = ConfigDict(extra="ignore", str_strip_whitespace=True)


class AvailabilityQuery(BaseModel):
    model_config = _QUERY

    from_: When = Field(alias="from", description="ISO 8601; without offset the resource's local time")
    to: When = Field(description="ISO 8601, at most 62 days after from; without offset the resource's local time")


Flag = Annotated[bool, Field(description="1, true or yes turns it on (0, false or no: off)")]


class BookingQuery(BaseModel):
    model_config = _QUERY

    mine: Flag = False
    resource_id: Id | None = None
    from_: When | None = Field(None, alias="from", description=f"ISO 8601; without offset {DEFAULT_TIMEZONE} time")
    to: When | None = Field(None, description=f"ISO 8601; without offset {DEFAULT_TIMEZONE} time")
    status: StatusName | None = Field(None, description="only bookings with this status (absent: every status)")


class CancelQuery(BaseModel):
    model_config = _QUERY

    occurrence_id: Id | None = Field(None, description="cancel only this occurrence")
    following: Flag = Field(False, description="with occurrence_id: it and the following ones")


class OccurrenceQuery(BaseModel):
    model_config = _QUERY

    occurrence_id: Id | None = None


class IdempotencyHeader(BaseModel):
    model_config = ConfigDict(extra="ignore")

    idempotency_key: text(200, 1) | None = Field(None, alias="Idempotency-Key")


class StatementRow(Out):
    user_institution: str
    owner_institution: str
    bookings: int
    hours: float
    nights: int
    amount: float
    currency: str


class Statement(Out):
    month: str
    items: list[StatementRow]


class StatementQuery(BaseModel):
    model_config = _QUERY

    month: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


class CheckIn(Out):
    booking_id: int
    occurrence_id: int
    checked_in_at: Instant | None


class WaitlistJoin(StrictInput):
    resource_id: Id
    start: When
    end: When
    title: text(200, 1)  # type: ignore[valid-type]
    units: Annotated[int, Field(ge=1, le=10_000)] = 1


class WaitlistEntry(Out):
    id: int
    resource_id: int
    start: LocalDateTime
    end: LocalDateTime
    title: str
    units: int
    status: str
    hold_booking_id: int | None

    @classmethod
    def of(cls, entry: Any) -> WaitlistEntry:
        tz = entry.resource.timezone
        return cls(
            id=entry.id,
            resource_id=entry.resource_id,
            start=isoformat_local(entry.start_at, tz),
            end=isoformat_local(entry.end_at, tz),
            title=entry.title,
            units=entry.units,
            status=entry.status,
            hold_booking_id=entry.hold_booking_id,
        )


class WaitlistList(Items[WaitlistEntry]):
    pass
