"""Feed endpoints for calendar clients, and one booking as a file."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app import clock
from app.errors import InvalidInput, NotFound
from app.forms import flash_error
from app.urls import base_url
from bookings import services as bookings
from calendars import imports, services

bp = Blueprint("calendars", __name__)


def calendar_response(body: bytes, etag: str, last_modified, filename: str):
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.set_etag(etag, weak=False)
    response.last_modified = last_modified
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    # If-None-Match wins over If-Modified-Since (RFC 9110); werkzeug answers 304 without the body.
    return response.make_conditional(request)


@bp.get("/calendars/resources/<id:resource_id>.ics")
def public_feed(resource_id: int):
    now = clock.now()
    feed = services.public_feed_query(resource_id, now)
    rendered = services.rendered_feed(feed, base_url(), now)
    return calendar_response(rendered.body, rendered.etag, rendered.last_modified, f"resource-{resource_id}.ics")


@bp.get("/calendars/events/<id:event_id>.ics")
def public_event_feed(event_id: int):
    """A public event's programme, for attendees to subscribe to without an account."""
    now = clock.now()
    feed = services.event_feed_query(None, event_id, now)
    rendered = services.rendered_feed(feed, base_url(), now)
    return calendar_response(rendered.body, rendered.etag, rendered.last_modified, f"event-{event_id}.ics")


@bp.get("/calendars/feeds/<token>.ics")
def private_feed(token: str):
    rendered = services.private_feed_bytes(token, base_url(), clock.now())
    if rendered is None:
        raise NotFound(_l("No such feed."))
    return calendar_response(rendered.body, rendered.etag, rendered.last_modified, "atu-facilities.ics")


@bp.get("/bookings/<id:booking_id>.ics")
@login_required
def booking_file(booking_id: int):
    booking = bookings.get_booking(current_user, booking_id)
    snapshot = services.booking_snapshot(booking)
    body = services.snapshot_ics(snapshot, booking.resource, base_url())
    response = Response(body, content_type="text/calendar; charset=utf-8; method=" + services.snapshot_method(snapshot))
    response.headers["Content-Disposition"] = f'attachment; filename="booking-{booking.id}.ics"'
    return response


@bp.post("/bookings/feeds")
@login_required
def create_feed_page():
    services.create_feed(current_user, request.form.get("scope", "mine")[:40])
    flash(_("Your calendar feed is ready: copy its link into your calendar app."), "success")
    return redirect(url_for("bookings.mine") + "#feeds")


@bp.post("/bookings/feeds/<id:feed_id>/<any(regenerate, revoke):action>")
@login_required
def change_feed_page(feed_id: int, action: str):
    if action == "regenerate":
        services.regenerate_feed(current_user, feed_id)
        flash(_("New link made; the old one no longer works."), "success")
    else:
        services.revoke_feed(current_user, feed_id)
        flash(_("Feed removed; its link no longer works."), "success")
    return redirect(url_for("bookings.mine") + "#feeds")


@bp.post("/resources/<id:resource_id>/imports")
@login_required
def add_import_page(resource_id: int):
    try:
        imports.add_import(current_user, resource_id, request.form.get("url", "")[:2000])
    except InvalidInput as exc:
        flash_error(exc)
    else:
        flash(_("Calendar added; it is fetched within a minute (see its status below)."), "success")
    return _back_to_imports(resource_id)


def _back_to_imports(resource_id: int):
    """Imports are managed on the managers' imports page (the resource page links to it)."""
    return redirect(url_for("manage.imports", resource_id=resource_id))


@bp.post("/resources/<id:resource_id>/imports/<id:import_id>/<any(refresh, remove):action>")
@login_required
def change_import_page(resource_id: int, import_id: int, action: str):
    if action == "refresh":
        imports.refresh_queued(current_user, resource_id, import_id)
        flash(_("Refresh queued; the calendar is fetched within a minute."), "success")
    else:
        imports.remove_import(current_user, resource_id, import_id)
        flash(_("Imported calendar removed with its busy time."), "success")
    return _back_to_imports(resource_id)
