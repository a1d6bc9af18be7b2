"""A long thread in a real browser (Debian's Chromium): "More comments" adds the next
page in place, with the focus on its first comment; an old link to a comment by its
anchor on the norm page lands on the page that shows it. No CSP complaint on the way."""

from __future__ import annotations

import pytest

from normhub.discussion.services import post_comment
from normhub.discussion.threads import COMMENTS_PER_PAGE
from tests.test_browser_csp import Watcher


@pytest.fixture
def app_overrides():
    return {"SERVER_NAME": None, "RATELIMIT_ENABLED": False}


@pytest.fixture
def long_thread(session, factory):
    community = factory.community()
    norm = factory.norm(community, title="Talked about at length")
    member = factory.member(community, name="Tess Talker")
    comments = [
        post_comment(session, norm, member, f"Point **{n}**.") for n in range(COMMENTS_PER_PAGE + 5)
    ]
    session.commit()
    return f"/c/{community.slug}/norms/{norm.slug}", comments


def test_more_comments_come_in_place_and_old_anchors_find_their_page(
    live_server, browser, long_thread
):
    path, comments = long_thread
    page = browser.new_page()
    watcher = Watcher(page)
    watcher.visit(f"{live_server}{path}")
    assert page.locator("article.comment").count() == COMMENTS_PER_PAGE

    page.click("a[data-more-comments]")
    last = page.locator(f"#comment-{comments[-1].id}")
    last.wait_for()
    assert page.url == f"{live_server}{path}"  # no navigation: added in place
    assert page.locator("article.comment").count() == len(comments)
    assert page.locator("a[data-more-comments]").count() == 0
    first_added = f"comment-{comments[COMMENTS_PER_PAGE].id}"
    assert page.evaluate("document.activeElement.id") == first_added
    assert last.locator(".comment-body strong").inner_text() == str(len(comments) - 1)
    watcher.assert_clean("after More comments")

    # A link from before threads had pages: the norm page at the comment's anchor.
    page.goto("about:blank")
    page.goto(f"{live_server}{path}#comment-{comments[-1].id}")
    page.wait_for_url(f"**/comments?page=2#comment-{comments[-1].id}")
    assert page.locator(f"#comment-{comments[-1].id}").is_visible()
    page.close()
