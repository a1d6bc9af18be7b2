"""Issue 13's XSS corpus, through every rendering path, in real Chromium.

The payloads of tests/xss_corpus.py are seeded through the services into every
text a page shows (tests/xss_world.py): names, community names and descriptions,
titles, summaries, essays, assumptions, change summaries (so the diff shows them),
comments, reasons, status notes, check notes and replies, reminders and shares,
bios. Debian's Chromium then opens each page that shows them, as the people
who would see them: the steward, the member checked and reminded, the member a
norm was shared with, a visitor whose address is not yet confirmed (whose banner
repeats the page's address), and an anonymous visitor. Every page must have
shown its payloads as text (their markers are on it) while no dialog opened, no
request left the site, no CSP violation or console complaint came, and nothing
the payloads would have injected is in the DOM (tests/xss_browser.py). Queries
and addresses carry payloads too (search, filters, error pages, a form sent
after its token expired). Emails (the digest, shares, account mail) are shown
as a mail client would, without the site's CSP; their text parts and the Atom
feed are checked as what they are, plain text and XML.

A first test shows the watch works: the same payloads written into a page raw
open dialogs and are found in the DOM, with and without the CSP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default as default_policy
from urllib.parse import quote, urlencode
from xml.etree import ElementTree as ET

from sqlalchemy import select

from normhub.accounts.models import User
from normhub.communities.models import Community
from normhub.digest.builder import preview_digest
from normhub.digest.content import subject_line
from normhub.digest.emails import digest_email
from normhub.digest.links import Links
from normhub.digest.member import excerpt
from normhub.errors import ValidationFailed
from normhub.mail.message import Composer
from normhub.mail.queue import QueuedEmail
from normhub.markdown import plain_text
from normhub.norms.models import Norm, NormVersion, StatusChange
from normhub.norms.services import AssumptionInput, NormDraft, create_norm
from tests.browser_helpers import log_in, served_app
from tests.xss_browser import FIND_BIDI_SPILLS, FIND_INJECTED, SETTLE, HostilePage
from tests.xss_corpus import (
    BIDI_CONTROLS,
    BY_MARKER,
    CATEGORIES,
    PAYLOADS,
    fitting,
    markers_in,
    pack,
)
from tests.xss_world import FEED_COMMUNITIES, World, seed

ATOM = "{http://www.w3.org/2005/Atom}"


app_overrides = served_app()


def test_the_corpus_covers_what_issue_13_names():
    assert len(PAYLOADS) >= 60
    assert len(BY_MARKER) == len(PAYLOADS)
    assert {p.category for p in PAYLOADS} == set(CATEGORIES)
    for payload in PAYLOADS:
        assert payload.marker in payload.text, payload.marker


def test_names_titles_and_tags_keep_no_direction_controls_nor_markup(session):
    """Bidi controls in names, community names, titles and tags are dropped as they are
    stored (normhub.text); a payload is a tag only if nothing but letters, digits and
    dashes is left of it, and otherwise refused with nothing stored."""
    world = seed(session)
    stored = [
        *session.scalars(select(User.display_name)),
        *session.scalars(select(Community.name)),
        *session.scalars(select(Norm.title)),
        *session.scalars(select(NormVersion.title)),
    ]
    bidi = {p.marker for p in PAYLOADS if p.has_bidi}
    assert bidi <= markers_in(" ".join(stored))  # they went in ...
    assert [s for s in stored if BIDI_CONTROLS & set(s)] == []  # ... without their controls
    tags, refused = [], 0
    for payload in PAYLOADS:
        draft = NormDraft("A tag", "Summary.", "Body.", [AssumptionInput("A.")], [payload.text])
        try:
            with session.begin_nested():
                tags += create_norm(session, world.main, world.steward, draft).tag_names
        except ValidationFailed as refusal:
            assert refusal.field == "tags", payload.marker
            refused += 1
    assert refused >= len(PAYLOADS) - len(bidi)
    assert [t for t in tags if not re.fullmatch(r"[a-z0-9-]+", t)] == []
    assert len(tags) == len(PAYLOADS) - refused  # the bidi payloads made of words


def test_the_watch_finds_payloads_that_run_or_are_injected(live_server, browser):
    """Raw, the payloads open dialogs and fetch from elsewhere (no CSP), or are found in
    the DOM (under the app's CSP, which blocks the scripts but not the markup), and their
    direction controls are left open: silence later means something."""
    raw = "\n".join(p.text for p in PAYLOADS)
    context = browser.new_context()
    page = context.new_page()
    watched = HostilePage(page, live_server)
    page.set_content(raw, wait_until="load")
    page.evaluate(SETTLE)
    assert {"alert: xss01", "alert: xss08", "alert: xss12"} <= set(watched.dialogs)
    assert "https://xss.example/xss55.css" in watched.left_the_site
    found = page.evaluate(FIND_INJECTED)
    for kind in (
        "marked element",
        "event handler",
        "script the app did not write",
        "<iframe>",
        "<base>",
        "javascript: address",
        "vbscript: address",
        "data: address",
    ):
        assert any(kind in f for f in found), kind
    assert any("xss65" in spill for spill in page.evaluate(FIND_BIDI_SPILLS))

    # The same markup served as a page of the site, under its headers: the CSP refuses
    # the scripts (no dialog), and the watcher still sees what was injected.
    csp = page.request.get(live_server).headers["content-security-policy"]
    page.route(
        f"{live_server}/raw",
        lambda route: route.fulfill(
            body=f"<!doctype html><body>{raw}</body>",
            headers={"Content-Type": "text/html", "Content-Security-Policy": csp},
        ),
    )
    watched.dialogs.clear()
    page.goto(f"{live_server}/raw")
    page.wait_for_load_state("load")
    assert watched.dialogs == []
    assert any(v["directive"].startswith("script-src") for v in watched.violations())
    assert any("marked element" in f for f in page.evaluate(FIND_INJECTED))
    context.close()


def norm_path(norm, *rest: str) -> str:
    return "/".join((f"/c/{norm.community.slug}/norms/{norm.slug}", *rest))


def test_every_rendering_path_shows_the_corpus_as_text(live_server, browser, app, session):
    world = seed(session)
    emails = _emails_of(app, session, world)
    world.feeds = _feeds_expected(session, world)
    session.commit()  # read nothing more while the server works

    def as_person(user):
        context = browser.new_context()
        hostile = HostilePage(context.new_page(), live_server)
        if user is not None:
            log_in(hostile.page, live_server, user)
            hostile.assert_clean("after logging in")
        return context, hostile

    for user, visit in (
        (world.steward, _steward_pages),
        (world.reader, _reader_pages),
        (world.newcomer, _newcomer_pages),
        (world.unverified, _addresses_and_queries),
        (None, _anonymous_pages),
    ):
        context, hostile = as_person(user)
        visit(hostile, world)
        context.close()

    context, hostile = as_person(world.steward)
    _form_sent_too_late(app, hostile, world)
    _emails_as_a_mail_client_shows_them(hostile, emails, world)
    context.close()


def _steward_pages(hostile: HostilePage, world: World) -> None:
    essay, main = world.essay, world.main
    every = {p.marker for p in PAYLOADS}
    hostile.open("/communities").assert_shows(
        world.markers("community names") | world.markers("descriptions"), "communities"
    )
    hostile.open("/")  # the member's home: notices, titles and names, all inert
    hostile.open(f"/c/{main.slug}").assert_shows(world.markers("descriptions", 0), "community")
    hostile.open(f"/c/{main.slug}/about").assert_shows(
        world.markers("descriptions", 0), "about page"
    )
    essay_page = world.markers("essay") | world.markers("comments") | world.markers("statements")
    hostile.open(norm_path(essay)).assert_shows(essay_page, "norm page")
    hostile.open(norm_path(essay, "versions")).assert_shows(
        world.markers("change summaries"), "versions"
    )
    last = essay.current_version_number
    hostile.open(norm_path(essay, f"diff?from=1&to={last}")).assert_shows(
        world.markers("essay") | world.markers("statements") | world.markers("essay titles"),
        "diff",
    )
    hostile.open(norm_path(essay, "v", "1")).assert_shows(world.markers("essay"), "version 1")
    hostile.open(norm_path(essay, "edit")).assert_shows(
        world.markers("essay") | world.markers("explanations"), "edit form"
    )
    hostile.open(norm_path(essay, "coverage"))
    hostile.open(norm_path(essay, "remind"))
    hostile.open(norm_path(essay, "remind", str(world.remind_check_id))).assert_shows(
        world.markers("reminder notes", -1), "reminder recorded"
    )
    hostile.open(norm_path(essay, "remind", str(world.open_check_id))).assert_shows(
        world.markers("reasons", -1), "reminder to decide"
    )
    hostile.open(f"/c/{main.slug}/reminders").assert_shows(
        world.markers("reminder notes") | world.markers("shares"), "community reminders"
    )
    hostile.open(f"/c/{main.slug}/settings").assert_shows(
        world.markers("descriptions", 0) | world.markers("names") - _unverified(world),
        "community settings",
    )
    hostile.open(f"/exposure/checks/{world.check_ids[0]}").assert_shows(
        world.markers("check notes", 0) | world.markers("check replies", 0), "check record"
    )
    hostile.open(f"/c/{main.slug}/members/{world.reader.id}/digest-preview").assert_shows(
        world.markers("titles") | world.markers("summaries"), "steward's digest preview"
    )
    for index, owner in enumerate(world.bio_owners):
        hostile.open(f"/members/{owner.handle}").assert_shows(
            world.markers("bios", index), "member page"
        )
    hostile.open(f"/c/{main.slug}/comments/{world.steward_comment_id}/edit").assert_shows(
        every, "comment edit form"
    )
    hostile.open("/settings").assert_shows(world.markers("bios", 0), "settings")
    _search_snippets(hostile)


def _unverified(world: World) -> set[str]:
    return world.markers("names", 0)


def _search_snippets(hostile: HostilePage) -> None:
    """Each payload is a comment of its own: a search for its marker shows it in a snippet.
    (Not an image's: search indexes a comment's words, and an image's alt text is none.)"""
    markers = [p.marker for p in PAYLOADS if p.marker in plain_text(p.text)]
    for start in range(0, len(markers), 8):
        group = markers[start : start + 8]
        query = urlencode({"q": " OR ".join(group) + " type:comment"})
        hostile.open(f"/search?{query}")
        snippets = " ".join(hostile.page.locator(".search-snippet").all_text_contents())
        assert [m for m in group if m not in snippets] == [], group
    # Norms too: titles, summaries and the essay in their snippets.
    hostile.open("/search?" + urlencode({"q": "xss01 OR xss08 OR xss65 type:norm"}))
    snippets = " ".join(
        hostile.page.locator(".search-hit-norm .search-snippet").all_text_contents()
    )
    assert markers_in(snippets) & {"xss01", "xss08", "xss65"}


def _reader_pages(hostile: HostilePage, world: World) -> None:
    hostile.open("/exposure/about-me").assert_shows(
        world.markers("check notes") | world.markers("check replies"), "checks about me"
    )
    hostile.open("/exposure/reminders").assert_shows(
        world.markers("reminder notes"), "reminders to me"
    )
    hostile.open(f"/exposure/checks/{world.check_ids[0]}").assert_shows(
        world.markers("check notes", 0) | world.markers("check replies", 0), "check, my reply"
    )
    hostile.open("/settings/digest/preview").assert_shows(
        world.markers("titles") | world.markers("summaries") | world.markers("comments"),
        "my digest preview",
    )
    hostile.open(norm_path(world.essay, "my-responses")).assert_shows(
        world.markers("reasons"), "my responses"
    )
    hostile.open("/queue").assert_shows(world.markers("titles"), "reading queue")
    hostile.open(f"/members/{world.reader.handle}").assert_shows(
        world.markers("bios", 1), "my member page"
    )


def _newcomer_pages(hostile: HostilePage, world: World) -> None:
    hostile.open("/exposure/reminders").assert_shows(world.markers("shares"), "shared with me")


def _addresses_and_queries(hostile: HostilePage, world: World) -> None:
    """Payloads in addresses and query strings, as a visitor whose banner repeats the
    address (a form to send the confirmation link again, and back here)."""
    main = world.main.slug
    for chunk in pack(PAYLOADS, 500):
        hostile.open(f"/c/{quote(chunk, safe='')}", status=404).assert_shows(
            markers_in(chunk), "not found"
        )
        hostile.open("/search?" + urlencode({"q": chunk})).assert_shows(markers_in(chunk), "query")
    # One path part ("/" would end it): an image tag breaking out of an attribute.
    breaking = BY_MARKER["xss61"]
    one = breaking.text
    for path, status in (
        (f"/members/{quote(one, safe='')}", 404),
        (f"/c/{main}/norms/{quote(one, safe='')}", 404),
        (f"/{quote(one, safe='')}", 404),
        (f"/unsubscribe/{quote(one, safe='')}", 400),
        (f"/confirm-email/{quote(one, safe='')}", 400),
        (f"/password/reset/{quote(one, safe='')}", 400),
        (f"/c/{main}?" + urlencode({"tag": one, "status": one, "sort": one, "page": one}), 200),
        ("/settings/digest/preview?" + urlencode({"period": one}), 200),
    ):
        hostile.open(path, status=status).assert_shows({breaking.marker}, path)
    filters = {"q": "xss01", "tag": one, "community": one, "status": one, "type": one}
    hostile.open("/search?" + urlencode(filters)).assert_shows({breaking.marker}, "filters")


def _anonymous_pages(hostile: HostilePage, world: World) -> None:
    # The login page keeps where to go next only if it is a path of this site: one line,
    # no backslash (login refuses anything else, and then repeats nothing).
    paths = [p for p in fitting(500, one_line=True) if "\\" not in p.text]
    for chunk in pack(paths, 500):
        hostile.open("/login?" + urlencode({"next": "/" + chunk})).assert_shows(
            markers_in(chunk), "login, then back"
        )
    hostile.open(f"/c/{world.main.slug}")
    hostile.open("/")  # the visitor's home: live norms from public communities
    for expected in world.feeds:
        _atom_feed(hostile, expected)


@dataclass
class FeedExpected:
    """What a community's feed must hold, read from the database before browsing."""

    slug: str
    titles: set[str]
    summaries: set[str]
    names: set[str]


def _feeds_expected(session, world: World) -> list[FeedExpected]:
    expected = []
    for community in world.communities[:FEED_COMMUNITIES]:
        norms = [n for n in (world.essay, *world.norms) if n.community_id == community.id]
        notes = session.scalars(
            select(StatusChange.note).where(
                StatusChange.norm_id.in_([n.id for n in norms]), StatusChange.note != ""
            )
        )
        expected.append(
            FeedExpected(
                community.slug,
                {f"{community.name} · NormHub", *(f"Proposed: {n.title}" for n in norms)},
                set(notes),
                {n.author.display_name for n in norms},
            )
        )
    return expected


def _atom_feed(hostile: HostilePage, expected: FeedExpected) -> None:
    """The feed carries every title, status note and name as text, exactly as written:
    no markup a feed reader would render (no XHTML, no type="html")."""
    response = hostile.page.request.get(f"{hostile.site}/c/{expected.slug}/feed.atom")
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.body())  # noqa: S314 (the app's own feed, in a test)
    for element in feed.iter():
        assert element.tag.startswith(ATOM), element.tag  # nothing from another vocabulary
        if element.tag in (f"{ATOM}title", f"{ATOM}summary", f"{ATOM}subtitle"):
            assert element.get("type") in (None, "text"), element.tag
    assert expected.titles <= {e.text for e in feed.iter(f"{ATOM}title")}
    assert expected.summaries <= {e.text for e in feed.iter(f"{ATOM}summary")}
    assert expected.names <= {e.text for e in feed.iter(f"{ATOM}name")}
    assert markers_in(" ".join(expected.titles | expected.summaries))


@dataclass
class Mail:
    label: str
    subject: str
    text: str
    html: str
    markers: set[str]  # the payloads its HTML must show


def _emails_of(app, session, world: World) -> list[Mail]:
    """Every email the seeding queued (shares, account mail), and the reader's digest."""
    mails = [
        Mail(row.kind, row.subject, row.text_body, row.html_body, set())
        for row in session.scalars(select(QueuedEmail).order_by(QueuedEmail.id))
    ]
    shares = [m for m in mails if m.label == "norm-shared"]
    for mail, text in zip(shares, world.texts["shares"], strict=True):
        mail.markers = markers_in(text)
    assert {m.label for m in mails} >= {"verify-email", "email-changed", "account-exists"}

    digest = preview_digest(session, Links(app), world.reader, "weekly")
    message = message_from_bytes(
        Composer(app).compose(digest_email(digest)).data, policy=default_policy
    )
    parts = {part.get_content_type(): part.get_content() for part in message.iter_parts()}
    assert message["Subject"] == subject_line(digest)
    expected = world.markers("titles") | world.markers("summaries") | world.markers("comments")
    text, html = parts["text/plain"], parts["text/html"]
    mails.append(Mail("digest", message["Subject"], text, html, expected))
    return mails


def _emails_as_a_mail_client_shows_them(hostile: HostilePage, mails: list[Mail], world: World):
    """A mail client runs none of our CSP: the HTML is shown with scripts on and no policy,
    so anything that got through would run. The text part is plain text, payloads as
    written (a client shows it as it is; HTML-escaping it would garble it)."""
    for mail in mails:
        assert "\n" not in mail.subject and "\r" not in mail.subject
        hostile.show(mail.html, mail.label).assert_shows(mail.markers, mail.label)
    digest = mails[-1]
    for payload in PAYLOADS:
        assert excerpt(payload.text) in digest.text, payload.marker
    shares = [m for m in mails if m.label == "norm-shared"]
    for text, mail in zip(world.texts["shares"], shares, strict=True):
        for line in text.splitlines():
            assert line.strip() in mail.text, line  # indented as a quote, otherwise as written


def _form_sent_too_late(app, hostile: HostilePage, world: World) -> None:
    """A comment sent after its form's token expired comes back on a page that repeats
    every field sent, names and values, into a form and text areas."""
    page = hostile.page
    hostile.open(norm_path(world.essay))
    everything = "\n\n".join(p.text for p in PAYLOADS)
    page.fill("form.comment-form textarea[name=body]", everything)
    page.evaluate(
        """names => {
          const form = document.querySelector("form.comment-form");
          for (const name of names) {
            const input = document.createElement("input");
            input.type = "hidden";
            input.name = input.value = name;
            form.appendChild(input);
          }
        }""",
        [p.text for p in PAYLOADS if p.one_line][:20],
    )
    # Every token is expired once the limit is below zero: the page tells it as such.
    limit = app.config["WTF_CSRF_TIME_LIMIT"]
    app.config["WTF_CSRF_TIME_LIMIT"] = -1
    try:
        with page.expect_navigation() as sent:
            page.click("form.comment-form button[type=submit]")
    finally:
        app.config["WTF_CSRF_TIME_LIMIT"] = limit
    assert sent.value.status == 400
    assert "This form was open too long" in page.text_content("h1")
    hostile.console = [c for c in hostile.console if "status of 400" not in c]
    hostile.assert_clean("form sent too late")
    hostile.assert_inert("form sent too late")
    hostile.assert_shows({p.marker for p in PAYLOADS}, "form sent too late")
