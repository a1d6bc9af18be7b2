"""End to end in a real browser: reminding someone of a norm, checking first.

The app runs in a thread on a free local port against the test database, with
CSRF protection on; Debian's Chromium is driven by Playwright (never
``playwright install``). Both branches of the flow: someone who has not read
the norm gets it shared (and the ledger says "delivered"), someone who has
gets a reminder, which they read and answer after logging in themselves.
"""

from __future__ import annotations

import pytest

from normhub.discussion.services import post_comment
from normhub.exposure.ledger import record_event
from normhub.exposure.models import ExposureEvent, Reminder
from normhub.responses.services import record_response
from tests.browser_helpers import PHONE, fetch, fits_the_screen, log_in, served_app

app_overrides = served_app()


@pytest.fixture
def town(factory, session):
    community = factory.community()
    hannah = factory.member(community, name="Hannah Author")
    felix = factory.member(community, name="Felix Sender")
    rita = factory.member(community, name="Rita Newcomer")
    dana = factory.member(community, name="Dana Reader")
    norm = factory.norm(community, hannah, status="in_force", title="Quote figures with their base")
    record_event(session, dana, norm, 1, "read")
    record_response(session, norm, dana, "yes", "endorse")
    post_comment(session, norm, dana, "Figures without a base are fine by me.")
    session.commit()
    return {"community": community, "norm": norm, "felix": felix, "rita": rita, "dana": dana}


def test_sharing_with_someone_who_has_not_read_it(live_server, browser, session, town):
    norm, rita = town["norm"], town["rita"]
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    log_in(page, live_server, town["felix"])
    page.goto(f"{live_server}/c/{town['community'].slug}/norms/{norm.slug}")
    with page.expect_navigation():
        page.click("#remind-link")
    assert fits_the_screen(page)
    page.select_option("#remind-person", label="Rita Newcomer")
    with page.expect_navigation():
        page.click("#remind-check")
    assert page.get_attribute("#remind-action", "data-action") == "share"
    assert "has not read the text in force" in page.text_content("#remind-action")
    assert page.locator("text=Record the reminder").count() == 0
    assert fits_the_screen(page)
    page.fill("#remind-text", "Rita, this one is in force here; have a look.")
    with page.expect_navigation():
        page.click("#remind-submit")
    assert "Shared. Rita Newcomer gets an email" in page.content()
    assert "You shared this norm with Rita Newcomer" in page.text_content("#remind-done")

    [delivered] = fetch(
        session,
        ExposureEvent,
        ExposureEvent.user_id == rita.id,
        ExposureEvent.norm_id == norm.id,
        ExposureEvent.kind == "delivered",
    )
    assert (delivered.version_number, delivered.level) == (1, "delivered")
    [share] = fetch(session, Reminder)
    assert (share.kind, share.to_user_id, share.checked_found_exposed) == ("share", rita.id, False)
    assert share.note == "Rita, this one is in force here; have a look."
    context.close()


def test_reminding_someone_who_has_read_it_and_their_answer(live_server, browser, session, town):
    norm, dana = town["norm"], town["dana"]
    context = browser.new_context()
    page = context.new_page()
    log_in(page, live_server, town["felix"])
    page.goto(f"{live_server}/c/{town['community'].slug}/norms/{norm.slug}")
    # From Dana's comment: the person is chosen already.
    with page.expect_navigation():
        page.click("a.remind-author:has-text('Remind Dana Reader of this norm')")
    assert page.eval_on_selector("#remind-person", "el => el.selectedOptions[0].text") == (
        "Dana Reader"
    )
    with page.expect_navigation():
        page.click("#remind-check")
    assert page.get_attribute("#remind-action", "data-action") == "reminder"
    assert page.locator("text=Share it with them").count() == 0
    # The note is required: the server says so and keeps the page.
    with page.expect_navigation():
        page.click("#remind-submit")
    assert "Write a short note for them." in page.content()
    page.fill(
        "#remind-text", "Your comment says figures without a base are fine; the norm says not."
    )
    with page.expect_navigation():
        page.click("#remind-submit")
    assert "Your reminder is recorded." in page.content()
    [reminder] = fetch(session, Reminder)
    assert (reminder.kind, reminder.checked_found_exposed) == ("reminder", True)
    context.close()

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    log_in(page, live_server, dana)
    page.goto(f"{live_server}/exposure/reminders")
    item = page.locator(f"#reminder-{reminder.id}")
    assert "Felix Sender" in item.text_content()
    assert "the norm says not." in item.text_content()
    assert item.locator("a:has-text('Read it now')").get_attribute("href").endswith(norm.slug)
    assert fits_the_screen(page)
    item.locator("textarea").fill("You are right, I had not thought of the base.")
    with page.expect_navigation():
        item.locator("button:has-text('Send my answer')").click()
    assert "Your answer is saved." in page.content()
    assert "You are right" in page.text_content(f"#reminder-{reminder.id} .reminder-reply")
    [answered] = fetch(session, Reminder)
    assert answered.reply == "You are right, I had not thought of the base."
    assert answered.replied_at is not None
    context.close()
