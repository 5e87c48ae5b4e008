"""Calendar feeds: private tokens, scopes, the events each feed shows, and cached rendering."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, delete, func, or_, select
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import get_history

from accounts.models import Institution, User
from accounts.services import find_institution
from app.database import upsert, utcnow
from app.errors import InvalidInput, NotFound, PermissionDenied
from app.extensions import db
from bookings.models import Booking, Occurrence, Status
from calendars.models import CalendarFeed, FeedRender
from calendars.render import FeedEvent, render
from events.models import Event
from events.services import get_event, item_clause
from resources.models import Kind, Resource, Site, Visibility
from resources.services import can_manage, get_resource

# Cancelled and rejected occurrences stay in feeds (as STATUS:CANCELLED) this long, so clients
# that polled the event remove it; after that they are dropped.
CANCELLED_GRACE = timedelta(days=30)
PAST_WINDOW = timedelta(days=180)
FUTURE_WINDOW = timedelta(days=3660)  # the longest booking window a resource can have
PUBLIC_SUMMARY = "Reserved / Rezervat"


# --- tokens ------------------------------------------------------------------------------------


def _token_for(feed: CalendarFeed) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"{feed.id}:{feed.nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_scope(scope: str) -> tuple[str, str | None]:
    kind, _, arg = scope.partition(":")
    if kind == "mine" and not arg:
        return kind, None
    if kind in {"resource", "event"} and arg.isdigit() and 0 < int(arg) < 2**31:
        return kind, arg
    if kind == "institution" and arg.upper() in {"UVT", "UPT", "UMFT", "USVT"}:
        return kind, arg.upper()
    raise InvalidInput({"scope": _l("use mine, resource:ID, institution:CODE or event:ID")})


def _check_scope(user: User, scope: str) -> str:
    kind, arg = parse_scope(scope)
    if kind == "resource":
        get_resource(user, int(arg or 0))  # 404 if the user cannot see it
    elif kind == "institution":
        institution = find_institution(arg or "")
        if institution is None or not can_manage(user, institution.id):
            raise PermissionDenied(
                _l("Institution feeds are for that university's managers and the alliance's admins.")
            )
    elif kind == "event":
        get_event(user, int(arg or 0))  # 404 if the user cannot see it
    return f"{kind}:{arg}" if arg else kind


def create_feed(user: User, scope: str) -> tuple[CalendarFeed, str]:
    feed = CalendarFeed(user=user, scope=_check_scope(user, scope), nonce=secrets.token_hex(16), token_hash="")
    db.session.add(feed)
    db.session.flush()
    token = _token_for(feed)
    feed.token_hash = _hash(token)
    db.session.flush()
    return feed, token


def list_feeds(user: User) -> list[tuple[CalendarFeed, str]]:
    feeds = db.session.scalars(
        select(CalendarFeed)
        .where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.id)
    )
    return [(feed, _token_for(feed)) for feed in feeds]


def _own_feed(user: User, feed_id: int) -> CalendarFeed:
    feed = db.session.get(CalendarFeed, feed_id)
    if feed is None or feed.user_id != user.id or feed.revoked_at is not None:
        raise NotFound(_l("No feed %(id)s.", id=feed_id))
    return feed


def regenerate_feed(user: User, feed_id: int) -> tuple[CalendarFeed, str]:
    """A new URL for the same feed; the old one stops working at once."""
    feed = _own_feed(user, feed_id)
    feed.nonce = secrets.token_hex(16)
    token = _token_for(feed)
    feed.token_hash = _hash(token)
    db.session.flush()
    return feed, token


def revoke_feed(user: User, feed_id: int) -> None:
    _own_feed(user, feed_id).revoked_at = utcnow()
    db.session.flush()


@cache
def _poll_select() -> Select:
    """The feed by its token hash, with its owner and the global change marker: a poll's one query."""
    return select(CalendarFeed, *_change_marker_select().selected_columns).where(
        CalendarFeed.token_hash == bindparam("token_hash")
    )


def _poll(token: str) -> tuple[CalendarFeed, tuple[Any, ...]] | None:
    """The live feed a token names and the change marker, or None."""
    if not token or len(token) > 100:
        return None
    # Looked up by the SHA-256 of a 256-bit HMAC: the secret itself is never compared, so its timing leaks nothing.
    row = db.session.execute(_poll_select(), {"token_hash": _hash(token)}).one_or_none()
    if row is None or row[0].revoked_at is not None or not row[0].user.active:
        return None
    return row[0], tuple(row[1:])


