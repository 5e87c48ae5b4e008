"""Migration 0013: mail queued with its text (before rendering moved to sending) is still sent, and
downgrading gives the text back."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from app.extensions import db
from app.factory import create_app
from config import TestingConfig

ROW = {
    "subject": "Rezervare confirmată: Laborator",
    "body": "Textul",
    "ics": "BEGIN:VCALENDAR",
    "ics_method": "REQUEST",
}


def test_queued_text_moves_into_the_snapshot_and_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    app = create_app(type("Fresh", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with app.app_context():
        upgrade(revision="0012")
        insert = text(
            "INSERT INTO outbox (kind, to_email, locale, subject, body, ics, ics_method, created_at, attempts,"
            " next_attempt_at, sent_at, last_error) VALUES ('confirmed', :to, 'ro', :subject, :body, :ics,"
            " :ics_method, '2026-11-02 07:00:00', 0, '2026-11-02 07:00:00', :sent_at, '')"
        )
        db.session.execute(insert, {**ROW, "to": "queued@uvt.example.org", "sent_at": None})
        db.session.execute(insert, {**ROW, "to": "sent@uvt.example.org", "sent_at": "2026-11-02 07:01:00"})
        db.session.commit()

        upgrade()
        rows = dict(db.session.execute(text("SELECT to_email, snapshot FROM outbox")).all())
        assert '"rendered"' in rows["queued@uvt.example.org"] and "Textul" in rows["queued@uvt.example.org"]
        assert rows["sent@uvt.example.org"] == "{}"  # already sent: nothing to keep
        db.session.commit()

        downgrade(revision="0012")
        back = db.session.execute(text("SELECT to_email, subject, body, ics, ics_method FROM outbox")).all()
        assert {row[0]: tuple(row[1:]) for row in back}["queued@uvt.example.org"] == tuple(ROW.values())
        db.session.commit()
        upgrade()
        db.session.remove()
        db.engine.dispose()
