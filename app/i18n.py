"""Language choice: an explicit choice (cookie) wins, then the browser's Accept-Language."""

from __future__ import annotations

from babel.dates import format_datetime
from babel.numbers import format_decimal
from flask import Flask, abort, current_app, redirect, request, url_for
from flask_babel import Babel, get_locale, gettext

from app.urls import is_safe_next
from app.zones import zone
from config import DEFAULT_TIMEZONE

LANG_COOKIE = "lang"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen is not None and chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale else current_app.config["BABEL_DEFAULT_LOCALE"]


def init_i18n(app: Flask, babel: Babel) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.add_url_rule("/language/<code>", "switch_language", switch_language)

    @app.template_filter("localtime")
    def localtime(value, tz_name: str = DEFAULT_TIMEZONE) -> str:
        return format_datetime(value, format="EEE d MMM yyyy, HH:mm", tzinfo=zone(tz_name), locale=get_locale())

    @app.template_filter("money")
    def money(value, currency: str = "RON") -> str:
        """An amount in the page's number format: 1.234,50 RON in Romanian, 1,234.50 RON in English."""
        return f"{format_decimal(value, format='#,##0.00', locale=get_locale())} {currency}"

    @app.context_processor
    def inject_language():
        return {"lang": current_language(), "languages": app.config["LANGUAGES"], "default_timezone": DEFAULT_TIMEZONE}


def switch_language(code: str):
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    target = request.args.get("next", "")
    response = redirect(target if is_safe_next(target) else url_for("resources.index"))
    response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def N_(message: str) -> str:
    """Mark a message for the catalogue without translating it here (pybabel extracts N_ by default)."""
    return message


# Services raise plain English (the API answers it as is). These are the fixed ones the pages show; the
# pages look them up in the catalogue through page_text. A message missing here is shown in English.
SERVICE_MESSAGES = (
    N_("This resource is not open to partner universities."),
    N_("This resource needs training: ask its manager for an authorisation."),
    N_("Only managers and admins decide requests."),
    N_("Only a manager of the owning university (or an admin) decides requests."),
    N_("Only an admin or a manager of the owning institution may do this."),
    N_("Statements are for managers and admins."),
    N_("give a month as YYYY-MM between 2000 and 2099"),
    N_("the check-out day must be after the check-in day"),
    N_("one booking may last at most a year"),
    N_("this resource does not use check-in"),
    N_("Check-in opens 15 minutes before the session and closes when it ends."),
    N_("the slot has already started"),
    N_("There is no hold to accept on this booking."),
    N_("The hold has lapsed."),
    N_("no user with this email"),
    N_("give an http(s) or webcal address of an iCal feed"),
    N_("This event is cancelled."),
    N_("Only the event's organisers may change it."),
    N_("that would remove every item; cancel the event instead"),
    N_("Only the main organiser may change who organises the event."),
)


def page_text(message: str) -> str:
    """A service's message in the visitor's language when the catalogue has it, else as raised."""
    return gettext(message) if message else message