# Scopes whose bytes depend only on the feed's rows and on who its owner is (id, role, university), all of
# which the poll's one query reads: an unchanged poll of them is answered without building the feed's query.
_QUICK_SCOPES = {"mine", "resource", "institution"}


def private_feed_bytes(token: str, base_url: str, now: datetime) -> RenderedFeed | None:
    """A private feed's bytes for a poll, or None for a token that names no live feed. Unchanged
    since the last poll (the marker has not moved), it costs one query."""
    found = _poll(token)
    if found is None:
        return None
    feed, marker = found
    quick = None
    if parse_scope(feed.scope)[0] in _QUICK_SCOPES:
        owner = feed.user
        quick = ("poll", feed.id, feed.scope, owner.id, owner.role, owner.institution_id, base_url, now.date())
        with _cache_lock:
            entry = _cache.get(quick)
        if entry is not None and entry.marker == marker:
            return entry.rendered
    rendered = rendered_feed(private_feed_query(feed, now), base_url, now, marker=marker)
    if quick is not None:
        _remember(quick, _Entry(marker, (), rendered))
    return rendered


# --- which occurrences a feed shows ------------------------------------------------------------


@dataclass(frozen=True)
class FeedQuery:
    """The rows of one feed and how to present them."""

    key: str

    name: str
    query: Select
    titles_for: str  # "all" | "own" | "none"
    viewer_id: int | None
    derive_uids: bool = False  # public copies get UIDs that cannot be linked to the private ones
    event_id: int | None = None  # an event's programme: summaries name the event, URLs lead to its page
    event_title: str = ""
    updated: datetime | None = None  # when the resource or event the feed is named after last changed
    unwindowed: Select | None = None  # `query` before the time window: rows leaving it change the feed too


def _window(query: Select, now: datetime) -> Select:
    return query.where(
        Occurrence.end_at > now - PAST_WINDOW,
        Occurrence.start_at < now + FUTURE_WINDOW,
        or_(Occurrence.active.is_(True), Occurrence.cancelled_at > now - CANCELLED_GRACE),
    )


@cache
def _base() -> Select:
    # Plain columns, not ORM objects: a feed of 10,000 events is read in one pass without identity-map work.
    return (
        select(
            Occurrence.uid,
            Occurrence.start_at,
            Occurrence.end_at,
            Occurrence.active,
            Occurrence.sequence,
            Occurrence.updated_at.label("occurrence_updated"),
            Booking.id.label("booking_id"),
            Booking.title,
            Booking.status,
            Booking.requester_id,
            Booking.updated_at.label("booking_updated"),
            Resource.id.label("resource_id"),
            Resource.name,
            Resource.timezone,
            Institution.code.label("institution"),
            Site.name.label("site_name"),
            Site.address,
        )
        .select_from(Occurrence)
        .join(Booking, Booking.id == Occurrence.booking_id)
        .join(Resource, Resource.id == Occurrence.resource_id)
        .join(Institution, Institution.id == Resource.institution_id)
        .outerjoin(Site, Site.id == Resource.site_id)
    )


def private_feed_query(feed: CalendarFeed, now: datetime) -> FeedQuery:
    user = feed.user
    kind, arg = parse_scope(feed.scope)
    if kind == "mine":
        query = _base().where(Booking.requester_id == user.id)
        return FeedQuery(
            f"feed:{feed.id}", "ATU Facilities – my bookings", _window(query, now), "all", user.id, unwindowed=query
        )
    if kind == "resource":
        resource = get_resource(user, int(arg or 0))
        titles = "all" if can_manage(user, resource.institution_id) else "own"
        query = _base().where(Occurrence.resource_id == resource.id)
        return FeedQuery(
            f"feed:{feed.id}",
            f"ATU Facilities – {resource.name}",
            _window(query, now),
            titles,
            user.id,
            updated=resource.updated_at,
            unwindowed=query,
        )
    if kind == "event":
        return event_feed_query(user, int(arg or 0), now, key=f"feed:{feed.id}")
    institution = find_institution(arg or "")
    if institution is None or not can_manage(user, institution.id):
        raise NotFound(_l("This feed is no longer available."))
    query = _base().where(Resource.institution_id == institution.id)
    return FeedQuery(
        f"feed:{feed.id}", f"ATU Facilities – {institution.code}", _window(query, now), "all", user.id, unwindowed=query
    )


