"""Accessibility audit: every main page through axe-core (WCAG 2.1 A and AA), in Romanian and English, on a
desktop and a phone, as a visitor and signed in; and no sideways scrolling at 360 px.

To audit a new page, add a line to PAGES: the path (``{key}`` is the id of that demo resource) and who is
signed in (None, or a demo account such as "member.upt", "manager.umft", "admin.uvt").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pytest
from sqlalchemy import select

from app import clock
from app.extensions import db
from bookings import services as bookings
from bookings.waitlist import join_waitlist
from calendars import services as calendars
from events.services import Item, create_event
from notifications.models import OutboxMessage
from tests.browser.conftest import overflow_x, sign_in

# The live server answers from its own thread and connections: the data must be committed.
pytestmark = [pytest.mark.browser, pytest.mark.committed]


@dataclass(frozen=True)
class Audited:
    path: str
    who: str | None = None
    status: int = 200  # what the page answers: an error page audited by mistake fails here

    def __str__(self) -> str:
        return f"{self.who or 'visitor'}:{self.path}"


PAGES = [
    Audited("/"),
    Audited("/resources"),
    Audited("/resources?kind=sports&institution=UMFT&min_capacity=2"),
    Audited("/resources?q=nimic-de-gasit"),  # no results
    Audited("/resources?date=2026-11-10&start_time=12:00&end_time=10:00", status=422),  # a form with errors
    Audited("/resources/{uvt-sports-hall}"),  # a visitor sees public resources only
    Audited("/resources/{umft-aula-magna}"),
    Audited("/login"),
    Audited("/login?next=/bookings"),
    Audited("/resources/999999", status=404),  # the 404 page
    Audited("/resources/999999", "member.upt", 404),
    Audited("/statements", "member.upt", 403),  # the 403 page
    Audited("/", "member.upt"),
    Audited("/resources?page=2", "member.upt"),  # every alliance resource: pagination
    Audited("/resources/{umft-sim-centre}", "member.upt"),
    Audited("/resources/{upt-court-1}", "member.upt"),
    Audited("/resources/{umft-dorm-double}", "member.upt"),
    Audited("/bookings", "member.upt"),
    Audited("/resources/{umft-lab-cell-culture}", "manager.umft"),
    Audited("/approvals", "manager.umft"),
    Audited("/approvals", "manager.usvt"),  # nothing to decide
    Audited("/statements", "manager.umft"),
    Audited("/statements?month=2020-13", "manager.umft"),  # refused month, flashed error
    Audited("/reports?from=2026-11-02&to=2026-11-08", "manager.umft"),  # the occupancy chart and its tables
    Audited("/reports?from=2026-11-02&to=2026-11-08&group_by=institution", "admin.uvt"),
    Audited("/reports?from=2026-11-08&to=2026-11-02", "manager.umft", 422),  # a refused period at its field
    Audited("/bookings", "manager.umft"),  # nothing booked
    # Search results, the week calendar and the day timeline
    Audited("/?kind=room&date=2026-11-10&start_time=10:00&end_time=12:00"),
    Audited("/?kind=sports&date=2026-11-03&start_time=18:00&end_time=19:00", "member.upt"),  # some taken
    Audited("/resources/{upt-court-2}?week=2026-11-02", "member.upt"),
    Audited("/timeline?date=2026-11-03&kind=sports"),
    Audited("/timeline?date=2026-11-03", "member.upt"),
    Audited("/bookings/{tennis-booking}/reschedule", "member.upt"),
    # Joint events
    Audited("/events"),
    Audited("/events/{symposium}"),
    Audited("/events/{symposium}", "member.upt"),  # the organiser: statuses, accommodation
    Audited("/events/new", "member.upt"),
    Audited("/events/{symposium}/edit", "member.upt"),
    # Managers and admins
    Audited("/manage/resources", "manager.umft"),
    Audited("/manage/resources/new", "manager.umft"),
    Audited("/manage/resources/{umft-sim-centre}/edit", "manager.umft"),
    Audited("/manage/resources/{umft-sim-centre}/blocks", "manager.umft"),
    Audited("/manage/resources/{umft-sim-centre}/imports", "manager.umft"),
    Audited("/manage/resources/{umft-confocal}/authorisations", "manager.umft"),
    Audited("/admin/users", "admin.uvt"),
    Audited("/admin/users/new", "admin.uvt"),
    Audited("/admin/users/{member-upt-user}", "admin.uvt"),
    Audited("/admin/mail", "admin.uvt"),  # a parked mail with its error and a retry
    Audited("/admin/mail?state=queued", "admin.uvt"),
]

LANGUAGES = {"ro": "ro-RO", "en": "en-US"}
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
NARROWEST = {"width": 360, "height": 740}


@pytest.fixture(autouse=True)
def markup_does_not_depend_on_the_database(database: str) -> None:
    if not database.startswith("sqlite"):
        pytest.skip("the audit reads markup, which is the same on both databases: it runs on SQLite only")


def book(user, resource_id: int, start: str, end: str, title: str, **fields):
    booking, _ = bookings.create_booking(
        user,
        resource_id=resource_id,
        start=datetime.fromisoformat(start),
        end=datetime.fromisoformat(end),
        title=title,
        now=clock.now(),
        **fields,
    )
    return booking


@pytest.fixture
def scene(demo):
    """Pages with content in every state: pending, confirmed and cancelled bookings, a waitlist, a feed, a statement."""
    researcher = demo.user("member.upt")
    book(
        researcher,
        demo.ids["umft-sim-centre"],
        "2026-11-10T10:00",
        "2026-11-10T12:00",
        "Simulare clinică",
        recurrence="FREQ=WEEKLY;COUNT=4",
    )
    tennis = book(researcher, demo.ids["upt-court-1"], "2026-11-03T18:00", "2026-11-03T19:00", "Tenis")
    football = book(researcher, demo.ids["upt-football"], "2026-11-04T18:00", "2026-11-04T20:00", "Fotbal")
    bookings.cancel_booking(researcher, football.id, occurrence_id=None, following=False, now=clock.now())
    book(researcher, demo.ids["umft-court-1"], "2026-11-05T17:00", "2026-11-05T18:00", "Baschet")
    calendars.create_feed(researcher, "mine")
    book(demo.user("member.umft"), demo.ids["upt-court-2"], "2026-11-03T19:00", "2026-11-03T20:00", "Volei")
    join_waitlist(
        researcher,
        resource_id=demo.ids["upt-court-2"],
        start=datetime(2026, 11, 3, 19),
        end=datetime(2026, 11, 3, 20),
        title="Volei",
        now=clock.now(),
    )
    symposium = create_event(
        researcher,
        title="Simpozion ATU",
        visibility="public",
        now=clock.now(),
        items=[
            Item(
                demo.ids["umft-aula-magna"], datetime(2026, 11, 12, 9), datetime(2026, 11, 12, 13), title="Deschidere"
            ),
            Item(demo.ids["umft-seminar"], datetime(2026, 11, 12, 14), datetime(2026, 11, 12, 17)),
            Item(demo.ids["usvt-dorm-quad"], date(2026, 11, 11), date(2026, 11, 13), units=2),
        ],
    )
    parked = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
    parked.set_aside_at, parked.last_error = clock.now(), "refused: (550, b'5.1.1 no such user')"
    db.session.commit()
    demo.ids["tennis-booking"] = tennis.id
    demo.ids["symposium"] = symposium.id
    demo.ids["member-upt-user"] = researcher.id
    return demo


@pytest.mark.parametrize("audited", PAGES, ids=str)
def test_page_is_accessible_in_both_languages_on_desktop_and_phone(scene, live_server, new_page, axe, audited):
    path = audited.path.format_map(scene.ids)
    problems: list[str] = []
    for lang, locale in LANGUAGES.items():
        page = new_page(locale=locale, viewport=VIEWPORTS["desktop"])
        if audited.who:
            sign_in(page, live_server, scene.users[audited.who], scene.password, lang)
        response = page.goto(live_server + path)
        assert response is not None and response.status == audited.status, (path, response and response.status)
        assert page.locator("html").get_attribute("lang") == lang
        for name, size in VIEWPORTS.items():
            page.set_viewport_size(size)
            problems += axe(page, f"{lang} {name}: ")
        page.set_viewport_size(NARROWEST)
        if sizes := overflow_x(page):
            problems.append(f"{lang} 360 px: scrolls sideways, {sizes}")
    assert not problems, f"{audited} ({path}):\n" + "\n".join(problems)
