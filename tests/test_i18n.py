"""Every message in the code and templates has a Romanian translation."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "lazy_ngettext": (1, 2)}


def extracted_messages() -> set[str]:
    found = set()
    for _, _, message, _, _ in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS, directory_filter=lambda d: ".venv" not in d and "tests" not in d
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_message_has_a_romanian_translation():
    with open(ROOT / "translations/ro/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle)
    translated = {
        m.id[0] if isinstance(m.id, tuple) else m.id
        for m in catalog
        if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = sorted(extracted_messages() - translated)
    assert missing == [], f"missing Romanian translations (run `make messages` and translate): {missing}"


def test_messages_raised_by_services_are_extracted():
    # Services raise lazy_gettext messages, rule details included; the catalogue test above covers them all.
    found = extracted_messages()
    assert {
        "No resource %(id)s.",
        "book at least %(duration)s ahead",
        "already booked",
        "must be after start",
        "This booking is %(status)s, not pending.",
    } <= found


def test_romanian_translations_keep_the_placeholders():
    with open(ROOT / "translations/ro/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle)
    problems = [(message.id, [str(e) for e in errors]) for message, errors in catalog.check() if errors]
    assert problems == []


def test_romanian_uses_comma_below_diacritics():
    text = (ROOT / "translations/ro/LC_MESSAGES/messages.po").read_text(encoding="utf-8")
    assert not set("şţŞŢ") & set(text)


def test_a_missing_catalogue_is_compiled_at_start_up_and_a_language_without_one_refuses_to_start(tmp_path):
    """`pip install -r requirements.txt` and `gunicorn wsgi:app` build no .mo: the app compiles it from the
    .po before its first request, so Romanian pages are Romanian; a stale .mo is rebuilt; a language with
    no catalogue at all stops the start instead of being served in English under its own name."""
    import os
    import shutil

    import pytest

    from app.factory import create_app
    from config import TestingConfig

    folder = tmp_path / "ro" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "translations/ro/LC_MESSAGES/messages.po", folder / "messages.po")

    class Fresh(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'fresh.db'}"
        BABEL_TRANSLATION_DIRECTORIES = str(tmp_path)

    app = create_app(Fresh)
    compiled = folder / "messages.mo"
    assert compiled.exists() and not list(folder.glob(".messages.mo.*"))
    with app.test_request_context("/", headers={"Accept-Language": "ro"}):
        from flask_babel import gettext

        assert gettext("Reports") == "Rapoarte"

    os.utime(compiled, (1, 1))  # older than its .po: rebuilt at the next start
    create_app(Fresh)
    assert compiled.stat().st_mtime > 1

    class Unknown(Fresh):
        LANGUAGES = ("ro", "en", "hu")

    with pytest.raises(RuntimeError, match="no catalogue for the language 'hu'"):
        create_app(Unknown)


@pytest.mark.parametrize(
    ("minutes", "english", "romanian"),
    [
        (0, "0 minutes", "0 minute"),
        (1, "1 minute", "1 minut"),
        (45, "45 minutes", "45 de minute"),
        (60, "1 hour", "1 oră"),
        (90, "1 hour 30 minutes", "1 oră 30 de minute"),
        (2880, "2 days", "2 zile"),
        (43200, "30 days", "30 de zile"),
        (1501, "1 day 1 hour 1 minute", "1 zi 1 oră 1 minut"),
    ],
)
def test_durations_are_said_as_people_say_them(app, minutes, english, romanian):
    """Rules in days and hours, not raw minutes ("book at least 2880 minutes ahead"), in both languages, with
    Romanian's three plural forms ("2 zile", "20 de zile")."""
    from flask_babel import refresh

    from app.i18n import duration_text

    for language, expected in (("en", english), ("ro", romanian)):
        with app.test_request_context("/", headers={"Accept-Language": language}):
            refresh()  # the app context (and the locale cached in it) outlives each request context
            assert duration_text(minutes) == expected
