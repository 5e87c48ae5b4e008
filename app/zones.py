"""Time-zone edges: parse input in the resource's zone, store UTC, render with offsets."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import lazy_gettext as _l

# Instants outside this range are refused: they are never meant, and far-off
# values overflow datetime arithmetic once zones and buffers are applied.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
# Input outside 1900-2200 is refused earlier, as it is parsed (app.validation.within_years).
BOOKABLE_YEARS = _l("must be between 2000 and 2099")


class NonexistentLocalTime(ValueError):
    """A wall-clock time skipped by a daylight-saving change (e.g. 03:30 on the last Sunday of March)."""


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_valid_timezone(name: str) -> bool:
    return name in _known_zones()


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def to_utc(value: datetime, tz_name: str) -> datetime:
    """An aware value keeps its instant; a naive one is wall-clock time in `tz_name`.

    Ambiguous wall-clock times (the repeated hour in October) take the first
    occurrence; times that do not exist in that zone are refused.
    """
    try:
        if value.tzinfo is not None:
            result = value.astimezone(UTC)
        else:
            tz = zone(tz_name)
            local = value.replace(tzinfo=tz, fold=0)
            result = local.astimezone(UTC)
            if result.astimezone(tz).replace(tzinfo=None) != value:
                raise NonexistentLocalTime(f"{value.isoformat()} does not exist in {tz_name}")
    except OverflowError as exc:  # year 1 or 9999 shifted by a zone's offset
        raise ValueError(BOOKABLE_YEARS) from exc
    if not EARLIEST <= result < LATEST:
        raise ValueError(BOOKABLE_YEARS)
    return result


def to_local(value: datetime, tz_name: str) -> datetime:
    return value.astimezone(zone(tz_name))


def isoformat_local(value: datetime, tz_name: str) -> str:
    return to_local(value, tz_name).isoformat()
