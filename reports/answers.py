"""The reports' answers, one builder for the API and the page: the JSON models, and the same rows as files."""

from __future__ import annotations

from typing import Any

from flask import Response

from accounts.models import User
from app.filenames import content_disposition
from reports import downloads, services
from reports.schemas import (
    Exchange,
    ExchangeRow,
    Findings,
    HeatCell,
    Heatmap,
    TrendRow,
    Trends,
    Utilisation,
    UtilisationRow,
)


def _row(usage: services.Usage) -> UtilisationRow:
    values: dict[str, Any] = {
        "key": usage.key,
        "label": usage.label,
        "institution": usage.institution,
        "open_hours": float(usage.open_hours),
        "booked_hours": float(usage.booked_hours),
        "occupancy": None if usage.occupancy is None else float(usage.occupancy),
        "prime_open_hours": float(usage.prime_open_hours),
        "prime_booked_hours": float(usage.prime_booked_hours),
        "prime_occupancy": None if usage.prime_occupancy is None else float(usage.prime_occupancy),
        "bookings": usage.bookings,
        "checked_in": usage.checked_in,
        "cancelled": usage.cancelled,
        "cancel_lead_hours": None if usage.cancel_lead_hours is None else float(usage.cancel_lead_hours),
        "no_shows": usage.no_shows,
        "no_show_rate": None if usage.no_show_rate is None else float(usage.no_show_rate),
        "refused": usage.refused_total,
        "refused_by_reason": dict(sorted(usage.refused.items())),
    }
    if usage.open_nights is not None:
        values |= {"open_nights": usage.open_nights, "booked_nights": usage.booked_nights}
    return UtilisationRow.model_validate(values)


def utilisation(actor: User, when: services.Period, *, group_by: str = "resource", **filters: Any) -> Utilisation:
    rows = services.utilisation(actor, when, group_by=group_by, **filters)
    return Utilisation.model_validate(
        {
            "from": when.first.isoformat(),
            "to": when.last.isoformat(),
            "group_by": group_by,
            "items": [_row(r) for r in rows],
        }
    )


def findings(actor: User, when: services.Period, *, limit: int = 5, **filters: Any) -> Findings:
    found = services.findings(services.utilisation(actor, when, **filters), limit=limit)
    return Findings.model_validate(
        {
            "from": when.first.isoformat(),
            "to": when.last.isoformat(),
            **{name: [_row(r) for r in getattr(found, name)] for name in FINDINGS},
        }
    )


FINDINGS = ("bottlenecks", "least_used", "unused", "no_shows", "most_refused")


def heatmap(actor: User, when: services.Period, **filters: Any) -> Heatmap:
    heat = services.heatmap(actor, when, **filters)
    cells = [
        HeatCell(
            weekday=weekday + 1,
            hour=hour,
            open_hours=float(heat.open_hours(weekday, hour)),
            booked_hours=float(heat.booked_hours(weekday, hour)),
            occupancy=None if heat.occupancy(weekday, hour) is None else float(heat.occupancy(weekday, hour)),  # type: ignore[arg-type]
        )
        for weekday in range(services.WEEKDAYS)
        for hour in range(services.HOURS)
    ]
    return Heatmap.model_validate({"from": when.first.isoformat(), "to": when.last.isoformat(), "items": cells})


def trends(actor: User, when: services.Period) -> Trends:
    items = [
        TrendRow(
            week=r.week.isoformat(),
            owner=r.owner_institution,
            requester_institution=r.user_institution,
            bookings=r.bookings,
            hours=float(r.hours),
        )
        for r in services.trends(actor, when)
    ]
    return Trends.model_validate({"from": when.first.isoformat(), "to": when.last.isoformat(), "items": items})


def exchange(actor: User, when: services.Period) -> Exchange:
    items = [
        ExchangeRow(
            owner=r.owner_institution,
            requester_institution=r.user_institution,
            bookings=r.bookings,
            hours=float(r.hours),
            nights=r.nights,
            amount=float(r.amount),
            currency=r.currency,
        )
        for r in services.exchange(actor, when)
    ]
    return Exchange.model_validate({"from": when.first.isoformat(), "to": when.last.isoformat(), "items": items})


def as_file(answer: Utilisation | Exchange | Heatmap | Trends, kind: str, when: services.Period) -> Response:
    """The same rows as a CSV or XLSX file (headers in the caller's language)."""
    columns: tuple[str, ...]
    if isinstance(answer, Utilisation):
        columns, name = downloads.UTILISATION_COLUMNS, f"utilisation-{answer.group_by}"
    elif isinstance(answer, Heatmap):
        columns, name = downloads.HEATMAP_COLUMNS, "heatmap"
    elif isinstance(answer, Trends):
        columns, name = downloads.TREND_COLUMNS, "trends"
    else:
        columns, name = downloads.EXCHANGE_COLUMNS, "exchange"
    items = [item.model_dump(mode="json") for item in answer.items]
    rows = downloads.table(when.first, when.last, items, columns)
    stem = f"atu-{name}-{when.first.isoformat()}-{when.last.isoformat()}"
    if kind == "csv":
        body, media = downloads.as_csv(rows), downloads.CSV
    else:
        body, media = downloads.as_xlsx(rows, name), downloads.XLSX
    headers = {"Content-Disposition": content_disposition("attachment", f"{stem}.{kind}")}
    return Response(body, mimetype=media, headers=headers)
