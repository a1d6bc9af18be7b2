"""What real-browser tests share: a live server and Debian's Chromium (as context managers,
which conftest's ``live_server`` and ``browser`` fixtures use), the app's settings as
served, a phone's screen, and reading back what the server wrote.

The app runs in a thread on a free local port against the test database;
Chromium is driven by Playwright (never ``playwright install``).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

from tests.factories import Factory

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# As served: CSRF protection on, links on the live server's own address.
SERVED = {"WTF_CSRF_ENABLED": True, "SERVER_NAME": None}
# A phone's screen, in CSS pixels.
PHONE = {"width": 390, "height": 844}


def served_app(**settings):
    """A module's ``app_overrides`` fixture: the app as served, with ``settings`` besides."""

    @pytest.fixture
    def app_overrides():
        return {**SERVED, **settings}

    return app_overrides


@contextmanager
def running(app):
    """The app served on 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def chromium():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def log_in(page, base_url: str, user) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", Factory.PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]:has-text('Log in')")
    assert "/login" not in page.url


def committed(session, read):
    """What ``read`` finds of what the server wrote, holding no SQLite lock while it works."""
    session.rollback()
    try:
        return read()
    finally:
        session.commit()


def fetch(session, model, *where) -> list:
    """The rows of ``model`` (oldest first) as the server left them, over any the session holds."""
    query = select(model).where(*where).order_by(model.id)
    return committed(
        session, lambda: list(session.scalars(query.execution_options(populate_existing=True)))
    )


def fits_the_screen(page, slack: int = 0) -> bool:
    """Whether the page needs no sideways scrolling (allowing ``slack`` CSS pixels over)."""
    return page.evaluate(f"document.documentElement.scrollWidth <= window.innerWidth + {slack}")
