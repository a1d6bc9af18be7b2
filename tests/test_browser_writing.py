"""Writing in a real browser (Debian's Chromium): an @mention chosen from the suggestions,
the preview, the draft, and the comment as saved.

One page walks it all, with CSRF on and the app's own headers: typing "@" and letters
in the comment box lists matching members (the keyboard moves through the list, Escape
closes it, Enter chooses); the preview shows the mention by name; a reload brings the
unsent text back; posting shows the comment, whose HTML is exactly the preview's, with
the confirmation next to it and focused, and the draft gone. On the way: the "I have
read this" button disappears once the read is recorded, the compact response form fits
a screen, a form sent back with errors puts the focus on the first of them, and logging
out forgets the drafts. Then the member mentioned logs in: the bell says 1, the notice
opens the comment, and the bell says 0.
"""

from __future__ import annotations

import pytest

from normhub.norms.services import AssumptionInput
from tests.browser_helpers import log_in, served_app
from tests.test_browser_csp import Watcher

app_overrides = served_app(EXPOSURE_MIN_READ_SECONDS=1)


@pytest.fixture
def scene(factory, session):
    community = factory.community()
    author = factory.member(community, name="Ada Author")
    writer = factory.member(community, name="Wren Writer")
    mira = factory.member(community, name="Mira Quist")
    factory.member(community, name="Miles Park")
    factory.member(factory.community(), name="Mina Elsewhere")  # another community's
    norm = factory.norm(
        community,
        author,
        title="Quote figures with their base",
        body="A figure without its base tells the reader almost nothing.",
        assumptions=[
            AssumptionInput("Most readers cannot check a number's base themselves."),
            AssumptionInput("Cherry-picked figures do lasting harm to trust."),
            AssumptionInput("Sources are easy to name."),
        ],
    )
    session.commit()
    return {"community": community, "norm": norm, "writer": writer, "mira": mira}


def options(page) -> list[str]:
    return page.locator(".mention-suggestions [role=option] .mention-name").all_text_contents()


def drafts(page) -> list[str]:
    return page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('normhub-draft:'))")


def draft_texts(page) -> list[str]:
    """Every text the kept drafts hold, whatever field they belong to."""
    return page.evaluate(
        "Object.keys(localStorage).filter(k => k.startsWith('normhub-draft:'))"
        ".flatMap(k => Object.values(JSON.parse(localStorage.getItem(k)).values))"
    )


def wait_until(page, condition, tries: int = 50) -> None:
    """Poll ``condition`` while the page's own timers run (wait_for_function's string
    predicate would be an eval, which the page's CSP refuses)."""
    for _ in range(tries):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError("the page never got there")


