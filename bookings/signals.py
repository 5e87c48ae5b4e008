"""What happened to bookings, announced for whoever cares (mail, later webhooks).

The booking code sends these after the change is flushed and knows nothing of its subscribers: the
dependency points one way, from `notifications` (and any other side effect) to `bookings`.

Every signal's sender is the booking as it is right after the change (for `booking_refused`, the resource),
and every one carries `now` (the business clock) and `actor` (the user who made the change, or None for a job).
Receivers run synchronously, inside the transaction of the change: they should only write rows
through `db.session` (an outbox, a delivery queue), never talk to the network. What they write is
committed with the change or rolled back with it. A receiver that raises is not swallowed: the
exception leaves the service, the request or job rolls back, and the change does not happen at all,
so a broken subscriber can never make a change whose mail was silently dropped.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

booking_created = _signals.signal(
    "booking-created",
    doc="A booking was made: a request waiting for approval (status pending) or a confirmed booking. "
    "Also sent when a waitlist hold is accepted, the moment the hold becomes the requester's booking.",
)
booking_confirmed = _signals.signal("booking-confirmed", doc="A manager approved a pending request.")
booking_rejected = _signals.signal(
    "booking-rejected",
    doc="A pending request will not happen. `expired=True` when nobody decided it within the deadline "
    "(actor None); otherwise a manager rejected it (the reason is in `decision_reason`).",
)
booking_cancelled = _signals.signal(
    "booking-cancelled",
    doc="The whole booking, or some of its occurrences, were cancelled; `occurrences` lists those "
    "cancelled now (the booking stays confirmed while any occurrence is left).",
)
booking_rescheduled = _signals.signal(
    "booking-rescheduled",
    doc="Occurrences moved; `change` says how (one occurrence from/to, or whole days for an event).",
)
booking_released = _signals.signal(
    "booking-released",
    doc="A session nobody checked in to was freed (`occurrence`); actor None.",
)
reminder_due = _signals.signal(
    "reminder-due",
    doc="A confirmed `occurrence` of the booking starts within 24 hours (sent once per occurrence).",
)
waitlist_offered = _signals.signal(
    "waitlist-offered",
    doc="A freed slot is held for the first in line (`entry`); the sender is the hold, a pending booking "
    "that becomes a booking (booking_created) only when accepted.",
)
waitlist_lapsed = _signals.signal(
    "waitlist-lapsed",
    doc="A hold was not accepted in time and is rejected; it was never the requester's booking.",
)
booking_refused = _signals.signal(
    "booking-refused",
    doc="A request to book or move a booking was refused (a 409): the sender is the resource, `clashes` "
    "the refused times with their reasons. Sent inside the transaction that the refusal rolls back: a "
    "receiver that must outlive it hands its write to app.transactions.keep.",
)
