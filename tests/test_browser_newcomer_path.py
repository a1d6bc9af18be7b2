"""The "Start here" page in real Chromium on a phone-wide screen (390 px): a visitor's and
a member's, with titles longer than the screen is wide, fit the width (no sideways
scrolling), raise no Content-Security-Policy violation, and mark the next norm."""

from __future__ import annotations

import pytest

from normhub.norms.services import set_prerequisites
from normhub.responses.services import record_response
from tests.browser_helpers import PHONE, log_in, served_app
from tests.test_browser_csp import Watcher
from tests.test_browser_home import FITS, LONG

app_overrides = served_app()


@pytest.fixture
def cafe(factory, session):
    community = factory.community()
    author = factory.member(community, name=f"Arno {LONG}")
    first = factory.norm(community, author, status="in_force", title=f"Unplug the {LONG} irons")
    second = factory.norm(community, author, status="in_force", title=f"Log the {LONG} repairs")
    set_prerequisites(session, second, author, [first])
    nia = factory.member(community, name="Nia Newcomer")
    record_response(session, first, nia, "yes", "endorse")
    session.commit()
    return community, nia, second


def test_the_path_fits_a_phone_for_a_visitor_and_a_member(live_server, browser, cafe):
    community, nia, second = cafe
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    watcher = Watcher(page)
    url = f"{live_server}/c/{community.slug}/start"
    try:
        watcher.visit(url)
        assert page.locator("#path-steps > li").count() == 2
        assert page.locator("#path-register-to-join").is_visible()
        fit = page.evaluate(FITS)
        assert fit["scroll"] <= fit["client"] == 390, fit

        log_in(page, live_server, nia)
        watcher.visit(url)
        assert page.text_content("#path-progress-count") == "1 of 2 read and understood"
        current = page.locator('#path-steps > li[aria-current="step"]')
        assert current.get_attribute("data-norm") == second.slug
        assert current.locator(".path-next-badge").is_visible()
        fit = page.evaluate(FITS)
        assert fit["scroll"] <= fit["client"] == 390, fit
    finally:
        context.close()