def public_feed_query(resource_id: int, now: datetime) -> FeedQuery:
    resource = get_resource(None, resource_id)  # only public resources are visible anonymously
    if resource.visibility != Visibility.PUBLIC:
        raise NotFound(_l("No resource %(id)s.", id=resource_id))
    query = _base().where(Occurrence.resource_id == resource.id)
    return FeedQuery(
        f"public:{resource.id}",
        f"ATU Facilities – {resource.name}",
        _window(query, now),
        "none",
        None,
        True,
        updated=resource.updated_at,
        unwindowed=query,
    )


def event_feed_query(viewer: User | None, event_id: int, now: datetime, *, key: str | None = None) -> FeedQuery:
    """An event's programme: its rooms and equipment sessions (guest beds are not programme).

    Anonymous readers (`viewer` None, the public URL) only reach public events and get derived UIDs;
    a member's private `event:ID` feed reaches alliance events too.
    """
    event = get_event(viewer, event_id)
    query = _base().where(Booking.event_id == event.id, Resource.kind != Kind.DORM, item_clause(viewer, event))
    return FeedQuery(
        key or f"event:{event.id}",
        f"{event.title} – ATU Facilities",
        _window(query, now),
        "all",
        None,
        derive_uids=viewer is None,
        event_id=event.id,
        event_title=event.title,
        updated=event.updated_at,
        unwindowed=query,
    )


def fingerprint(feed: FeedQuery) -> tuple[Any, ...]:
    """Cheap summary that changes whenever the feed's bytes would: one aggregate query over every
    row whose text is in the feed (occurrence, booking, resource, site; the event is the feed's
    `updated`), with the feed's name. The times in it, less the count, give its Last-Modified."""
    aggregate = feed.query.with_only_columns(
        func.count(Occurrence.id),
        func.max(Occurrence.updated_at),
        func.max(Booking.updated_at),
        func.max(Resource.updated_at),
        func.max(Site.updated_at),
        maintain_column_froms=True,
    )
    return (*db.session.execute(aggregate).one(), feed.updated, feed.name)


def _window_moved(feed: FeedQuery, now: datetime) -> datetime | None:
    """The last time up to `now` a row of the feed left its window (ended more than PAST_WINDOW ago,
    or cancelled more than CANCELLED_GRACE ago) or came into it (starts within FUTURE_WINDOW):
    the feed's bytes changed then though no row did."""
    if feed.unwindowed is None:
        return None
    ended, cancelled, starting = db.session.execute(
        feed.unwindowed.with_only_columns(
            func.max(Occurrence.end_at).filter(Occurrence.end_at <= now - PAST_WINDOW),
            func.max(Occurrence.cancelled_at).filter(
                Occurrence.active.is_(False), Occurrence.cancelled_at <= now - CANCELLED_GRACE
            ),
            func.max(Occurrence.start_at).filter(Occurrence.start_at < now + FUTURE_WINDOW),
            maintain_column_froms=True,
        )
    ).one()
    moments = [
        ended + PAST_WINDOW if ended else None,
        cancelled + CANCELLED_GRACE if cancelled else None,
        starting - FUTURE_WINDOW if starting else None,
    ]
    return max((m for m in moments if m is not None and m <= now), default=None)


def _last_modified(current: tuple[Any, ...], moved: datetime | None, default: datetime) -> datetime:
    """The latest change among the feed's rows, its resource or event, and its window: never earlier
    than any change that moved a byte (a renamed resource or site changes LOCATION, not the events'
    stamps; a row that leaves the window changes no row)."""
    return max((t for t in (*current[1:], moved) if isinstance(t, datetime)), default=default)


def _status(active: bool, booking_status: str) -> str:
    if not active:
        return "CANCELLED"
    return "TENTATIVE" if booking_status == Status.PENDING else "CONFIRMED"


def _location(name: str, institution: str, site_name: str | None, address: str | None) -> str:
    return ", ".join(p for p in (name, institution, site_name, address) if p)


def public_uid(uid: str) -> str:
    """Public feeds use a derived UID, so the public and private copies of an event cannot be linked."""
    return hashlib.sha256(f"public:{uid}".encode()).hexdigest()[:32] + "@atu-facilities"


