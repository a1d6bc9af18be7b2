"""The Content-Security-Policy in a real browser: the app's own pages break none of it.

Debian's Chromium (through Playwright, as in test_browser_read_report.py) visits the
key pages of a signed-in member with the app's headers as served. A script added
before any page script records every ``securitypolicyviolation`` event, and the
console is watched for the browser's own complaints (refused styles or scripts, an
unknown Permissions-Policy feature). The read report still travels under the
policy, the stylesheet still applies, the digest preview shows the email's inline
styles, and a violation put in on purpose is caught, so silence means something.
"""

from __future__ import annotations

from normhub.responses.services import record_response
from tests import test_browser_read_report as reading
from tests.browser_helpers import log_in

# The same settings as the read-report test (Chromium and the live server come from conftest).
app_overrides = reading.app_overrides

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push({
    directive: event.violatedDirective,
    blocked: event.blockedURI,
    sample: event.sample,
    page: event.documentURI
  });
});
"""


class Watcher:
    """A page's CSP violations and console complaints, page by page."""

    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)

    def _console(self, message) -> None:
        # The browser asks for /favicon.ico on its own; the app has none (a 404, not CSP).
        if message.location.get("url", "").endswith("/favicon.ico"):
            return
        if message.type in ("error", "warning"):
            self.console.append(f"{message.type}: {message.text}")

    def violations(self) -> list[dict]:
        return self.page.evaluate("window.__violations")

    def visit(self, url: str) -> None:
        response = self.page.goto(url)
        assert response.status == 200, url
        self.page.wait_for_load_state("load")
        self.assert_clean(url)

    def assert_clean(self, where: str) -> None:
        assert self.violations() == [], where
        assert self.console == [], where
        # The stylesheet applied (style-src 'self' lets it in): the brand is bold.
        weight = self.page.evaluate("getComputedStyle(document.querySelector('.brand')).fontWeight")
        assert weight == "700", where


def test_key_pages_raise_no_csp_violation_and_the_read_report_works(
    live_server, browser, session, factory
):
    community = factory.community()
    steward = factory.member(community, role="steward", name="Stella Steward")
    reader = factory.member(community, name="Rita Reader")
    norm = factory.norm(
        community, steward, title="Quote figures with their base", body=reading.long_essay()
    )
    for answer in ("yes", "partly", "no"):
        record_response(session, norm, factory.member(community), answer, "endorse")
    session.commit()
    norm_url = f"{live_server}/c/{community.slug}/norms/{norm.slug}"

    context = browser.new_context(viewport={"width": 1000, "height": 700})
    page = context.new_page()
    watcher = Watcher(page)
    watcher.visit(f"{live_server}/")
    log_in(page, live_server, reader)
    watcher.assert_clean("after logging in")
    watcher.visit(f"{live_server}/c/{community.slug}")

    # The norm page: its script reports the read once the end of the essay is seen.
    # The reader has not answered: they ask to see how others did (the tallies' bars).
    watcher.visit(f"{norm_url}?tallies=1")
    assert page.locator("#read-report").count() == 1
    tally_bar = page.evaluate(
        "document.querySelector('.tally-yes .bar rect').getBoundingClientRect().width"
    )
    assert tally_bar > 0  # one in three said yes: the bar is drawn without a style attribute
    with page.expect_response(lambda r: r.url.endswith("/read")) as reported:
        for _ in range(60):
            page.mouse.wheel(0, 600)
            page.wait_for_timeout(50)
    assert reported.value.status == 204
    page.wait_for_selector("#read-report[data-reported=true]", state="attached")
    assert "Noted" in page.text_content("#exposure-status")
    assert [event.version_number for event in reading.read_events(session, reader, norm)] == [1]
    watcher.assert_clean("after the read report")

    watcher.visit(
        f"{live_server}/exposure/check?community={community.slug}"
        f"&norm={norm.slug}&member={reader.id}"
    )
    # The form comes filled in; the check itself is a POST, then its record's page.
    with page.expect_navigation():
        page.click("form.check-form button[type=submit]")
    page.wait_for_load_state("load")
    watcher.assert_clean("the check's record")
    assert "Rita Reader read version 1" in page.text_content("#check-answer")
    watcher.visit(f"{norm_url}/coverage")
    watcher.visit(f"{live_server}/search?q=figures")
    assert "Quote figures with their base" in page.text_content("main")
    watcher.visit(f"{live_server}/settings")
    watcher.visit(f"{live_server}/settings/digest")

    # The digest preview shows the email's inline styles: the policy admits their hashes.
    watcher.visit(f"{live_server}/settings/digest/preview")
    border = page.evaluate(
        "getComputedStyle(document.querySelector('.digest h2')).borderBottomWidth"
    )
    assert border == "1px"

    # The watch works: an inline style and an inline script put in now are both refused.
    page.evaluate(
        """() => {
          var styled = '<p id="injected" style="color: red">x</p>';
          document.body.insertAdjacentHTML("beforeend", styled);
          var script = document.createElement("script");
          script.textContent = "window.__ran = true";
          document.body.appendChild(script);
        }"""
    )
    page.wait_for_function("window.__violations.length >= 2")
    directives = sorted(v["directive"] for v in watcher.violations())
    assert directives == ["script-src-elem", "style-src-attr"]
    assert page.evaluate("window.__ran === undefined")
    assert page.evaluate("getComputedStyle(document.getElementById('injected')).color") != (
        "rgb(255, 0, 0)"
    )
    context.close()
