"""One text policy for the API and the pages: a single line holds no control character and no line or
paragraph separator; descriptions may hold line feeds. And text stored before the policy is made safe at
the edges: mail headers, CSV cells, filenames."""

from email import policy
from email.parser import BytesParser

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select

from app.extensions import db
from app.filenames import content_disposition
from app.validation import one_line, paragraphs, text
from bookings.models import Booking
from bookings.statements import csv_cell
from notifications import mails
from notifications.models import OutboxMessage
from tests.conftest import ENGLISH

D = "2026-11-10"
SEPARATORS = ["\n", "\r", "\r\n", "\x85", "\u2028", "\u2029", "\x00", "\t", "\x0b", "\x0c", "\x1b", "\x7f", "\x9b"]
SINGLE = TypeAdapter(text(200))
MULTI = TypeAdapter(paragraphs(200))

# Every C0/C1 control character and the two Unicode separators.
breaking = st.sampled_from([chr(c) for c in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]])
printable = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=150)


@given(before=st.text(max_size=40), bad=breaking, after=st.text(max_size=40))
def test_any_separator_or_control_character_is_refused_on_one_line(before, bad, after):
    with pytest.raises(ValidationError) as refused:
        SINGLE.validate_python(before + bad + after)
    assert refused.value.errors()[0]["type"] in ("single_line", "string_too_long")


@given(printable)
def test_any_printable_text_within_limits_is_kept(value):
    assert SINGLE.validate_python(value) == value.strip()


@given(before=printable, after=printable)
def test_descriptions_keep_line_feeds_and_read_crlf_as_one(before, after):
    assert MULTI.validate_python(f"{before}\r\n{after}") == f"{before}\n{after}".strip()
    with pytest.raises(ValidationError):
        MULTI.validate_python(f"{before}\u2028{after}")


# --- the API --------------------------------------------------------------------------------------


@pytest.fixture
def lab(make_resource):
    return make_resource()


def _refused(response, field):
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json"
    assert field in {e["field"] for e in response.get_json()["errors"]}, response.get_json()


@pytest.mark.parametrize("bad", SEPARATORS)
def test_api_booking_title_on_create_and_patch(api, lab, bad):
    body = {"resource_id": lab.id, "start": f"{D}T10:00", "end": f"{D}T11:00"}
    _refused(api.post("/api/v1/bookings", {**body, "title": f"Sesiune{bad}Bcc: x@evil.example"}), "title")
    assert db.session.scalar(select(func.count(Booking.id))) == 0
    booking = api.book(lab, f"{D}T10:00", f"{D}T11:00")
    _refused(api.patch(f"/api/v1/bookings/{booking['id']}", {"title": f"a{bad}b"}), "title")
    _refused(api.patch(f"/api/v1/bookings/{booking['id']}", {"project_code": f"P{bad}1"}), "project_code")
    _refused(api.post("/api/v1/waitlist", {**body, "title": f"a{bad}b"}), "title")


def test_api_other_single_line_fields(api_for, make_user, lab):
    admin = api_for(make_user("UVT", "admin"))
    member = make_user("UVT")
    bad = "x\u2028y"
    _refused(admin.post("/api/v1/sites", {"institution": "UVT", "name": bad}), "name")
    _refused(admin.post("/api/v1/sites", {"institution": "UVT", "name": "S", "address": "a\rb"}), "address")
    _refused(admin.patch(f"/api/v1/resources/{lab.id}", {"name": bad}), "name")
    _refused(admin.patch(f"/api/v1/resources/{lab.id}", {"name_en": "a\x00"}), "name_en")
    block = {"start": f"{D}T10:00", "end": f"{D}T11:00", "reason": "a\nb"}
    _refused(admin.post(f"/api/v1/resources/{lab.id}/blocks", block), "reason")
    _refused(admin.patch(f"/api/v1/users/{member.id}", {"full_name": "Ana\nBcc: x"}), "full_name")
    _refused(admin.post(f"/api/v1/resources/{lab.id}/authorizations", {"email": "a@b.ro\n"}), "email")
    _refused(admin.post(f"/api/v1/resources/{lab.id}/imports", {"url": "https://x.example/\r\nH: v"}), "url")
    item = {"resource_id": lab.id, "start": f"{D}T10:00", "end": f"{D}T11:00"}
    _refused(admin.post("/api/v1/events", {"title": "E\u2029", "items": [item]}), "title")
    _refused(
        admin.post("/api/v1/events", {"title": "E", "organisers": ["a\x00@b.ro"], "items": [item]}), "organisers.0"
    )
    _refused(admin.post("/api/v1/events", {"title": "E", "description": "a\u2028b", "items": [item]}), "description")


def test_api_decision_reason_is_one_line(api_for, make_user, make_resource):
    lab = make_resource(approval="all")
    booking = api_for(make_user("UVT")).book(lab, f"{D}T10:00", f"{D}T11:00")
    manager = api_for(make_user("UVT", "admin"))
    _refused(manager.post(f"/api/v1/bookings/{booking['id']}/reject", {"reason": "no\r\nBcc: x"}), "reason")


