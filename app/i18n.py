"""Language choice: an explicit choice (cookie) wins, then the browser's Accept-Language."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_babel import Babel, get_locale

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
    def localtime(value, tz_name: str) -> str:
        from babel.dates import format_datetime

        from calendars.zones import zone

        return format_datetime(value, format="EEE d MMM yyyy, HH:mm", tzinfo=zone(tz_name), locale=get_locale())

    @app.context_processor
    def inject_language():
        return {"lang": current_language(), "languages": app.config["LANGUAGES"]}


def switch_language(code: str):
    from flask import abort, redirect, url_for

    from accounts.views import is_safe_next

    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    target = request.args.get("next", "")
    response = redirect(target if is_safe_next(target) else url_for("resources.index"))
    response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
