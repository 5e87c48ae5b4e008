"""Operations' view of the app: a request id on every request and its log records, logs as text or JSON lines,
one access line per request, and Prometheus metrics at /metrics.

Request id: an incoming `X-Request-ID` that is a sane token (at most 64 of [A-Za-z0-9._-]) is kept, so nginx or
a client can follow a request through; anything else is replaced by a fresh uuid4. It is `g.request_id`, in
every log record made during the request, and in the answer's `X-Request-ID`.

Metrics: request latency by endpoint name (never the raw path: the number of series stays bounded), method and
status class here; bookings made and refused, and the database gauges, in the monitoring package. gunicorn's
workers are separate processes: with PROMETHEUS_MULTIPROC_DIR set (gunicorn.conf.py) every worker writes its
counters to files there and a scrape adds them all up; without it the process's own registry is served.

/metrics is not public: it answers `Authorization: Bearer METRICS_TOKEN` or a request from loopback, and anyone
else gets the ordinary 404. Behind nginx the address checked is the client's as forwarded (ProxyFix,
TRUSTED_PROXIES), so a remote client coming through nginx on this host is not loopback.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import quote

from flask import Flask, Response, abort, current_app, g, has_request_context, request
from flask.logging import default_handler
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from monitoring.collectors import DatabaseCollector
from monitoring.receivers import register_monitoring

REQUEST_ID_HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# URL variables that are secrets (a private feed's token): never written to a log.
SECRET_URL_VARIABLES = frozenset({"token"})

access_log = logging.getLogger("app.access")

REQUEST_LATENCY = Histogram(
    "atu_http_request_duration_seconds",
    "Time from the start of a request to its answer, by endpoint (the Flask endpoint name), method and status class",
    ["endpoint", "method", "status"],
)


def register_observability(app: Flask) -> None:
    disable_created_metrics()  # no `*_created` series beside each one (multiprocess mode has none either)
    register_request_id(app)
    register_logging(app)
    register_monitoring(app)
    app.add_url_rule("/metrics", "metrics", metrics)


# --- request id and the access line ----------------------------------------------------------------------


def current_request_id() -> str:
    """This request's id, chosen on first use (a hook or a log record may ask before `before_request`)."""
    found = g.get("request_id")
    if found is None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        found = g.request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    return found


def register_request_id(app: Flask) -> None:
    @app.before_request
    def start() -> None:
        current_request_id()
        g.request_started = time.perf_counter()

    @app.after_request
    def answer_with_id(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = current_request_id()
        g.response_status = response.status_code  # app.transactions overwrites it when a failed commit makes a 503
        return response

    @app.teardown_request
    def finish(error: BaseException | None) -> None:
        started = g.pop("request_started", None)
        if started is None:  # a request context that never dispatched (test_request_context)
            return
        seconds = time.perf_counter() - started
        status = g.get("response_status", 500)
        REQUEST_LATENCY.labels(
            endpoint=request.endpoint or "none",
            method=request.method if request.method in METHODS else "other",
            status=f"{status // 100}xx",
        ).observe(seconds)
        access_log.info(
            "%s %s %s",
            request.method,
            logged_path(),
            status,
            extra={"status": status, "duration_ms": round(seconds * 1000, 1), "endpoint": request.endpoint},
        )


def logged_path() -> str:
    """The request's path without its secrets (a feed token) or the query string, percent-encoded again so a
    decoded line break or control character cannot forge a log line."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if name in SECRET_URL_VARIABLES and isinstance(value, str) and value:
            path = path.replace(value, "[secret]")
    return quote(path, safe="/:@!$&'()*+,;=[]~")


# --- logs ------------------------------------------------------------------------------------------------


class RequestContext(logging.Filter):
    """Put the request's id, method and path on every record made while it is served."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and not hasattr(record, "request_id"):
            record.request_id = current_request_id()
            record.method = request.method
            record.path = logged_path()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message, request_id, the request's method
    and path, status and duration_ms on the access line, endpoint, and exception text when there is one."""

    OPTIONAL = ("method", "path", "status", "duration_ms", "endpoint")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        entry.update({name: value for name in self.OPTIONAL if (value := getattr(record, name, None)) is not None})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def log_handler(stream: IO[str], log_format: str) -> logging.Handler:
    """A handler writing `json` lines or `text` lines, each with the request id."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContext())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT, defaults={"request_id": "-"}))
    return handler


def register_logging(app: Flask) -> None:
    """Every logger's records go to stderr (gunicorn's and systemd's journal) through one root handler, at
    LOG_LEVEL, as LOG_FORMAT says. Tests leave logging to pytest (caplog)."""
    if app.testing:
        return
    if app.config["LOG_FORMAT"] not in ("text", "json"):
        raise ValueError(f"LOG_FORMAT must be text or json, not {app.config['LOG_FORMAT']!r}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "atu_facilities", False)]:
        root.removeHandler(old)  # a second app in the process (a CLI command) replaces it
    handler = log_handler(sys.stderr, app.config["LOG_FORMAT"])
    handler.atu_facilities = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
    app.logger.removeHandler(default_handler)  # Flask's own would print the app's records twice


# --- /metrics --------------------------------------------------------------------------------------------


def metrics() -> Response:
    if not may_scrape():
        abort(404)
    body = generate_latest(_Scrape([process_registry(), DatabaseCollector()]))  # type: ignore[arg-type]
    return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})


def may_scrape() -> bool:
    """The bearer of METRICS_TOKEN, or a client on this host (the forwarded address behind a trusted proxy)."""
    token = current_app.config.get("METRICS_TOKEN")
    offered = request.headers.get("Authorization", "")
    if (
        token
        and offered.startswith("Bearer ")
        and hmac.compare_digest(offered.removeprefix("Bearer ").strip().encode(), token.encode())
    ):
        return True
    return is_loopback(request.remote_addr)


def is_loopback(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:  # no address (a Unix socket) is not trusted
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool((mapped or ip).is_loopback)


def process_registry() -> Collector:
    """What the processes counted: every gunicorn worker's files added up in multiprocess mode, else this
    process's registry."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


class _Scrape:
    """Several collectors read as one registry by `generate_latest`."""

    def __init__(self, collectors: Iterable[Collector]) -> None:
        self.collectors = list(collectors)

    def collect(self) -> Iterator[Any]:
        for collector in self.collectors:
            yield from collector.collect()
