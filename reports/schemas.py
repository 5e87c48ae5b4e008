"""The reports' API models: queries and answers (the SPEC's section "Reports")."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.apidoc import Out
from app.validation import Day
from resources.schemas import InstitutionCode, KindName

_QUERY = ConfigDict(extra="ignore", str_strip_whitespace=True, populate_by_name=True)


class ReportPeriod(BaseModel):
    model_config = _QUERY

    from_: Day = Field(alias="from", description="first local day, YYYY-MM-DD")
    to: Day = Field(description="last local day, inclusive (at most 400 days after from)")


class ReportQuery(ReportPeriod):
    format: Literal["json", "csv", "xlsx"] = Field(default="json", description="json, or a csv or xlsx file")


class ScopeQuery(ReportQuery):
    institution: InstitutionCode | None = None
    kind: KindName | None = None
    resource: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None


class UtilisationQuery(ScopeQuery):
    group_by: Literal["resource", "kind", "institution"] = "resource"
    unused: bool = Field(False, description="1, true or yes: only the resources open in the period and never booked")


class FindingsQuery(ReportPeriod):
    institution: InstitutionCode | None = None
    kind: KindName | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 5


class UtilisationRow(Out):
    key: str = Field(description="the resource's id, the kind, or the university's code")
    label: str
    institution: str | None
    open_hours: float = Field(description="opening hours less blocked and imported time, times units")
    booked_hours: float = Field(description="confirmed occurrence time inside the open hours, times units booked")
    occupancy: float | None = Field(description="booked ÷ open; null when nothing was open")
    prime_open_hours: float = Field(description="open hours inside prime time (default weekdays 09:00–17:00)")
    prime_booked_hours: float
    prime_occupancy: float | None
    bookings: int
    checked_in: int = Field(description="sessions of those bookings checked in to")
    cancelled: int
    cancel_lead_hours: float | None = Field(
        description="mean hours from a cancellation to the session's start; null without cancellations"
    )
    no_shows: int
    no_show_rate: float | None = Field(description="no-shows ÷ (bookings + no-shows); null without either")
    refused: int = Field(description="requests refused (409) on the period's days")
    refused_by_reason: dict[str, int] = Field(
        description="the refused requests by the reason of their first refused time"
    )
    open_nights: int | None = Field(default=None, description="dorms: bed-nights open")
    booked_nights: int | None = Field(default=None, description="dorms: bed-nights booked")


class Utilisation(Out):
    from_: str = Field(alias="from")
    to: str
    group_by: str
    items: list[UtilisationRow]


class ExchangeRow(Out):
    owner: str = Field(description="the university whose facility was used")
    requester_institution: str
    bookings: int
    hours: float
    nights: int
    amount: float
    currency: str


class Exchange(Out):
    from_: str = Field(alias="from")
    to: str
    items: list[ExchangeRow]


class Findings(Out):
    from_: str = Field(alias="from")
    to: str
    bottlenecks: list[UtilisationRow] = Field(description="occupancy at 80 % or more, the fullest first")
    least_used: list[UtilisationRow] = Field(description="used, but the least (lowest occupancy first)")
    unused: list[UtilisationRow] = Field(description="open in the period and never booked")
    no_shows: list[UtilisationRow] = Field(description="the highest no-show rates first")
    most_refused: list[UtilisationRow] = Field(description="the most refused requests first: unmet demand")


class HeatCell(Out):
    weekday: int = Field(description="1 Monday … 7 Sunday (ISO), in each resource's zone")
    hour: int = Field(description="0 … 23, local")
    open_hours: float
    booked_hours: float
    occupancy: float | None


class Heatmap(Out):
    from_: str = Field(alias="from")
    to: str
    items: list[HeatCell]


class TrendRow(Out):
    week: str = Field(description="the week's first day in the period (a Monday but perhaps the first)")
    owner: str
    requester_institution: str
    bookings: int
    hours: float = Field(description="hours outside dorms, by occurrence start (the exchange's rule)")


class Trends(Out):
    from_: str = Field(alias="from")
    to: str
    items: list[TrendRow]
