"""Reports as files: CSV (cells that never run as formulas) and XLSX (numbers as numbers, dates as dates),
with column headers in the caller's language. The rows are the API's, so the three agree."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook

from bookings.statements import csv_cell

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UTILISATION_COLUMNS = (
    "key",
    "label",
    "institution",
    "open_hours",
    "booked_hours",
    "occupancy",
    "prime_open_hours",
    "prime_booked_hours",
    "prime_occupancy",
    "bookings",
    "checked_in",
    "cancelled",
    "cancel_lead_hours",
    "no_shows",
    "no_show_rate",
    "refused",
    "open_nights",
    "booked_nights",
)
EXCHANGE_COLUMNS = ("owner", "requester_institution", "bookings", "hours", "nights", "amount", "currency")
HEATMAP_COLUMNS = ("weekday", "hour", "open_hours", "booked_hours", "occupancy")
TREND_COLUMNS = ("week", "owner", "requester_institution", "bookings", "hours")


def headers(columns: Sequence[str]) -> list[str]:
    names = {
        "from": _("From"),
        "to": _("To"),
        "key": _("Key"),
        "label": _("Name"),
        "institution": _("University"),
        "open_hours": _("Open hours"),
        "booked_hours": _("Booked hours"),
        "occupancy": _("Occupancy"),
        "prime_open_hours": _("Prime-time open hours"),
        "prime_booked_hours": _("Prime-time booked hours"),
        "prime_occupancy": _("Prime-time occupancy"),
        "no_show_rate": _("No-show rate"),
        "bookings": _("Bookings"),
        "checked_in": _("Check-ins"),
        "cancelled": _("Cancelled"),
        "cancel_lead_hours": _("Cancelled, mean hours ahead"),
        "refused": _("Refused requests"),
        "weekday": _("Weekday"),
        "hour": _("Hour"),
        "week": _("Week"),
        "no_shows": _("No-shows"),
        "open_nights": _("Bed-nights open"),
        "booked_nights": _("Bed-nights booked"),
        "owner": _("Facilities of"),
        "requester_institution": _("Used by"),
        "hours": _("Hours"),
        "nights": _("Nights"),
        "amount": _("Amount"),
        "currency": _("Currency"),
    }
    return [names[column] for column in columns]


def table(first: date, last: date, items: Sequence[dict[str, Any]], columns: Sequence[str]) -> list[list[Any]]:
    """The header row, then one row per item: the period's days first, then the item's values."""
    rows: list[list[Any]] = [headers(("from", "to", *columns))]
    rows += [[first, last, *(_value(column, item.get(column)) for column in columns)] for item in items]
    return rows


def _value(column: str, value: Any) -> Any:
    return date.fromisoformat(value) if column == "week" and value else value


def as_csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([cell.isoformat() if isinstance(cell, date) else csv_cell(cell) for cell in row])
    return out.getvalue().encode("utf-8")


def as_xlsx(rows: list[list[Any]], sheet: str) -> bytes:
    book = Workbook()
    worksheet = book.active
    worksheet.title = sheet[:31]
    for row in rows:
        worksheet.append([csv_cell(cell) if isinstance(cell, str) else cell for cell in row])
    for cells in worksheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
