"""External iCal feeds imported as blocked time on a resource.

Adding an import or asking for a refresh only queues it (status "pending"); the
`import-pending` job (every minute) and `import-feeds` (hourly) fetch outside the web request.
A refresh fetches the feed (refusing loopback and private addresses unless
IMPORT_ALLOW_PRIVATE_HOSTS is set; the connection goes to the address that was checked),
within one wall-clock budget for fetch and parse and 5 MB, reads it in a child process that is
killed when the budget runs out (calendars/expansion.py: rules stepped lazily, refused before
anything past 10,000 occurrences is built, the coming year expanded, IMPORT_MEMORY_MB of address
space), and replaces that import's blocks in one transaction. Any failure keeps the last good blocks
and records the error on the import.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time as clock_time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urljoin, urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from accounts.models import User
from app.database import utcnow
from app.errors import InvalidInput, NotFound
from app.extensions import db
from calendars.expansion import ImportFailed, read_isolated
from calendars.models import FeedImport
from resources.models import Block, Resource
from resources.services import managed_resource

MAX_BYTES = 5 * 1024 * 1024
HORIZON = timedelta(days=366)


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
    feed = FeedImport(resource_id=resource.id, url=_validate_url(url), created_by_id=actor.id, last_status="pending")
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


def queue_refresh(feed: FeedImport) -> FeedImport:
    """Ask for a refresh outside the web request: the `import-pending` job fetches it within a minute.
    The last good data, the last success and the last error stay as they are meanwhile."""
    feed.last_status = "pending"
    db.session.flush()
    return feed


def refresh_queued(actor: User, resource_id: int, import_id: int) -> FeedImport:
    return queue_refresh(get_import(actor, resource_id, import_id))


def remove_import(actor: User, resource_id: int, import_id: int) -> None:
    feed = get_import(actor, resource_id, import_id)
    db.session.execute(delete(Block).where(Block.import_id == feed.id))
    db.session.delete(feed)
    db.session.flush()


# --- fetching safely ---------------------------------------------------------------------------

# Prefixes whose addresses carry an IPv4 address in their last 32 bits; such an address is judged
# as that IPv4 address (::ffff:127.0.0.1 and ::7f00:1 are loopback, 64:ff9b::a00:1 is 10.0.0.1).
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # local-use translation: never public


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:  # :: and ::1 are judged as themselves
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def is_public_address(address: str) -> bool:
    """Whether an address may be fetched from: global, and not private, loopback, link-local,
    reserved, multicast or unspecified, judging IPv6 forms that embed an IPv4 address as that address."""
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL:
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            ip = embedded
    refused = (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast or ip.is_unspecified
    )
    if isinstance(ip, ipaddress.IPv6Address):
        refused = refused or ip.is_site_local
    return ip.is_global and not refused


def _checked_address(host: str, port: int) -> tuple[int, str]:
    """Resolve once and check every address; the connection then goes to the address returned
    (family, IP), never to a second lookup of the name."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise ImportFailed(f"cannot resolve {host}") from exc
    if not infos:
        raise ImportFailed(f"cannot resolve {host}")
    if not current_app.config.get("IMPORT_ALLOW_PRIVATE_HOSTS"):
        for info in infos:
            address = str(info[4][0])
            if not is_public_address(address):
                raise ImportFailed(f"{host} resolves to a private or loopback address ({address}); not allowed")
    family, address = infos[0][0], str(infos[0][4][0])
    return int(family), address


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the already checked IP; Host header from the name in the URL."""

    def __init__(self, host: str, port: int, *, address: tuple[int, str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.pinned = address

    def _open_socket(self) -> socket.socket:
        family, ip = self.pinned
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect((ip, self.port))
        except OSError:
            sock.close()
            raise
        return sock

    def connect(self) -> None:
        self.sock = self._open_socket()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """TLS to the checked IP, with SNI and the certificate checked against the name in the URL."""

    default_port = 443

    def __init__(self, host: str, port: int, *, address: tuple[int, str], timeout: float) -> None:
        super().__init__(host, port, address=address, timeout=timeout)
        self.context = ssl.create_default_context()

    def connect(self) -> None:
        self.sock = self.context.wrap_socket(self._open_socket(), server_hostname=self.host)


@dataclass(frozen=True)
class Fetched:
    data: bytes | None  # None: the server answered 304, the feed is unchanged
    etag: str = ""
    last_modified: str = ""


class _Budget:
    """One wall-clock budget for the whole fetch (every connect, redirect and read) and the parse."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = clock_time.monotonic() + seconds

    def left(self) -> float:
        return self.deadline - clock_time.monotonic()

    def check(self) -> None:
        if self.left() <= 0:
            raise ImportFailed(f"the feed took longer than {self.seconds:g} s to fetch and read")


