"""End to end in a real browser: a review from the notification to the recorded outcome.

The app runs in a thread on a free local port against the test database, with CSRF
protection on; Debian's Chromium is driven by Playwright. A member who responded to
a norm in force is told it is up for review, follows the notice from the bell, says
it worked but one assumption failed (on a phone-sized screen); the steward sees the
counts and the evidence and records "kept"; the norm page shows the outcome with the
failed assumption.
"""

from __future__ import annotations

from normhub.reviews.models import NormReview, ReviewAnswer
from tests.browser_helpers import PHONE, fetch, fits_the_screen, log_in, served_app
from tests.review_helpers import open_review_now, review_world

app_overrides = served_app()


def test_a_review_from_the_notification_to_the_recorded_outcome(
    live_server, browser, session, factory
):
    world = review_world(session, factory)
    review = open_review_now(session, world)
    slug, norm_slug = world.community.slug, world.norm.slug

    member = browser.new_context(viewport=PHONE).new_page()
    log_in(member, live_server, world.ana)
    assert "1 unread" in member.get_attribute("#bell", "aria-label")
    with member.expect_navigation():
        member.click("#bell")
    notice = member.locator("li.notification[data-kind=review] button.notification-open")
    assert "is up for review" in notice.text_content()
    with member.expect_navigation():
        notice.click()
    assert member.url.endswith(f"/c/{slug}/norms/{norm_slug}/reviews/{review.id}#answer")
    assert fits_the_screen(member)
    member.check("input[name=worked][value=held]")
    member.fill("input[name=evidence]", "Every decision was in the channel within a day.")
    member.check("input[name='assumptions-0-outcome'][value=held]")
    member.check("input[name='assumptions-1-outcome'][value=failed]")
    member.fill("input[name='assumptions-1-evidence']", "Two objections came after the quiet hour.")
    with member.expect_navigation():
        member.click("button:has-text('Save my answer')")
    assert "Your answer is recorded" in member.content()
    assert "(1 worked, 0 failed, 0 unclear)" in member.text_content("#tallies")
    assert fits_the_screen(member)  # the per-assumption table too
    [answer] = fetch(session, ReviewAnswer)
    assert (answer.user_id, answer.worked) == (world.ana.id, "held")
    assert [a.outcome for a in answer.assumption_answers] == ["held", "failed"]

    steward = browser.new_context().new_page()
    log_in(steward, live_server, world.steward)
    steward.goto(f"{live_server}/c/{slug}/norms/{norm_slug}")
    with steward.expect_navigation():
        steward.click("text=Did it work? Answer the review")
    assert "Two objections came after the quiet hour." in steward.text_content("#review-evidence")
    steward.check("input[name=outcome][value=kept]")
    steward.fill("textarea[name=note]", "It works; the quiet hour becomes two days.")
    with steward.expect_navigation():
        steward.click("button:has-text('Record the outcome')")
    assert "The review is decided: kept." in steward.content()
    assert steward.url.endswith(f"/c/{slug}/norms/{norm_slug}#review")
    panel = steward.text_content("#review")
    assert "Kept" in panel and "Next review:" in panel
    assert "A quiet hour after meetings is enough time to object.: failed" in " ".join(
        panel.split()
    )
    [decided] = fetch(session, NormReview)
    assert (decided.outcome, decided.decided_by_id) == ("kept", world.steward.id)

    member.goto(f"{live_server}/c/{slug}/norms/{norm_slug}")
    assert member.text_content("#review-last-outcome") == "Kept"
    assert fits_the_screen(member)
