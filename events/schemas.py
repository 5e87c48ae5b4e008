"""JSON in and out for joint events."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from app.apidoc import CodeOf, IsoDate, Items, LocalDateTime, Out, Problem
from app.validation import Id, StrictInput, When, paragraphs, text
from app.zones import isoformat_local
from bookings.models import Booking
from bookings.schemas import BookingOut, ClashOut, OccurrenceOut, StatusName, Suggestions
from events.services import event_dates, invitations, is_organiser, visible_items


class EventItemConflict(BaseModel):
    """One event item that cannot be booked: the problem's other members as a booking's 409 has them."""

    model_config = ConfigDict(extra="allow")

    index: int | None = Field(None, description="the item's place in the request (new items)")
    booking_id: int | None = Field(None, description="the item's booking (existing items)")
    resource_id: int
    conflicts: list[ClashOut] | None = None
    suggestions: Suggestions | None = None


class EventConflictProblem(Problem):
    """A 409 of an event: each item that cannot be booked with its clashes; nothing was booked or changed."""

    items: list[EventItemConflict] | None = None


class EventItemIn(StrictInput):
    resource_id: Id
    start: When
    end: When
    units: Annotated[int, Field(ge=1, le=10_000)] = 1
    recurrence: text(500) | None = None  # type: ignore[valid-type]
    title: text(200) | None = None  # type: ignore[valid-type]


Email = Annotated[text(254, 3), Field(pattern=r"^[^@\s]+@[^@\s]+$")]  # type: ignore[valid-type]


class EventCreate(StrictInput):
    title: text(200, 1)  # type: ignore[valid-type]
    description: paragraphs(5000) = ""  # type: ignore[valid-type]
    visibility: Literal["public", "alliance"] = "alliance"
    organisers: Annotated[list[Email], Field(max_length=20)] = []
    dry_run: bool = False
    items: Annotated[list[EventItemIn], Field(min_length=1, max_length=100)]


class EventPatch(StrictInput):
    title: text(200, 1) | None = None  # type: ignore[valid-type]
    description: paragraphs(5000) | None = None  # type: ignore[valid-type]
    visibility: Literal["public", "alliance"] | None = None
    organisers: Annotated[list[Email], Field(max_length=20)] | None = None
    add: Annotated[list[EventItemIn], Field(max_length=100)] = []
    remove: Annotated[list[Id], Field(max_length=100)] = []
    shift_days: Annotated[int, Field(ge=-366, le=366)] = 0
    dry_run: bool = False


class EventItemPublic(Out):
    """What anyone who may see the event sees of an item: where and when, not who pays."""

    id: int
    resource_id: int
    resource_name: str
    kind: str
    institution: CodeOf
    location: str | None
    title: str
    status: StatusName
    start: LocalDateTime
    end: LocalDateTime
    occurrences: list[OccurrenceOut]

    @classmethod
    def of(cls, booking: Booking) -> EventItemPublic:
        resource = booking.resource
        tz = resource.timezone
        active = [o for o in booking.occurrences if o.active] or booking.occurrences
        site = resource.site
        return cls(
            id=booking.id,
            resource_id=resource.id,
            resource_name=resource.name,
            kind=resource.kind,
            institution=resource.institution,
            location=", ".join(p for p in (site.name if site else "", site.address if site else "") if p) or None,
            title=booking.title,
            status=booking.status,
            start=isoformat_local(active[0].start_at, tz),
            end=isoformat_local(active[-1].end_at, tz),
            occurrences=[OccurrenceOut.of(o, tz) for o in booking.occurrences],
        )


class InvitationOut(Out):
    """An invitation to co-organise: the address named, and whether it was accepted (organisers see these)."""

    email: str
    status: Literal["pending", "accepted", "declined"]


class MyInvitationOut(Out):
    """A pending invitation to co-organise an event, for the person invited."""

    event_id: int
    title: str
    invited_by: str
    accept: str = Field(description="POST here to accept")
    decline: str = Field(description="POST here to decline")

    @classmethod
    def of(cls, invitation: Any) -> MyInvitationOut:
        event = invitation.event
        return cls(
            event_id=event.id,
            title=event.title,
            invited_by=invitation.invited_by.email,
            accept=f"/api/v1/events/{event.id}/accept",
            decline=f"/api/v1/events/{event.id}/decline",
        )


class MyInvitations(Items[MyInvitationOut]):
    pass


class EventOut(Out):
    """Organisers (and admins) see each item as a booking; everyone else sees the programme, holding only
    the items whose resource they may see (`hidden_items` counts the others, without naming them)."""

    id: int
    title: str
    description: str
    visibility: Literal["public", "alliance"]
    status: str
    organisers: list[str]
    first_day: IsoDate | None
    last_day: IsoDate | None
    items: list[BookingOut | EventItemPublic]
    hidden_items: int = Field(0, description="active items left out: their resource is not open to the viewer")
    invitations: list[InvitationOut] | None = Field(None, description="co-organisers invited (organisers only)")
    public_feed: str | None = None

    @classmethod
    def of(cls, event: Any, viewer: Any = None, seen: set[int] | None = None) -> EventOut:
        organiser = is_organiser(viewer, event)
        shown, hidden = visible_items(viewer, event, seen)
        dates = event_dates(event, shown)
        values: dict[str, Any] = {
            "id": event.id,
            "title": event.title,
            "description": event.description,
            "visibility": event.visibility,
            "status": event.status,
            "organisers": [u.email for u in event.organisers()] if viewer is not None else [],
            "first_day": dates[0].isoformat() if dates else None,
            "last_day": dates[1].isoformat() if dates else None,
            "items": [BookingOut.of(b) if organiser else EventItemPublic.of(b) for b in shown],
            "hidden_items": len(hidden),
        }
        if organiser:
            values["invitations"] = [{"email": i.email, "status": i.status} for i in invitations(event)]
        if event.visibility == "public":
            values["public_feed"] = f"/calendars/events/{event.id}.ics"
        return cls.model_validate(values)


class EventList(Items[EventOut]):
    pass


class PreviewItem(Out):
    index: int | None = Field(None, description="the item's place in the request (new items)")
    booking_id: int | None = Field(None, description="the item's booking (existing items)")
    resource_id: int
    title: str
    status: str
    price: float
    currency: str
    start: LocalDateTime | None
    end: LocalDateTime | None
    occurrences: int


class EventPreview(Out):
    """What a dry run would book or change; nothing is stored."""

    dry_run: Literal[True]
    items: list[PreviewItem]


class EventChange(RootModel[EventOut | EventPreview]):
    pass


class EventsQuery(BaseModel):
    """Parsed by app.validation.parse_query: unknown parameters are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    mine: bool = Field(False, description="1, true or yes: only the events I organise, past ones included")