MAX_REDIRECTS = 5


def fetch(
    url: str, timeout: float, etag: str = "", last_modified: str = "", *, budget: _Budget | None = None
) -> Fetched:
    """A conditional GET within one total time budget: the last good response's validators go back
    as If-None-Match/If-Modified-Since. Each connection goes to the address that passed the check."""
    budget = budget or _Budget(timeout)
    headers = {"User-Agent": "ATU-Facilities-import/1.0", "Accept": "text/calendar"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ImportFailed(f"redirect to an unsupported address: {url[:100]}")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise ImportFailed("the address has an invalid port") from exc
        address = _checked_address(parts.hostname, port)
        budget.check()
        kind = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        connection = kind(parts.hostname, port, address=address, timeout=max(budget.left(), 0.01))
        # The socket is shut at the deadline, so a server that drips bytes cannot hold the worker.
        watchdog = threading.Timer(max(budget.left(), 0), _shut, args=(connection,))
        watchdog.daemon = True
        watchdog.start()
        try:
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request("GET", target, headers=headers)
            response = connection.getresponse()
            if response.status in {301, 302, 303, 307, 308}:
                location = response.getheader("Location", "")
                if not location:
                    raise ImportFailed(f"the server answered {response.status} without a Location")
                url = urljoin(url, location)
                continue
            if response.status == 304:
                return Fetched(None, etag, last_modified)
            if response.status != 200:
                raise ImportFailed(f"the server answered {response.status}")
            data = _read_body(response, budget)
            validators = (response.getheader("ETag", "")[:200], response.getheader("Last-Modified", "")[:100])
            return Fetched(data, *validators)
        except ImportFailed:
            raise
        except (OSError, http.client.HTTPException, ValueError) as exc:
            budget.check()
            raise ImportFailed(f"cannot fetch the feed: {exc}") from exc
        finally:
            watchdog.cancel()
            connection.close()
    raise ImportFailed(f"more than {MAX_REDIRECTS} redirects")


def _shut(connection: http.client.HTTPConnection) -> None:
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _read_body(response: http.client.HTTPResponse, budget: _Budget) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        budget.check()
        chunk = response.read1(64 * 1024)
        if not chunk:
            break
        size += len(chunk)
        if size > MAX_BYTES:
            raise ImportFailed(f"the feed is larger than {MAX_BYTES // (1024 * 1024)} MB")
        chunks.append(chunk)
    budget.check()
    return b"".join(chunks)


def refresh_import(feed: FeedImport, *, now: datetime, fetcher: Callable[..., Fetched] = fetch) -> bool:
    """Fetch and replace this import's blocks; on failure keep them and record why. Returns success."""
    resource = db.session.get(Resource, feed.resource_id)
    feed.last_attempt_at = utcnow()
    try:
        if resource is None:
            raise ImportFailed("the resource no longer exists")
        timeout = float(current_app.config.get("IMPORT_TIMEOUT_SECONDS", 10))
        budget = _Budget(timeout)  # one budget for the fetch and the parse together
        # Only send validators once a good copy is stored; otherwise ask for the whole feed.
        validators = (feed.remote_etag, feed.remote_last_modified) if feed.last_success_at else ("", "")
        fetched = fetcher(feed.url, timeout, *validators)
        if fetched.data is None:
            feed.last_status, feed.last_error, feed.last_success_at = "ok", "", feed.last_attempt_at
            db.session.flush()
            return True
        spans = read_isolated(
            fetched.data,
            resource.timezone,
            now - timedelta(days=1),
            now + HORIZON,
            seconds=budget.left(),
            memory_mb=current_app.config["IMPORT_MEMORY_MB"],
        )
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
