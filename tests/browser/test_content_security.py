"""The Content-Security-Policy allows no inline script or style, so no page may carry any.

Every page of the accessibility audit (tests/browser/test_accessibility.py PAGES) is rendered and its HTML
read for inline `<script>`, `<style>`, `on…=` handlers and `style=` attributes; then Chromium loads each one
under the real policy and fails on any violation it reports, and the scripts moved into static files
(copy buttons, the Manage menu, the week calendar's placement) still do their work.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.browser import test_accessibility as audit
from tests.browser.conftest import sign_in

PAGES = audit.PAGES
scene = audit.scene  # the audit's data: bookings in every state, a feed, an event

pytestmark = pytest.mark.committed


@pytest.fixture(autouse=True)
def markup_does_not_depend_on_the_database(database: str) -> None:
    if not database.startswith("sqlite"):
        pytest.skip("markup is the same on both databases: it is read on SQLite only")


class InlineCode(HTMLParser):
    """Collects what the policy would block: inline scripts and styles, event handler and style attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style> element")
        self.found += [f"<{tag} {name}=…>" for name in sorted(names) if name.startswith("on") or name == "style"]


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize(
    "html, found",
    [
        ('<script src="/static/js/a.js"></script><p class="x">ok</p>', []),
        ("<script>alert(1)</script>", ["<script> without src"]),
        ('<button onclick="go()">', ["<button onclick=…>"]),
        ('<li style="top:1%">', ["<li style=…>"]),
        ("<style>p{}</style>", ["<style> element"]),
    ],
)
def test_the_reader_finds_inline_code(html, found):
    assert inline_code(html) == found


def test_no_page_carries_inline_script_or_style(scene, app):
    problems = []
    for audited in PAGES:
        path = audited.path.format_map(scene.ids)
        client = app.test_client()
        if audited.who:
            response = client.post("/login", data={"email": scene.users[audited.who], "password": scene.password})
            assert response.status_code == 302, audited
        for lang in ("ro", "en"):
            response = client.get(path, headers={"Accept-Language": lang})
            assert response.status_code == audited.status, (audited, response.status_code)
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
            problems += [f"{audited} [{lang}]: {found}" for found in inline_code(response.get_data(as_text=True))]
    assert not problems, "\n".join(problems)


# Recorded in the page before any of its own scripts run (Playwright's init scripts are not subject to CSP).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at line " + e.lineNumber);
});
"""


@pytest.mark.browser
def test_pages_load_in_chromium_without_a_policy_violation(scene, live_server, new_page):
    problems: list[str] = []
    pages = {}

    def report_console(who: str):
        def record(message) -> None:
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
                problems.append(f"{who}: console: {message.text}")

        return record

    for audited in PAGES:
        who = audited.who or "visitor"
        if who not in pages:
            page = new_page()
            page.add_init_script(RECORD_VIOLATIONS)
            page.on("console", report_console(who))
            if audited.who:
                sign_in(page, live_server, scene.users[audited.who], scene.password)
            pages[who] = page
        page = pages[who]
        response = page.goto(live_server + audited.path.format_map(scene.ids))
        assert response is not None and response.status == audited.status, audited
        page.wait_for_load_state("load")
        problems += [f"{audited}: {v}" for v in page.evaluate("() => window.__cspViolations")]
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_the_moved_scripts_and_styles_still_work(scene, live_server, new_page):
    page = new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    sign_in(page, live_server, scene.users["member.upt"], scene.password)

    # The week calendar places slots by class: the one-hour booking is one hour tall, drawn at 19:00.
    page.goto(f"{live_server}/resources/{scene.ids['upt-court-2']}?week=2026-11-02")
    day = page.locator('.week-day[data-day="2026-11-03"] .day-slots')
    booked = day.locator(".slot-booking")
    box, column = booked.bounding_box(), day.bounding_box()
    hours = page.locator(".hour-labels span")
    first_hour = int(hours.first.inner_text()[:2])
    hour_height = column["height"] / hours.count()
    assert box["height"] == pytest.approx(hour_height, abs=1.5)
    assert box["y"] - column["y"] == pytest.approx((19 - first_hour) * hour_height, abs=1.5)

    # The copy buttons of the calendar feed (static/js/copy.js).
    page.goto(f"{live_server}/bookings")
    copy = page.locator("button.copy").first
    copy.click()
    assert copy.get_attribute("aria-pressed") == "true"
    assert page.evaluate("() => window.__cspViolations") == []
