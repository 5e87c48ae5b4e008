"""A real SMTP server on loopback (aiosmtpd) that the app sends to, and a recorder of the booking signals."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email import policy
from typing import Any

import icalendar
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from blinker import NamedSignal

from app.extensions import db
from bookings import signals
from events import signals as event_signals


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__(email.message.EmailMessage)
        self.messages: list[email.message.EmailMessage] = []

    def handle_message(self, message) -> None:
        self.messages.append(email.message_from_bytes(message.as_bytes(), policy=policy.default))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def app_config(smtp_port):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port, "MAIL_TIMEOUT": 2}


@pytest.fixture
def inbox(smtp_port):
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield handler
    controller.stop()


def by_recipient(messages) -> dict[str, email.message.EmailMessage]:
    return {m["To"]: m for m in messages}


def calendar_of(message) -> icalendar.Calendar:
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") in ("REQUEST", "CANCEL")
    return icalendar.Calendar.from_ical(
        part.get_content() if isinstance(part.get_content(), bytes) else part.get_content().encode()
    )


SIGNALS = [
    value for module in (signals, event_signals) for value in vars(module).values() if isinstance(value, NamedSignal)
]


@pytest.fixture
def announced(app) -> Iterator[list[tuple[str, int, dict[str, Any]]]]:
    """Every signal sent during the test, in order, as (name, sender id, kwargs with rows as their ids):
    the rows belong to the request's session, gone when the test looks."""
    calls: list[tuple[str, int, dict[str, Any]]] = []
    recorders = {signal.name: _recorder(signal.name, calls) for signal in SIGNALS}  # kept alive: weak refs
    for signal in SIGNALS:
        signal.connect(recorders[signal.name])
    yield calls
    for signal in SIGNALS:
        signal.disconnect(recorders[signal.name])


def _plain(value: Any) -> Any:
    if isinstance(value, db.Model):
        return value.id
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _recorder(name: str, calls: list):
    def record(sender, **kwargs) -> None:
        calls.append((name, sender.id, {key: _plain(value) for key, value in kwargs.items()}))

    return record
