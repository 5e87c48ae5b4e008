"""Real-browser fixtures: the app served on a free port, and headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import keeps_committed_data

CHROMIUM = "chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
# Fail fast: a local server answers in milliseconds, Playwright waits 30 s by default.
TIMEOUT_MS = 10_000


@pytest.fixture
def live_server(app: Flask, request: pytest.FixtureRequest) -> Iterator[str]:
    """The test's app on 127.0.0.1 and a free port, in a daemon thread; yields the base URL."""
    if not keeps_committed_data(request):
        pytest.fail("a live server reads through its own connections: mark the test @pytest.mark.committed")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # Polled every 50 ms, not 0.5 s, so shutdown() at teardown returns at once.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = shutil.which(CHROMIUM)
    if executable is None:
        pytest.skip("browser tests need Chromium: `chromium` is not on PATH (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(browser, request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """Open a page in a fresh context (English, desktop size unless overridden).

    At teardown the last page opened is saved to test-output/screenshots/<test name>.png.
    """
    contexts: list[Any] = []
    pages: list[Any] = []

    def open_page(**options: Any):
        options = {"locale": "en-US", "viewport": {"width": 1280, "height": 800}, **options}
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        pages.append(page)
        return page

    yield open_page

    try:
        if pages and not pages[-1].is_closed():
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^\w.\[\]-]+", "_", request.node.name)
            pages[-1].screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(new_page):
    """A desktop page (1280x800) with an English browser (Accept-Language: en-US)."""
    return new_page()


# axe-core (Deque's accessibility engine, npm package in tests/js) audits pages against WCAG 2.1 A and AA.
AXE_JS = Path(__file__).resolve().parents[1] / "js" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}


def _first_reason(node: dict[str, Any]) -> str:
    lines = [line.strip() for line in node.get("failureSummary", "").splitlines()]
    return next((line for line in lines if line and not line.startswith("Fix ")), "")


def format_violations(violations: list[dict[str, Any]], label: str = "") -> list[str]:
    """One readable paragraph per violation: rule, impact, help and the offending nodes."""
    lines = []
    for v in violations:
        nodes = "\n".join(f"      {', '.join(map(str, n['target']))}: {_first_reason(n)}" for n in v["nodes"][:8])
        more = f"\n      … and {len(v['nodes']) - 8} more" if len(v["nodes"]) > 8 else ""
        lines.append(f"{label}[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})\n{nodes}{more}")
    return lines


@pytest.fixture
def axe() -> Callable[..., list[str]]:
    """axe(page, label="") runs axe-core on the page as it is now; returns the serious or critical violations."""

    if not AXE_JS.exists():
        pytest.skip("accessibility audits need axe-core: run `npm ci` in tests/js (make test does it)")

    def audit(page: Any, label: str = "") -> list[str]:
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated through the DevTools protocol: a <script> tag would be inline code, which the
            # pages' Content-Security-Policy refuses.
            page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
            AXE_TAGS,
        )
        return format_violations([v for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS], label)

    return audit


@pytest.fixture
def assert_accessible(axe: Callable[..., list[str]]) -> Callable[..., None]:
    def check(page: Any, label: str = "") -> None:
        problems = axe(page, label)
        assert not problems, f"accessibility violations on {page.url}:\n" + "\n".join(problems)

    return check


def overflow_x(page: Any) -> dict[str, int] | None:
    """The page's widths when it scrolls sideways, else None."""
    sizes = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})"
    )
    return sizes if sizes["scroll"] > sizes["client"] else None


def sign_in(page: Any, base_url: str, email: str, password: str, language: str = "en") -> None:
    """Sign in through the real form endpoint with the page's own cookie jar (no page load).

    The welcome message is flashed in `language`, so pass the page's language.
    """
    response = page.request.post(
        f"{base_url}/login",
        form={"email": email, "password": password},
        headers={"Accept-Language": language},
        max_redirects=0,
    )
    assert response.status == 302, f"sign-in as {email} failed: {response.status}"


class Demo:
    """The demo catalogue and accounts, loaded into the test's database."""

    password = "atu-demo-2026"

    def __init__(self) -> None:
        from sqlalchemy import select

        from app.extensions import db
        from resources.demo import load_demo, read_catalogue
        from resources.models import Resource

        load_demo()
        db.session.commit()
        demo = read_catalogue()
        by_name = {r.name: r.id for r in db.session.scalars(select(Resource))}
        self.ids = {entry.key: by_name[entry.settings.name] for entry in demo.resources}
        self.users = {f"{u.role}.{u.institution.lower()}": u.email for u in demo.users}
        assert self.password == demo.password

    def user(self, key: str):
        from accounts.services import find_user_by_email

        return find_user_by_email(self.users[key])


@pytest.fixture
def demo(app: Flask) -> Demo:
    return Demo()