def test_mention_preview_draft_and_post(live_server, browser, scene):
    community, norm, mira = scene["community"], scene["norm"], scene["mira"]
    norm_url = f"{live_server}/c/{community.slug}/norms/{norm.slug}"
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    page = context.new_page()
    watcher = Watcher(page)
    log_in(page, live_server, scene["writer"])
    watcher.visit(norm_url)

    # The read is recorded by the page's script, and the button goes away.
    page.wait_for_selector("#read-report[data-reported=true]", state="attached")
    assert not page.locator("#read-report button").is_visible()

    # The compact response form: three assumptions fit in less than a screen.
    form_height = page.evaluate(
        "document.querySelector('.response-form').getBoundingClientRect().height"
    )
    assert form_height < 800, form_height

    # "@" and letters: the members of this community whose names match, by keyboard.
    # (The hint saying so shows only where the script runs.)
    assert page.locator("#comment-body-hint .mention-hint").is_visible()
    box = page.locator("#comment-body")
    box.click()
    page.keyboard.type("Thanks @mi")
    page.wait_for_selector(".mention-suggestions [role=option]")
    assert options(page) == ["Miles Park", "Mira Quist"]
    listbox_id = box.get_attribute("aria-controls")
    assert page.locator(f"#{listbox_id}").get_attribute("role") == "listbox"
    assert box.get_attribute("aria-autocomplete") == "list"
    first = box.get_attribute("aria-activedescendant")
    assert page.locator(f"#{first}").get_attribute("aria-selected") == "true"
    page.keyboard.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert page.locator(f"#{active}").get_attribute("data-handle") == mira.handle
    page.keyboard.press("Enter")
    assert not page.locator(".mention-suggestions").is_visible()
    assert box.input_value() == f"Thanks @{mira.handle} "
    # Escape closes the list and leaves the text as typed.
    page.keyboard.type("and @mil")
    page.wait_for_selector(".mention-suggestions [role=option]")
    page.keyboard.press("Escape")
    assert not page.locator(".mention-suggestions").is_visible()
    for _ in range(len("and @mil")):
        page.keyboard.press("Backspace")
    page.keyboard.type("for the **figures**.")
    typed = box.input_value()
    assert typed == f"Thanks @{mira.handle} for the **figures**."

    # The preview names the member, rendered by the server. Its button says which
    # text it previews: a page may hold several.
    label = page.inner_text("label[for=comment-body]").strip()
    preview = page.get_by_role("button", name=f"Preview {label}", exact=True)
    assert preview.count() == 1
    preview.click()
    page.wait_for_selector(".markdown-preview a.mention")
    preview_html = page.inner_html(".markdown-preview .preview-body").strip()
    assert "@Mira Quist" in page.inner_text(".markdown-preview")
    assert "<strong>figures</strong>" in preview_html

    # The draft survives a reload, and says so. (Drafts are saved a moment after
    # typing stops: wait for the whole text, not a half-typed save.)
    wait_until(page, lambda: typed in draft_texts(page))
    watcher.visit(norm_url)
    assert page.locator("#comment-body").input_value() == typed
    assert "Your unsent text is back" in page.inner_text(".comment-form .draft-note")

    # Posting: the comment as previewed, the confirmation beside it and focused.
    with page.expect_navigation():
        page.get_by_role("button", name="Post comment").click()
    assert "#comment-" in page.url
    comment_id = page.url.rsplit("#", 1)[1]
    body = page.locator(f"#{comment_id} .comment-body")
    assert body.inner_html().strip() == preview_html
    mention = body.locator("a.mention")
    assert mention.inner_text() == "@Mira Quist"
    assert mention.get_attribute("href") == f"/members/{mira.handle}"
    # (Once the browser has scrolled to the comment: page.js waits for that.)
    wait_until(page, lambda: "flashes" in page.evaluate("document.activeElement.className"))
    assert "Your comment is posted." in page.inner_text(".flashes")
    # The message sits right before the comment it is about.
    assert page.evaluate(
        f"document.querySelector('.flashes').nextElementSibling.id === '{comment_id}'"
    )
    assert drafts(page) == []
    assert page.locator(".comment-form .draft-note").count() == 0
    watcher.assert_clean("after posting")

    # A form sent back with errors: the focus is on the first field in error.
    watcher.visit(f"{live_server}/c/{community.slug}/norms/new")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    assert page.evaluate("document.activeElement.name") == "title"
    described = page.evaluate("document.activeElement.getAttribute('aria-describedby')")
    error_id = described.split()[-1]
    assert page.locator(f"#{error_id}").inner_text() != ""
    assert watcher.violations() == []  # (the console has the 400 of the page itself)
    watcher.console.clear()

    # Logging out forgets what this browser kept: the next person at it finds nothing.
    watcher.visit(norm_url)
    page.locator("#comment-body").fill("Half a thought")
    wait_until(page, lambda: drafts(page) != [])
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()
    assert drafts(page) == []

    # The member mentioned: the bell says 1, the notice lands on the comment, and is read.
    log_in(page, live_server, mira)
    assert page.locator("#bell .bell-count").inner_text() == "1"
    watcher.visit(f"{live_server}/notifications")
    notice = page.locator(".notification.unread[data-kind=mention]")
    assert "Wren Writer" in notice.inner_text()
    with page.expect_navigation():
        notice.locator("button.notification-open").click()
    assert page.url == f"{norm_url}#{comment_id}"
    assert page.locator(f"#{comment_id} a.mention").inner_text() == "@Mira Quist"
    assert page.locator("#bell").get_attribute("aria-label") == "Notifications, 0 unread"
    assert page.locator("#bell .bell-count").count() == 0
    watcher.assert_clean("after opening the notice")
    context.close()
