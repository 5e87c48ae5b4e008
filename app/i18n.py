"""Language choice: an explicit choice (cookie) wins, then the browser's Accept-Language.

The API and the feeds answer in the language of Accept-Language, English when none is asked for.
Services raise messages made with `lazy_gettext`: they are translated when rendered, in the page's
or the request's language.
"""

from __future__ import annotations

import os
from pathlib import Path

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from flask import Flask, abort, current_app, has_request_context, redirect, request, url_for
from flask_babel import Babel, get_locale, ngettext
from flask_babel.speaklater import LazyString

from app.urls import is_safe_next
from app.zones import zone
from config import DEFAULT_TIMEZONE

LANG_COOKIE = "lang"
# Machine clients (the JSON API, calendar feeds) have no language cookie: English unless they ask.
MACHINE_PATHS = ("/api/", "/calendars/", "/healthz")
MACHINE_DEFAULT_LOCALE = "en"
SOURCE_LANGUAGE = "en"  # the messages are written in English: it needs no catalogue


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # a command or a job: messages as raised, in English
        return MACHINE_DEFAULT_LOCALE
    if request.path.startswith(MACHINE_PATHS):
        return request.accept_languages.best_match(languages) or MACHINE_DEFAULT_LOCALE
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen is not None and chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def duration_text(minutes: int | float) -> str:
    """A length of time as people say it, in the current language: "2 days 3 hours", "1 oră 30 de minute";
    whole days, hours and minutes, the zero parts left out ("0 minutes" for nothing)."""
    total = max(0, round(minutes))
    days, rest = divmod(total, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(ngettext("%(num)d day", "%(num)d days", days))
    if hours:
        parts.append(ngettext("%(num)d hour", "%(num)d hours", hours))
    if mins or not parts:
        parts.append(ngettext("%(num)d minute", "%(num)d minutes", mins))
    return " ".join(parts)


def lazy_duration(minutes: int | float) -> LazyString:
    """`duration_text`, in the language of wherever it is shown (a service's message is rendered later)."""
    return LazyString(duration_text, minutes)


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale else current_app.config["BABEL_DEFAULT_LOCALE"]


def ensure_catalogues(app: Flask) -> None:
    """Every language served but English has its compiled catalogue before the first request, whatever the
    install path (`make`, a package, a bare `pip install` and `gunicorn wsgi:app`): a missing or stale
    `.mo` is compiled from its `.po` (written aside, then renamed: workers starting together never read
    half a file); a language without either refuses to start the app instead of being served in English
    under its own name."""
    root = Path(app.config["BABEL_TRANSLATION_DIRECTORIES"])
    for language in app.config["LANGUAGES"]:
        if language == SOURCE_LANGUAGE:
            continue
        folder = root / language / "LC_MESSAGES"
        po, mo = folder / "messages.po", folder / "messages.mo"
        if not po.exists():
            if mo.exists():
                continue
            raise RuntimeError(f"no catalogue for the language {language!r}: {po} is missing")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=language)
        partial = folder / f".messages.mo.{os.getpid()}"
        try:
            with partial.open("wb") as target:
                write_mo(target, catalog, use_fuzzy=True)
            os.replace(partial, mo)
        except OSError as exc:
            raise RuntimeError(
                f"the catalogue {mo} is missing or older than its .po and cannot be written here ({exc}); "
                "compile it at install time: pybabel compile -d translations"
            ) from exc


def init_i18n(app: Flask, babel: Babel) -> None:
    ensure_catalogues(app)
    babel.init_app(app, locale_selector=select_locale)
    flask_default = app.json.default  # type: ignore[attr-defined]

    def json_default(value):
        """A lazy message in a JSON answer is text in the request's language."""
        return str(value) if isinstance(value, LazyString) else flask_default(value)

    app.json.default = json_default  # type: ignore[attr-defined]
    app.add_url_rule("/language/<code>", "switch_language", switch_language)

    @app.template_filter("localtime")
    def localtime(value, tz_name: str = DEFAULT_TIMEZONE) -> str:
        return format_datetime(value, format="EEE d MMM yyyy, HH:mm", tzinfo=zone(tz_name), locale=get_locale())

    app.add_template_filter(duration_text, "duration")

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
    response.set_cookie(
        LANG_COOKIE,
        code,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        httponly=True,
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )
    return response
