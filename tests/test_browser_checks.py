"""In real Chromium: images in a comment record nothing; a check is made once, however
often its page is reloaded; the person checked reads it in the second person on a
phone-sized screen and replies; the checker reads the reply."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from normhub.discussion.services import post_comment
from normhub.exposure.models import ExposureCheck, ExposureEvent
from tests.browser_helpers import PHONE, committed, fits_the_screen, log_in, served_app

app_overrides = served_app()


def count(session, model, *where) -> int:
    query = select(func.count()).select_from(model).where(*where)
    return committed(session, lambda: session.scalar(query))


def opened(session, user, norm) -> int:
    return count(
        session,
        ExposureEvent,
        ExposureEvent.user_id == user.id,
        ExposureEvent.norm_id == norm.id,
        ExposureEvent.kind == "opened",
    )


def test_images_in_a_comment_record_nothing(live_server, browser, session, factory):
    community = factory.community()
    author = factory.member(community, name="Ada Author")
    reader = factory.member(community, name="Rita Reader")
    norm = factory.norm(community, author, title="Ask before forwarding")
    other = factory.norm(community, author, title="Say where a claim comes from")
    other_page = f"/c/{community.slug}/norms/{other.slug}"
    api_check = f"/api/v1/communities/{community.slug}/norms/{other.slug}/exposure/{author.id}"
    post_comment(session, norm, author, f"See ![the other norm]({other_page}) ![x]({api_check})")
    session.commit()

    context = browser.new_context()
    page = context.new_page()
    log_in(page, live_server, reader)
    loads = []
    page.on("requestfinished", lambda request: loads.append(request.url))
    page.goto(f"{live_server}/c/{community.slug}/norms/{norm.slug}")
    page.wait_for_load_state("networkidle")
    assert f"{live_server}{other_page}" in loads and f"{live_server}{api_check}" in loads
    assert opened(session, reader, norm) == 1  # the page she opened
    assert opened(session, reader, other) == 0  # the one an <img> loaded
    assert count(session, ExposureCheck) == 0  # no check made in her name
    page.goto(f"{live_server}{other_page}")
    assert opened(session, reader, other) == 1
    context.close()


def test_a_check_reloaded_and_replied_to(live_server, browser, session, factory):
    community = factory.community()
    felix = factory.member(community, name="Felix Moreau")
    charlie = factory.member(community, name="Charlie Subject")
    norm = factory.norm(community, felix, title="Ask before forwarding")
    session.commit()

    context = browser.new_context()
    page = context.new_page()
    log_in(page, live_server, felix)
    page.goto(
        f"{live_server}/exposure/check?community={community.slug}"
        f"&norm={norm.slug}&member={charlie.id}"
    )
    assert count(session, ExposureCheck) == 0  # the pre-filled form checks nothing
    page.fill("#note", "He forwarded the minutes to the whole street.")
    with page.expect_navigation():
        page.click(".check-form button[type=submit]")
    record_url = page.url
    assert re.search(r"/exposure/checks/\d+$", record_url), record_url
    assert "Charlie Subject has never opened this norm." in page.text_content("#check-answer")
    page.reload()
    page.go_back()
    page.go_forward()
    assert count(session, ExposureCheck) == 1
    context.close()

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.new_page()
    log_in(page, live_server, charlie)
    with page.expect_navigation():
        page.click("text=Checks about me")
    entry = page.locator(".check-about-me").first
    assert "Felix Moreau checked whether you had read Ask before forwarding" in " ".join(
        entry.inner_text().split()
    )
    assert "They were told: You haven't opened it yet." in entry.inner_text()
    assert fits_the_screen(page), "the page must fit a phone's width"
    entry.locator("summary:has-text('What they saw')").click()
    assert entry.locator(".check-stored-answer").is_visible()
    entry.locator("summary:has-text('Reply to Felix Moreau')").click()
    entry.locator("textarea").fill("I was away that week; I will read it today.")
    with page.expect_navigation():
        entry.locator("button:has-text('Send reply')").click()
    assert "Reply saved" in page.text_content(".flashes")
    assert "Your reply: “I was away that week" in page.text_content(".check-about-me")
    with page.expect_navigation():
        page.click(".check-about-me a.button:has-text('Read it now')")
    assert page.url.endswith(f"/c/{community.slug}/norms/{norm.slug}")
    assert opened(session, charlie, norm) == 1
    phone.close()

    context = browser.new_context()
    page = context.new_page()
    log_in(page, live_server, felix)
    page.goto(record_url)
    assert page.text_content("#check-reply").startswith("I was away that week")
    context.close()