def test_api_descriptions_keep_line_feeds(api_for, make_user, lab):
    admin = api_for(make_user("UVT", "admin"))
    item = {"resource_id": lab.id, "start": f"{D}T10:00", "end": f"{D}T11:00"}
    created = admin.post("/api/v1/events", {"title": "E", "description": "one\r\ntwo\nthree", "items": [item]})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["description"] == "one\ntwo\nthree"
    changed = admin.patch(f"/api/v1/resources/{lab.id}", {"description_en": "a\nb"})
    assert changed.status_code == 200 and changed.get_json()["description_en"] == "a\nb"


def test_api_query_text_with_nul_is_a_422(api_for, make_user):
    admin = api_for(make_user("UVT", "admin"))
    _refused(admin.get("/api/v1/users?q=a%00b"), "q")
    _refused(admin.get("/api/v1/sites?institution=U%00"), "institution")
    _refused(admin.get("/api/v1/resources?feature=a%00"), "feature")


# --- the pages ------------------------------------------------------------------------------------


@pytest.fixture
def signed_in(client, auth, make_user):
    user = make_user("UVT", "admin")
    auth.login(user.email)
    return user


@pytest.mark.parametrize("bad", ["\r", "\x00", "\n", "\u2028", "\x85"])
def test_page_booking_title(client, signed_in, lab, bad):
    data = {"title": f"Laborator{bad}x", "date": D, "start_time": "10:00", "end_time": "12:00", "units": "1"}
    response = client.post(f"/resources/{lab.id}/book", data=data, headers=ENGLISH)
    assert response.status_code == 422
    assert "Must be a single line" in response.text
    assert db.session.scalar(select(func.count(Booking.id))) == 0


@pytest.mark.parametrize("bad", ["\r", "\x00"])
def test_page_optional_field_with_only_a_bad_character(client, signed_in, lab, bad):
    data = {"title": "Lab", "project_code": bad, "date": D, "start_time": "10:00", "end_time": "12:00", "units": "1"}
    response = client.post(f"/resources/{lab.id}/book", data=data, headers=ENGLISH)
    assert response.status_code == 422 and "Must be a single line" in response.text


def test_page_event_title_and_description(client, signed_in, lab):
    data = {
        "title": "Zi\x00deschisă",
        "description": "ok",
        "items-0-resource_id": str(lab.id),
        "items-0-date": D,
        "items-0-start_time": "10:00",
        "items-0-end_time": "11:00",
    }
    response = client.post("/events/new", data=data, headers=ENGLISH)
    assert response.status_code in (200, 422) and "Must be a single line" in response.text
    data = {**data, "title": "Zi", "description": "a\u2028b"}
    response = client.post("/events/new", data=data, headers=ENGLISH)
    assert response.status_code in (200, 422) and "line breaks" in response.text


def test_every_page_form_follows_the_policy():
    import accounts.forms, bookings.forms, events.forms, resources.forms  # noqa: E401, F401, I001
    from flask_wtf import FlaskForm
    from wtforms import Form as PlainForm

    from app.forms import Form, Subform

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    forms = [
        c
        for c in subclasses(PlainForm)
        if c not in (FlaskForm, Form, Subform)
        and c.__module__.split(".")[0] in ("accounts", "bookings", "events", "resources", "calendars", "notifications")
    ]
    assert len(forms) >= 10
    assert [f.__name__ for f in forms if not issubclass(f, (Form, Subform))] == []


# --- the edges ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", SEPARATORS)
def test_one_line_leaves_no_separator(bad):
    assert one_line(f" a{bad}b ") == "a b" or one_line(f" a{bad}b ") == "a b"
    assert "\n" not in one_line(f"a{bad}{bad}b")


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("a\nb", "a b"),
        ("UVT", "UVT"),
        (12, 12),
    ],
)
def test_csv_cells_are_never_formulas(value, cell):
    assert csv_cell(value) == cell


def test_content_disposition_filenames():
    assert (
        content_disposition("attachment", "atu-statement-2026-01.csv")
        == 'attachment; filename="atu-statement-2026-01.csv"'
    )
    header = content_disposition("attachment", 'a"\r\nSet-Cookie: x=1;ă.csv')
    assert "\r" not in header and "\n" not in header
    assert header.startswith("attachment; filename=\"a_ Set-Cookie_ x_1__.csv\"; filename*=UTF-8''")
    assert "%C4%83.csv" in header


def test_a_legacy_title_with_a_line_break_still_makes_a_mail(app, monkeypatch):
    # The subject is built from a title stored before the policy (the .ics is the feeds' business).
    monkeypatch.setattr(
        mails, "compose", lambda message: mails.Mail("Booking confirmed: a\nBcc: victim@example.org\u2028x", "body")
    )
    row = OutboxMessage(to_email="member@uvt.example.org", locale="en", kind="confirmed")
    parsed = BytesParser(policy=policy.default).parsebytes(mails.build_email(row, "atu@example.org").as_bytes())
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "Booking confirmed: a Bcc: victim@example.org x"


@pytest.mark.parametrize(
    "url",
    [
        "/manage/resources?q=a%00b",
        "/resources?q=a%00",
        "/resources?institution=U%00",
        "/search?q=a%00&date=2026-11-10&start=10:00&end=11:00",
        "/timeline?institution=U%00",
        "/statements?month=a%00",
    ],
)
def test_pages_with_a_nul_in_the_address_answer(client, signed_in, lab, url):
    assert client.get(url, headers=ENGLISH).status_code < 500  # the manager's search was a 500 on PostgreSQL
