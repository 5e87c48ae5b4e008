"""External iCal feeds imported as blocked time on a resource.

A refresh fetches the feed (refusing loopback and private addresses unless
IMPORT_ALLOW_PRIVATE_HOSTS is set, bounded in time and size), expands recurring events
for the coming year, and replaces that import's blocks in one transaction. Any failure
keeps the last good blocks and records the error on the import.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit

import icalendar
import recurring_ical_events
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from accounts.models import User
from app.database import utcnow
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.zones import to_utc
from calendars.models import FeedImport
from resources.models import Block, Resource
from resources.services import managed_resource

MAX_BYTES = 5 * 1024 * 1024
MAX_EVENTS = 10_000
HORIZON = timedelta(days=366)
IMPORTED_REASON = "Imported busy time"


class ImportFailed(Exception):
    pass


# --- managing imports --------------------------------------------------------------------------


def _validate_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https", "webcal"} or not parts.hostname or len(url) > 2000:
        raise InvalidInput({"url": _l("give an http(s) or webcal address of an iCal feed")})
    if parts.scheme == "webcal":
        url = "https" + url[len("webcal") :]
    return url


def add_import(actor: User, resource_id: int, url: str) -> FeedImport:
    resource = managed_resource(actor, resource_id)
    feed = FeedImport(resource_id=resource.id, url=_validate_url(url), created_by_id=actor.id)
    db.session.add(feed)
    db.session.flush()
    return feed


def list_imports(actor: User, resource_id: int) -> list[FeedImport]:
    resource = managed_resource(actor, resource_id)
    return list(
        db.session.scalars(select(FeedImport).where(FeedImport.resource_id == resource.id).order_by(FeedImport.id))
    )


def get_import(actor: User, resource_id: int, import_id: int) -> FeedImport:
    resource = managed_resource(actor, resource_id)
    feed = db.session.get(FeedImport, import_id)
    if feed is None or feed.resource_id != resource.id:
        raise NotFound(_l("No import %(feed)s on resource %(resource)s.", feed=import_id, resource=resource_id))
    return feed


def remove_import(actor: User, resource_id: int, import_id: int) -> None:
    feed = get_import(actor, resource_id, import_id)
    db.session.execute(delete(Block).where(Block.import_id == feed.id))
    db.session.delete(feed)
    db.session.flush()


# --- fetching safely ---------------------------------------------------------------------------


def _check_host(host: str, port: int) -> None:
    if current_app.config.get("IMPORT_ALLOW_PRIVATE_HOSTS"):
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)}
    except socket.gaierror as exc:
        raise ImportFailed(f"cannot resolve {host}") from exc
    for address in addresses:
        ip = ipaddress.ip_address(str(address).split("%")[0])
        if not ip.is_global:
            raise ImportFailed(f"{host} resolves to a private or loopback address ({ip}); not allowed")


class _SafeRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = 5

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        parts = urlsplit(newurl)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ImportFailed(f"redirect to an unsupported address: {newurl[:100]}")
        _check_host(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        return super().redirect_request(req, fp, code, msg, headers, newurl)


@dataclass(frozen=True)
class Fetched:
    data: bytes | None  # None: the server answered 304, the feed is unchanged
    etag: str = ""
    last_modified: str = ""


def fetch(url: str, timeout: float, etag: str = "", last_modified: str = "") -> Fetched:
    """A conditional GET: the last good response's validators go back as If-None-Match/If-Modified-Since."""
    parts = urlsplit(url)
    _check_host(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
    opener = urllib.request.build_opener(_SafeRedirects)
    headers = {"User-Agent": "ATU-Facilities-import/1.0", "Accept": "text/calendar"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
            data = response.read(MAX_BYTES + 1)
            validators = (response.headers.get("ETag", "")[:200], response.headers.get("Last-Modified", "")[:100])
    except ImportFailed:
        raise
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return Fetched(None, etag, last_modified)
        raise ImportFailed(f"the server answered {exc.code}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ImportFailed(f"cannot fetch the feed: {getattr(exc, 'reason', exc)}") from exc
    if len(data) > MAX_BYTES:
        raise ImportFailed(f"the feed is larger than {MAX_BYTES // (1024 * 1024)} MB")
    return Fetched(data, *validators)


# --- turning a feed into busy spans ------------------------------------------------------------


def _instant(value: date | datetime, tz_name: str) -> datetime:
    if not isinstance(value, datetime):  # an all-day event: the resource's local midnight
        value = datetime.combine(value, time())
    return to_utc(value, tz_name)


def busy_spans(data: bytes, tz_name: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime, str]]:
    try:
        calendar = icalendar.Calendar.from_ical(data)
        events = recurring_ical_events.of(calendar).between(start, end)
    except Exception as exc:  # the parsers raise many types for malformed input
        raise ImportFailed(f"not a valid iCalendar feed: {str(exc)[:200]}") from exc
    spans = []
    for event in events:
        if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        begin = event.decoded("DTSTART", None)
        if begin is None:
            continue
        finish = event.decoded("DTEND", None) if "DTEND" in event else None
        if finish is None:
            duration = event.decoded("DURATION", None) if "DURATION" in event else None
            finish = begin + (duration or (timedelta(days=1) if not isinstance(begin, datetime) else timedelta()))
        try:
            span_start, span_end = _instant(begin, tz_name), _instant(finish, tz_name)
        except ValueError:
            continue
        if span_end <= span_start:
            continue
        spans.append((span_start, span_end, IMPORTED_REASON))
        if len(spans) > MAX_EVENTS:
            raise ImportFailed(f"more than {MAX_EVENTS} busy periods in the coming year")
    return spans


def refresh_import(feed: FeedImport, *, now: datetime, fetcher: Callable[..., Fetched] = fetch) -> bool:
    """Fetch and replace this import's blocks; on failure keep them and record why. Returns success."""
    resource = db.session.get(Resource, feed.resource_id)
    feed.last_attempt_at = utcnow()
    try:
        if resource is None:
            raise ImportFailed("the resource no longer exists")
        timeout = current_app.config.get("IMPORT_TIMEOUT_SECONDS", 10)
        # Only send validators once a good copy is stored; otherwise ask for the whole feed.
        validators = (feed.remote_etag, feed.remote_last_modified) if feed.last_success_at else ("", "")
        fetched = fetcher(feed.url, timeout, *validators)
        if fetched.data is None:
            feed.last_status, feed.last_error, feed.last_success_at = "ok", "", feed.last_attempt_at
            db.session.flush()
            return True
        spans = busy_spans(fetched.data, resource.timezone, now - timedelta(days=1), now + HORIZON)
    except ImportFailed as exc:
        feed.last_status = "error"
        feed.last_error = str(exc)[:1000]
        db.session.flush()
        return False
    db.session.execute(delete(Block).where(Block.import_id == feed.id))
    db.session.add_all(
        Block(resource_id=resource.id, start_at=s, end_at=e, reason=reason, source="import", import_id=feed.id)
        for s, e, reason in spans
    )
    feed.last_status = "ok"
    feed.last_error = ""
    feed.remote_etag, feed.remote_last_modified = fetched.etag, fetched.last_modified
    feed.last_success_at = feed.last_attempt_at
    feed.event_count = len(spans)
    db.session.flush()
    return True
