"""What happened to joint events, announced like the booking signals (`bookings.signals`, whose rules hold
here too): the sender is the event right after the change, with `now` and `actor`; receivers only write rows."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

event_created = _signals.signal("event-created", doc="A joint event was made with all its items.")
event_changed = _signals.signal(
    "event-changed",
    doc="An event's items or details changed; `changes` lists readable lines (items removed, moved, added).",
)
event_cancelled = _signals.signal("event-cancelled", doc="An event and all its items were cancelled.")
invitation_sent = _signals.signal(
    "event-invitation",
    doc="Someone was invited to co-organise an event; the sender is the invitation (its address may have no account).",
)