def feed_events(feed: FeedQuery, base_url: str) -> list[FeedEvent]:
    events = []
    for row in db.session.execute(feed.query):
        own = row.requester_id == feed.viewer_id
        show_title = feed.titles_for == "all" or (feed.titles_for == "own" and own)
        summary = row.title if show_title else PUBLIC_SUMMARY
        url = f"{base_url}bookings#booking-{row.booking_id}" if show_title else f"{base_url}resources/{row.resource_id}"
        if feed.event_id is not None:
            summary = row.title if row.title == feed.event_title else f"{feed.event_title} – {row.title}"
            url = f"{base_url}events/{feed.event_id}"
        events.append(
            FeedEvent(
                uid=public_uid(row.uid) if feed.derive_uids else row.uid,
                start=row.start_at,
                end=row.end_at,
                tz=row.timezone,
                summary=summary,
                status=_status(row.active, row.status),
                sequence=row.sequence,
                modified=row.occurrence_updated,
                location=_location(row.name, row.institution, row.site_name, row.address),
                url=url,
            )
        )
    return events


# Booking fields every one of its sessions shows (SUMMARY, STATUS, ATTENDEE): when one changes,
# each session is stamped, since each VEVENT's DTSTAMP/LAST-MODIFIED is its occurrence's
# updated_at alone (changing one session of a series re-stamps that session only).
BOOKING_FIELDS_IN_EVENTS = ("title", "status", "requester_id")


@orm_event.listens_for(Session, "before_flush")
def _stamp_sessions(session: Session, _context: Any, _instances: Any) -> None:
    for booking in [o for o in session.dirty if isinstance(o, Booking)]:
        if any(get_history(booking, name).has_changes() for name in BOOKING_FIELDS_IN_EVENTS):
            stamp = utcnow()
            for occurrence in booking.occurrences:
                occurrence.updated_at = stamp


# --- rendering with a cache keyed by the fingerprint -------------------------------------------


@dataclass(frozen=True)
class RenderedFeed:
    body: bytes
    etag: str
    last_modified: datetime


@dataclass
class _Entry:
    marker: tuple[Any, ...]
    fingerprint: tuple[Any, ...]
    rendered: RenderedFeed


_cache: OrderedDict[tuple, _Entry] = OrderedDict()
_cache_lock = threading.Lock()
CACHE_SIZE = 256


@cache
def _change_marker_select() -> Select:
    return select(
        select(func.max(Occurrence.updated_at)).scalar_subquery(),
        select(func.max(Booking.updated_at)).scalar_subquery(),
        select(func.max(Resource.updated_at)).scalar_subquery(),
        select(func.max(Site.updated_at)).scalar_subquery(),
        select(func.max(Event.updated_at)).scalar_subquery(),
    )


def change_marker() -> tuple[Any, ...]:
    """The latest change anywhere (five index lookups in one query): when it has not moved, no feed has
    changed."""
    return tuple(db.session.execute(_change_marker_select()).one())


def _digest_of(value: tuple[Any, ...]) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()


def _share(key: str, fingerprint: str, rendered: RenderedFeed) -> None:
    """Keep the render for every process and host (the last writer wins a race: both rendered the same rows)."""
    values = {
        "key": key,
        "fingerprint": fingerprint,
        "body": rendered.body,
        "etag": rendered.etag,
        "last_modified": rendered.last_modified,
        "rendered_at": utcnow(),
    }
    render = upsert(FeedRender, db.session)
    changed = {name: render.excluded[name] for name in values if name != "key"}
    db.session.execute(render.values(**values).on_conflict_do_update(index_elements=[FeedRender.key], set_=changed))


def purge_renders(now: datetime) -> int:
    """Delete shared renders older than two days (a render's key holds its day: none is asked for again)."""
    result = db.session.execute(delete(FeedRender).where(FeedRender.rendered_at < now - timedelta(days=2)))
    return result.rowcount  # type: ignore[attr-defined]  # a CursorResult for DELETE


def _remember(key: tuple, entry: _Entry) -> None:
    with _cache_lock:
        _cache[key] = entry
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)


