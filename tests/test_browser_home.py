"""The home pages in real Chromium on a phone-wide screen (390 px): the visitor's and the
member's, with long names and titles in them, fit the width (no sideways scrolling) and
raise no Content-Security-Policy violation."""

from __future__ import annotations

import pytest

from normhub.discussion.services import post_comment
from normhub.exposure.ledger import record_event
from normhub.norms.services import revise_norm
from normhub.responses.services import record_response
from tests.browser_helpers import PHONE, log_in, served_app
from tests.test_browser_csp import Watcher

# Words longer than a phone is wide, where names and titles are shown.
LONG = "Neighbourhoodtoolshedandcommunityroomkeyholdersagreement"

FITS = """() => {
  const root = document.documentElement;
  const wide = [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > root.clientWidth + 0.5)
    .map((el) => el.tagName + "." + el.className + ": " + el.textContent.trim().slice(0, 40));
  return {scroll: root.scrollWidth, client: root.clientWidth, wide: wide.slice(0, 5)};
}"""


app_overrides = served_app()


@pytest.fixture
def estate(factory, session):
    community = factory.community()
    community.name = f"Riverside {LONG}"
    author = factory.member(community, name=f"Arno {LONG}")
    rita = factory.member(community, name="Rita Reader")
    in_force = factory.norm(community, author, title=f"Return the {LONG} keys")
    in_force.status, in_force.in_force_version_number = "in_force", 1
    read = factory.norm(community, author, title=f"Book the {LONG} room")
    record_event(session, rita, read, 1, "read")
    revise_norm(
        session, read, author, factory.draft(title=read.title, body="Now shorter."), "Cut.", True
    )
    for n in range(3):
        norm = factory.norm(community, author, title=f"Open rule {n} {LONG}")
        record_response(session, norm, factory.member(community), "yes", "endorse")
        post_comment(session, norm, author, f"@{rita.handle} what about {LONG}?")
    session.commit()
    return rita


def test_both_home_pages_fit_a_phone(live_server, browser, estate):
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    watcher = Watcher(page)
    try:
        watcher.visit(f"{live_server}/")
        assert page.locator("#example-in-force").count() == 1
        assert page.locator("#example-open").count() == 1
        fit = page.evaluate(FITS)
        assert fit["scroll"] <= fit["client"] == 390, fit

        log_in(page, live_server, estate)
        watcher.visit(f"{live_server}/")
        assert page.text_content("h1") == "What needs you"
        for section in ("#home-notifications", "#home-to-read", "#home-changed", "#home-activity"):
            assert page.locator(f"{section} li").count() > 0, section
        fit = page.evaluate(FITS)
        assert fit["scroll"] <= fit["client"] == 390, fit
    finally:
        context.close()
