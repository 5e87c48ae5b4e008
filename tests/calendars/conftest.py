"""Feed-reading helpers shared by the calendar tests."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from ical.calendar_stream import IcsCalendarStream

JS = Path(__file__).resolve().parents[1] / "js"


@pytest.fixture
def icaljs(tmp_path):
    if shutil.which("node") is None or not (JS / "node_modules" / "ical.js").exists():
        pytest.skip("ical.js checks need node and `npm ci` in tests/js (make test does it)")

    def parse(data: bytes) -> list[dict]:
        path = tmp_path / "feed.ics"
        path.write_bytes(data)
        result = subprocess.run(
            ["node", str(JS / "parse_feed.mjs"), str(path)], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    return parse


def strict_parse(data: bytes):
    """The `ical` package (PyPI; Home Assistant's parser): a second parser beside icalendar and
    ical.js, strict about the grammar (a broken line or a bad value is an error, not a guess)."""
    return IcsCalendarStream.calendar_from_ics(data.decode())


def assert_itip(data: bytes):
    """The iTIP rules (RFC 5546, section 3.2) a booking's file must keep, on the strict parser's
    reading: a REQUEST holds only live events, a CANCEL only cancelled ones; each has the organiser,
    an attendee, UID, DTSTAMP and SEQUENCE. Returns the parsed calendar."""
    calendar = strict_parse(data)
    assert calendar.method in ("REQUEST", "CANCEL"), calendar.method
    assert calendar.events, "an iTIP message with no component"
    for event in calendar.events:
        assert event.organizer and event.attendees and event.uid and event.dtstamp and event.sequence is not None
        if calendar.method == "REQUEST":
            assert event.status is None or event.status.value != "CANCELLED", (event.uid, event.status)
        else:
            assert event.status is not None and event.status.value == "CANCELLED", (event.uid, event.status)
    return calendar