def rendered_feed(
    feed: FeedQuery, base_url: str, now: datetime, *, marker: tuple[Any, ...] | None = None
) -> RenderedFeed:
    """The feed's bytes. A poll costs the global change marker when nothing changed anywhere, the
    feed's own fingerprint when something changed elsewhere, and a render only when its rows changed
    and no other process or host has rendered them yet (`feed_renders`, keyed by the feed and valid for
    one fingerprint)."""
    key = (feed.key, feed.titles_for, feed.viewer_id, feed.derive_uids, feed.event_title, base_url, now.date())
    marker = marker if marker is not None else change_marker()
    with _cache_lock:
        entry = _cache.get(key)
    if entry is not None and entry.marker == marker:
        return entry.rendered
    current = fingerprint(feed)
    if entry is not None and entry.fingerprint == current:
        entry.marker = marker
        return entry.rendered
    shared_key, shared_fingerprint = _digest_of(key), _digest_of(current)
    stored = db.session.get(FeedRender, shared_key)
    if stored is not None and stored.fingerprint == shared_fingerprint:
        rendered = RenderedFeed(stored.body, stored.etag, stored.last_modified)  # another worker rendered it
    else:
        events = feed_events(feed, base_url)
        body = render(events, name=feed.name)
        modified = _last_modified(current, _window_moved(feed, now), datetime(2026, 1, 1, tzinfo=now.tzinfo))
        rendered = RenderedFeed(body, hashlib.sha256(body).hexdigest()[:40], modified)
        _share(shared_key, shared_fingerprint, rendered)
    _remember(key, _Entry(marker, current, rendered))
    return rendered


def booking_snapshot(booking: Booking) -> dict[str, Any]:
    """The booking as its .ics shows it, as JSON data: a queued mail keeps this, so the file attached
    when the mail is sent is the booking as it was at the change, even if it changed again since."""
    return {
        "id": booking.id,
        "title": booking.title,
        "status": str(booking.status),
        "resource_id": booking.resource_id,
        "requester": booking.requester.email,
        "occurrences": [
            {
                "uid": o.uid,
                "start": o.start_at.isoformat(),
                "end": o.end_at.isoformat(),
                "active": o.active,
                "sequence": o.sequence,
                "modified": o.updated_at.isoformat(),
            }
            for o in booking.occurrences
        ],
    }


def booking_ics(booking: Booking, base_url: str) -> bytes:
    """One booking as a file (see `snapshot_ics`)."""
    return snapshot_ics(booking_snapshot(booking), booking.resource, base_url)


def snapshot_method(snapshot: dict[str, Any], *, cancel: bool = False) -> str:
    """The iTIP method of a `booking_snapshot`'s file: CANCEL once the booking is cancelled or
    rejected, or when `cancel` asks for the sessions cancelled in a series that goes on (the mail
    of that cancellation) and there are some; REQUEST otherwise."""
    if snapshot["status"] in (Status.CANCELLED, Status.REJECTED):
        return "CANCEL"
    if cancel and any(not o["active"] for o in snapshot["occurrences"]):
        return "CANCEL"
    return "REQUEST"


def snapshot_ics(snapshot: dict[str, Any], resource: Resource, base_url: str, *, cancel: bool = False) -> bytes:
    """`booking_ics` of a `booking_snapshot`, with the resource's place and zone as they are now.

    Valid iTIP (RFC 5546): a REQUEST holds only the live sessions, so a partly cancelled series is
    a REQUEST of what is left; a CANCEL holds the cancelled sessions (all of them once the booking
    is cancelled or rejected), each STATUS:CANCELLED."""
    method = snapshot_method(snapshot, cancel=cancel)
    whole = snapshot["status"] in (Status.CANCELLED, Status.REJECTED)
    if method == "CANCEL":
        chosen = [o for o in snapshot["occurrences"] if whole or not o["active"]]
    else:
        chosen = [o for o in snapshot["occurrences"] if o["active"]]
    location = _booking_location(resource)
    events = [
        FeedEvent(
            uid=o["uid"],
            start=datetime.fromisoformat(o["start"]),
            end=datetime.fromisoformat(o["end"]),
            tz=resource.timezone,
            summary=snapshot["title"],
            status="CANCELLED" if method == "CANCEL" else _status(True, snapshot["status"]),
            sequence=o["sequence"],
            modified=datetime.fromisoformat(o["modified"]),
            location=location,
            url=f"{base_url}bookings#booking-{snapshot['id']}",
            organizer="noreply@atu-facilities.ro",
            attendee=snapshot["requester"],
        )
        for o in chosen
    ]
    return render(events, name=snapshot["title"], method=method, refresh=False)


def _booking_location(resource: Resource) -> str:
    site = resource.site
    return _location(
        resource.name, resource.institution.code, site.name if site else None, site.address if site else None
    )
