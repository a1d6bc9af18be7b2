"""End to end in a real browser: scrolling to the end of the essay records a "read".

The app runs in a thread on a free local port against the test database, with
CSRF protection on; Debian's Chromium is driven by Playwright (never
``playwright install``). The read report travels the real way: the page's
script sees the end-of-essay marker, POSTs the signed token with the CSRF
token, and the exposure check page, opened by another member, says so.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from normhub.exposure.models import ExposureEvent
from tests.browser_helpers import committed, log_in, served_app

# Keep the reader's minimum time on the page short for the test.
app_overrides = served_app(EXPOSURE_MIN_READ_SECONDS=1)


def long_essay() -> str:
    paragraphs = [
        f"## Part {i}\n\nA figure without the count it was taken from tells the reader "
        "almost nothing, so every statistic quoted here comes with its base, its source "
        "and the date it was measured. This paragraph exists to make the essay long."
        for i in range(1, 41)
    ]
    return "\n\n".join(paragraphs)


def read_events(session, user, norm) -> list[ExposureEvent]:
    query = select(ExposureEvent).where(
        ExposureEvent.user_id == user.id,
        ExposureEvent.norm_id == norm.id,
        ExposureEvent.kind == "read",
    )
    return committed(session, lambda: list(session.scalars(query)))


def test_scrolling_to_the_end_reports_the_read(live_server, browser, session, factory):
    community = factory.community()
    author = factory.member(community, name="Ada Author")
    reader = factory.member(community, name="Rita Reader")
    checker = factory.member(community, name="Chris Checker")
    norm = factory.norm(community, author, title="Quote figures with their base", body=long_essay())
    session.commit()

    context = browser.new_context(viewport={"width": 1000, "height": 700})
    page = context.new_page()
    log_in(page, live_server, reader)
    page.goto(f"{live_server}/c/{community.slug}/norms/{norm.slug}")
    assert page.locator("#read-report").count() == 1
    marker_top = page.evaluate("document.getElementById('essay-end').getBoundingClientRect().top")
    assert marker_top > 700, "the essay must be longer than the window for this test to mean much"
    # Nothing is reported while the end of the essay has not been seen.
    page.wait_for_timeout(1500)
    assert read_events(session, reader, norm) == []

    with page.expect_response(lambda r: r.url.endswith("/read")) as reported:
        for _ in range(60):
            page.mouse.wheel(0, 600)
            page.wait_for_timeout(50)
    assert reported.value.status == 204
    page.wait_for_selector("#read-report[data-reported=true]", state="attached")
    assert "Noted" in page.text_content("#exposure-status")
    [event] = read_events(session, reader, norm)
    assert event.version_number == 1
    context.close()

    context = browser.new_context()
    page = context.new_page()
    log_in(page, live_server, checker)
    page.goto(
        f"{live_server}/exposure/check?community={community.slug}"
        f"&norm={norm.slug}&member={reader.id}"
    )
    with page.expect_navigation():
        page.click(".check-form button[type=submit]")
    assert re.search(r"/exposure/checks/\d+$", page.url), page.url
    answer = page.text_content("#check-answer")
    assert "Rita Reader read version 1. They have not said whether" in answer
    context.close()


def test_without_javascript_the_button_reports_the_read(live_server, browser, session, factory):
    community = factory.community()
    reader = factory.member(community, name="Nora Noscript")
    norm = factory.norm(community, body=long_essay())
    session.commit()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_server, reader)
    page.goto(f"{live_server}/c/{community.slug}/norms/{norm.slug}")
    page.mouse.wheel(0, 100_000)
    page.wait_for_timeout(1500)
    assert read_events(session, reader, norm) == []  # no script, no automatic report
    with page.expect_navigation():
        page.click("#read-report button[type=submit]")
    assert page.url.endswith(f"/norms/{norm.slug}#exposure")
    assert "Noted that you read this version" in page.content()
    assert len(read_events(session, reader, norm)) == 1
    context.close()
