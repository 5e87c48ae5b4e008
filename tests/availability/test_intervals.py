"""Pure interval rules: half-open overlap, buffers, units."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from availability.intervals import Span, clashes_with_buffer, overlaps, peak_units, saturated, units_free

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((0, 60), (60, 120), False),  # touching: back to back is fine
        ((60, 120), (0, 60), False),
        ((0, 60), (59, 120), True),  # one minute of overlap
        ((0, 120), (30, 60), True),  # nested
        ((30, 60), (0, 120), True),
        ((0, 60), (0, 60), True),  # equal
        ((0, 60), (61, 120), False),  # a gap
    ],
)
def test_half_open_overlap(a, b, expected):
    assert overlaps(at(a[0]), at(a[1]), at(b[0]), at(b[1])) is expected
    assert overlaps(at(b[0]), at(b[1]), at(a[0]), at(a[1])) is expected


@pytest.mark.parametrize(
    ("gap", "buffer", "expected"),
    [(0, 0, False), (0, 15, True), (14, 15, True), (15, 15, False), (30, 15, False)],
)
def test_buffer_needs_that_many_free_minutes_between(gap, buffer, expected):
    first = Span(at(0), at(60))
    second = Span(at(60 + gap), at(120 + gap))
    assert clashes_with_buffer(first, second, buffer) is expected
    assert clashes_with_buffer(second, first, buffer) is expected


def test_peak_units_counts_only_simultaneous_use():
    spans = [Span(at(0), at(60), 1), Span(at(30), at(90), 2), Span(at(60), at(120), 1)]
    assert peak_units(spans, at(0), at(120)) == 3  # 30..60: 1 + 2
    assert peak_units(spans, at(60), at(120)) == 3  # 60..90: 2 + 1 (the first ended at 60)
    assert peak_units(spans, at(90), at(120)) == 1
    assert peak_units([], at(0), at(10)) == 0


def test_the_last_unit():
    existing = [Span(at(0), at(60), 2)]
    assert units_free(3, existing, Span(at(0), at(60))) == 1
    assert units_free(2, existing, Span(at(0), at(60))) == 0
    assert units_free(2, existing, Span(at(60), at(90))) == 2  # touching frees everything


def test_saturated_parts():
    spans = [Span(at(0), at(60), 1), Span(at(30), at(90), 1)]
    assert saturated(spans, 2, at(0), at(120)) == [(at(30), at(60))]
    assert saturated(spans, 1, at(0), at(120)) == [(at(0), at(90))]


def test_a_span_must_be_positive():
    with pytest.raises(ValueError):
        Span(at(10), at(10))


starts = st.integers(0, 600)
lengths = st.integers(1, 240)
spans_strategy = st.lists(st.tuples(starts, lengths, st.integers(1, 3)), max_size=8)


@given(spans=spans_strategy, window_start=starts, window_length=lengths)
def test_peak_matches_a_minute_by_minute_count(spans, window_start, window_length):
    """Property: the sweep gives the same peak as counting every minute."""
    objects = [Span(at(s), at(s + n), u) for s, n, u in spans]
    expected = max(
        (sum(u for s, n, u in spans if s <= m < s + n) for m in range(window_start, window_start + window_length)),
        default=0,
    )
    assert peak_units(objects, at(window_start), at(window_start + window_length)) == expected


@given(a=st.tuples(starts, lengths), b=st.tuples(starts, lengths))
def test_overlap_is_symmetric_and_matches_shared_minutes(a, b):
    shared = set(range(a[0], a[0] + a[1])) & set(range(b[0], b[0] + b[1]))
    assert overlaps(at(a[0]), at(a[0] + a[1]), at(b[0]), at(b[0] + b[1])) is bool(shared)
