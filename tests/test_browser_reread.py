"""A re-read, end to end in real Chromium on a phone-wide screen (390 px).

A member whose reading of a norm in force has aged past the community's
re-read period finds it back in their reading queue, opens it, and scrolling
to the end of the essay records a "reread" (the page's own script, with its
CSRF token); the queue is then clear. A steward gives the norm its own period
on the coverage page. Every page fits the width and raises no CSP violation.
"""

from __future__ import annotations

from sqlalchemy import select

from normhub.exposure.ledger import record_event
from normhub.exposure.models import ExposureEvent
from normhub.norms.models import Norm
from tests.browser_helpers import PHONE, committed, log_in, served_app
from tests.test_browser_csp import Watcher
from tests.test_browser_home import FITS
from tests.test_browser_read_report import long_essay
from tests.test_exposure_ageing import months_ago

app_overrides = served_app(EXPOSURE_MIN_READ_SECONDS=1)


def assert_fits(page) -> None:
    fit = page.evaluate(FITS)
    assert fit["scroll"] <= fit["client"] == 390, fit


def test_a_reading_that_aged_is_read_again_on_a_phone(live_server, browser, session, factory):
    community = factory.community(reread_months=12)
    author = factory.member(community, name="Ada Author")
    steward = factory.member(community, role="steward", name="Stella Steward")
    reader = factory.member(community, name="Rita Reader")
    norm = factory.norm(
        community,
        author,
        status="in_force",
        title="Quote figures with their base",
        body=long_essay(),
    )
    record_event(session, reader, norm, 1, "read", at=months_ago(14))
    session.commit()

    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    watcher = Watcher(page)
    try:
        log_in(page, live_server, reader)
        watcher.visit(f"{live_server}/queue")
        item = page.locator(".queue-item")
        assert item.count() == 1
        assert "Re-read asked." in item.text_content()
        assert "You last read it 14 months ago" in item.text_content()
        assert_fits(page)

        watcher.visit(f"{live_server}/c/{community.slug}/norms/{norm.slug}")
        assert "Re-read asked." in page.text_content("#exposure-status")
        assert_fits(page)
        with page.expect_response(lambda r: r.url.endswith("/read")) as reported:
            for _ in range(80):
                page.mouse.wheel(0, 600)
                page.wait_for_timeout(50)
        assert reported.value.status == 204
        kinds = committed(
            session,
            lambda: session.scalars(
                select(ExposureEvent.kind).where(
                    ExposureEvent.user_id == reader.id, ExposureEvent.norm_id == norm.id
                )
            ).all(),
        )
        assert "reread" in kinds
        watcher.visit(f"{live_server}/queue")
        assert page.locator(".queue-item").count() == 0

        context.close()
        context = browser.new_context(viewport=PHONE, is_mobile=True)
        page = context.new_page()
        watcher = Watcher(page)
        log_in(page, live_server, steward)
        watcher.visit(f"{live_server}/c/{community.slug}/norms/{norm.slug}/coverage")
        assert_fits(page)
        page.check("#reread-form input[value=months]")
        page.fill("#reread-form input[name=months]", "6")
        page.click("#reread-form button[type=submit]")
        page.wait_for_load_state("load")
        assert "This norm asks for a re-read every 6 months" in page.text_content(
            "#coverage-reread"
        )
        assert_fits(page)
        months = committed(
            session, lambda: session.scalar(select(Norm.reread_months).where(Norm.id == norm.id))
        )
        assert months == 6
    finally:
        context.close()
