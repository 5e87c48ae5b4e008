"""Pure interval logic: half-open ranges, buffers and units. No database, no app."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, order=True)
class Span:
    start: datetime
    end: datetime
    units: int = 1

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("a span must end after it starts")


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open [start, end): back-to-back ranges do not overlap."""
    return a_start < b_end and b_start < a_end


def widen(start: datetime, end: datetime, minutes: int) -> tuple[datetime, datetime]:
    pad = timedelta(minutes=minutes)
    return start - pad, end + pad


def clashes_with_buffer(a: Span, b: Span, buffer_minutes: int) -> bool:
    """Two reservations clash when they overlap once either is widened by the buffer on both sides."""
    start, end = widen(a.start, a.end, buffer_minutes)
    return overlaps(start, end, b.start, b.end)


def _changes(spans: Iterable[Span], window_start: datetime, window_end: datetime) -> list[tuple[datetime, int]]:
    """Units taken (+) and released (−) at each instant inside the window, in time order.

    At equal instants releases sort first (negative deltas), so touching spans never add up.
    """
    events: list[tuple[datetime, int]] = []
    for span in spans:
        start, end = max(span.start, window_start), min(span.end, window_end)
        if start < end:
            events.append((start, span.units))
            events.append((end, -span.units))
    return sorted(events)


def peak_units(spans: Iterable[Span], window_start: datetime, window_end: datetime) -> int:
    """The most units in use at any instant of [window_start, window_end)."""
    peak = running = 0
    for _, delta in _changes(spans, window_start, window_end):
        running += delta
        peak = max(peak, running)
    return peak


def units_free(capacity: int, existing: Iterable[Span], wanted: Span, buffer_minutes: int = 0) -> int:
    """How many units stay free for all of `wanted`, with each existing span widened by the buffer."""
    widened = [Span(*widen(s.start, s.end, buffer_minutes), s.units) for s in existing]
    return capacity - peak_units(widened, wanted.start, wanted.end)


def saturated(
    spans: Iterable[Span], capacity: int, window_start: datetime, window_end: datetime
) -> list[tuple[datetime, datetime]]:
    """The parts of [window_start, window_end) where the spans use at least `capacity` units."""
    events = _changes(spans, window_start, window_end)
    result: list[tuple[datetime, datetime]] = []
    running, opened = 0, None
    for moment, delta in events:
        running += delta
        if running >= capacity and opened is None:
            opened = moment
        elif running < capacity and opened is not None:
            if opened < moment:
                result.append((opened, moment))
            opened = None
    return result


def merge(spans: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Sorted, with overlapping or touching ranges joined."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
