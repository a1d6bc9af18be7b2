"""Writing on NormHub's pages: what the server does for the writer.

Norms name what they build on by title; a form whose token expired gives the essay or
comment back; saved forms tell the browser to forget their drafts; "Put in force" says
why it would be refused before it is pressed; times read relatively, with the exact time
on hover; the glossary is one click from its words; members have initials avatars.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from normhub.accounts.deletion import delete_account
from normhub.db import utcnow
from normhub.discussion.models import Comment
from normhub.discussion.services import post_comment
from normhub.norms.models import Norm
from normhub.norms.services import list_prerequisites
from normhub.responses.services import record_response
from normhub.templating import avatar_colour, initials, time_ago
from tests.factories import Factory
from tests.test_accounts_sessions import CSRF_ON, login_with_token, signed_long_ago
from tests.test_norms_pages import norm_form, show_url


@pytest.fixture
def scene(factory, session):
    community = factory.community()
    author = factory.member(community, name="Ada Author")
    steward = factory.member(community, role="steward", name="Stella Steward")
    member = factory.member(community, name="Mia Member")
    norm = factory.norm(community, author, title="Cite your sources")
    session.commit()
    return {
        "community": community,
        "author": author,
        "steward": steward,
        "member": member,
        "norm": norm,
    }


def page_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


# -- Prerequisites by title ----------------------------------------------------------------


def prerequisites_of(session, title: str) -> list[str]:
    session.expire_all()
    norm = session.scalar(select(Norm).where(Norm.title == title))
    return [other.title for other in list_prerequisites(session, norm)]


def test_a_norm_builds_on_others_named_by_title(scene, factory, session, client, login_as):
    community, author = scene["community"], scene["author"]
    factory.norm(community, author, title="Minutes, agendas and records")
    factory.norm(community, author, title="Say who decided it")
    session.commit()
    login_as(author)
    form = page_of(client, f"/c/{community.slug}/norms/new")
    # The community's norms are offered by title.
    options = re.findall(r'<option value="([^"]+)" label="[^"]+"></option>', form)
    assert options == ["Cite your sources", "Minutes, agendas and records", "Say who decided it"]
    assert form.count('list="community-norms"') == 2

    # One a box; case and spacing aside; a title with a comma is one title; a slug works.
    sent = client.post(
        f"/c/{community.slug}/norms/new",
        data={
            **norm_form(title="Record decisions"),
            "prerequisites": [
                "cite  YOUR sources",
                "minutes,agendas and records, say-who-decided-it",
            ],
        },
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    assert prerequisites_of(session, "Record decisions") == [
        "Cite your sources",
        "Minutes, agendas and records",
        "Say who decided it",
    ]


def test_an_unknown_or_ambiguous_title_is_refused_with_the_way_out(
    scene, factory, session, client, login_as
):
    community, author = scene["community"], scene["author"]
    twin = factory.norm(community, author, title="Cite your sources")
    session.commit()
    login_as(author)
    url = f"/c/{community.slug}/norms/new"
    unknown = client.post(url, data=norm_form(prerequisites="Be kind always"))
    assert unknown.status_code == 400
    page = html.unescape(unknown.get_data(as_text=True))
    assert "There is no norm “Be kind always” in this community." in page
    assert re.search(
        r'<input[^>]*name="prerequisites" value="Be kind always"[^>]*aria-invalid', page
    )
    ambiguous = client.post(url, data=norm_form(prerequisites="Cite your sources"))
    assert "Several norms here are called “Cite your sources”" in html.unescape(
        ambiguous.get_data(as_text=True)
    )
    chosen = client.post(url, data=norm_form(title="Sources", prerequisites=twin.slug))
    assert chosen.status_code == 302


def test_the_edit_form_names_what_it_builds_on_by_title(scene, factory, session, client, login_as):
    community, author, base = scene["community"], scene["author"], scene["norm"]
    factory.norm(community, author, title="Quote the base")
    twin_b = factory.norm(community, author, title="Quote the base")
    session.commit()
    login_as(author)
    sent = client.post(
        f"/c/{community.slug}/norms/new",
        data=norm_form(title="Builds on two", prerequisites=f"{base.slug}, {twin_b.slug}"),
    )
    assert sent.status_code == 302
    built = session.scalar(select(Norm).where(Norm.title == "Builds on two"))
    form = page_of(client, show_url(built) + "/edit")
    boxes = re.findall(
        r'<input type="text" id="prerequisites-\d+" name="prerequisites" value="([^"]*)"', form
    )
    # A unique title by title; one of two norms with the same title by its address.
    assert boxes == ["Cite your sources", twin_b.slug, ""]
    # The list offers the others, never the norm itself.
    offered = re.findall(r'<option value="([^"]+)"', form)
    assert "Quote the base" in offered and "Builds on two" not in offered


# -- A form whose token expired gives the text back ----------------------------------------------


def hidden_fields(page: str) -> tuple[str, dict]:
    form = re.search(r'<form method="post" action="([^"]*)">(.*?)</form>', page, re.S)
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(2))
    return html.unescape(form.group(1)), {html.unescape(n): html.unescape(v) for n, v in fields}


@CSRF_ON
def test_an_expired_comment_form_gives_the_comment_back(app, scene, session, client, app_overrides):
    community, norm, member = scene["community"], scene["norm"], scene["member"]
    root = post_comment(session, norm, scene["author"], "Which sources count?")
    session.commit()
    login_with_token(client, member)
    client.get(show_url(norm))
    with client.session_transaction() as cookie:
        raw = cookie["csrf_token"]
    reply = "Peer-reviewed ones, I think.\nAnd *official* statistics."
    expired = client.post(
        f"/c/{community.slug}/norms/{norm.slug}/comments",
        data={
            "body": reply,
            "parent_id": str(root.id),
            "csrf_token": signed_long_ago(app, raw, 13),
        },
    )
    assert expired.status_code == 400
    page = expired.get_data(as_text=True)
    assert "This form was open too long" in page and "Nothing was saved" in page
    assert html.escape(reply, quote=False) in page  # shown to copy, escaped
    action, fields = hidden_fields(page)
    assert fields["body"] == reply and fields["parent_id"] == str(root.id)
    assert re.findall(r'<label for="typed-\d+">([^<]+)</label>', page) == ["Body"]
    assert post_comment_count(session, norm) == 1

    resent = client.post(action, data=fields)
    assert resent.status_code == 302 and "#comment-" in resent.headers["Location"]
    assert post_comment_count(session, norm) == 2


def post_comment_count(session, norm) -> int:
    session.expire_all()
    return len(session.scalars(select(Comment.id).where(Comment.norm_id == norm.id)).all())


@CSRF_ON
def test_an_expired_norm_form_gives_the_essay_back(app, scene, session, client, app_overrides):
    community = scene["community"]
    login_with_token(client, scene["author"])
    client.get(f"/c/{community.slug}/norms/new")
    with client.session_transaction() as cookie:
        raw = cookie["csrf_token"]
    essay = "## Why\n\nAn evening of writing, <b>with markup</b> & more."
    data = {
        **norm_form(title="Written slowly", body=essay),
        "prerequisites": "Cite your sources",
        "csrf_token": signed_long_ago(app, raw, 13),
    }
    expired = client.post(f"/c/{community.slug}/norms/new", data=data)
    assert expired.status_code == 400
    page = expired.get_data(as_text=True)
    assert html.escape(essay, quote=False) in page and "<b>with markup</b>" not in page
    action, fields = hidden_fields(page)
    assert fields["body"] == essay
    assert fields["assumptions-2-statement"] == "Naming people does not chill honest decisions."
    assert fields["prerequisites"] == "Cite your sources"
    # What was typed is shown under readable labels; the form's numbers are not writing.
    labels = re.findall(r'<label for="typed-\d+">([^<]+)</label>', page)
    assert "Assumptions 3 statement" in labels and "Body" in labels
    assert not any("position" in label.lower() for label in labels)
    resent = client.post(action, data=fields)
    assert resent.status_code == 302
    assert prerequisites_of(session, "Written slowly") == ["Cite your sources"]


# -- Drafts: the page after a save tells the browser to forget it ------------------------------


def draft_key_of(page: str, action: str) -> str:
    form = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*data-draft-key="([^"]+)"', page)
    return html.unescape(form.group(1))


def test_saved_forms_tell_the_browser_to_forget_their_drafts(scene, session, client, login_as):
    community, norm, member = scene["community"], scene["norm"], scene["member"]
    root = post_comment(session, norm, scene["author"], "Which sources count?")
    session.commit()
    login_as(member)
    page = page_of(client, show_url(norm))
    comments_url = f"/c/{community.slug}/norms/{norm.slug}/comments"
    keys = re.findall(r'data-draft-key="([^"]+)"', page)
    assert f"{member.id}:{comments_url}" in keys  # the new comment
    assert f"{member.id}:{comments_url}#reply-{root.id}" in keys  # the reply to the root
    assert "data-draft-sent" not in page

    posted = client.post(comments_url, data={"body": "A reply.", "parent_id": str(root.id)})
    after = page_of(client, posted.headers["Location"])
    assert (
        f'<span hidden data-draft-sent="{member.id}:{comments_url}#reply-{root.id}"></span>'
        in after
    )
    # Not a message on the page: only the confirmation shows.
    flashes = re.search(r'<div class="flashes".*?</div>', after, re.S).group(0)
    assert "Your comment is posted." in flashes and "draft" not in flashes
    # A refused comment keeps its draft: nothing says it was sent.
    refused = client.post(comments_url, data={"body": "", "parent_id": str(root.id)})
    assert refused.status_code == 422
    assert "data-draft-sent" not in page_of(client, show_url(norm))


def test_norm_forms_keep_drafts_per_form_and_forget_them_once_saved(
    scene, session, client, login_as
):
    community, author, norm = scene["community"], scene["author"], scene["norm"]
    login_as(author)
    new_url = f"/c/{community.slug}/norms/new"
    assert draft_key_of(page_of(client, new_url), new_url) == f"{author.id}:{new_url}"
    saved = client.post(new_url, data=norm_form(title="A new one"))
    assert f'data-draft-sent="{author.id}:{new_url}"' in page_of(client, saved.headers["Location"])

    edit_url = show_url(norm) + "/edit"
    assert draft_key_of(page_of(client, edit_url), edit_url) == f"{author.id}:{edit_url}"
    # Logging out forgets every draft in the browser.
    assert 'class="inline" data-forget-drafts>' in page_of(client, edit_url)


# -- "Put in force" says why it would be refused -----------------------------------------------


def test_put_in_force_says_why_it_would_be_refused(scene, factory, session, client, login_as):
    norm, steward, community = scene["norm"], scene["steward"], scene["community"]
    login_as(steward)
    page = page_of(client, show_url(norm))
    button = re.search(r"<button[^>]*>Put in force</button>", page).group(0)
    assert 'aria-describedby="in-force-refusal"' in button
    note = re.search(r'<p class="gate-note" id="in-force-refusal">(.*?)</p>', page, re.S).group(1)
    note = " ".join(note.split())
    assert "Putting version 1 in force would be refused now" in note
    # Authors count as endorsed: 1 of 4 members (25%), no responses yet.
    assert "25% of members understood the current version; 75% needed (2 more members)." in note
    assert "0 responses; 3 needed." in note

    for person in (scene["member"], steward, factory.member(community)):
        record_response(session, norm, person, "yes", "endorse")
    session.commit()
    page = page_of(client, show_url(norm))
    assert "in-force-refusal" not in page
    assert re.search(r"<button[^>]*>Put in force</button>", page)


def test_only_whoever_has_the_button_is_told(scene, client, login_as):
    login_as(scene["member"])
    page = page_of(client, show_url(scene["norm"]))
    assert "Put in force" not in page and "in-force-refusal" not in page


# -- Relative times, the glossary, avatars --------------------------------------------------


def test_times_read_relatively():
    now = datetime(2026, 3, 10, 12, 0)
    assert time_ago(now - timedelta(seconds=20), now) == "just now"
    assert time_ago(now - timedelta(minutes=1), now) == "1 minute ago"
    assert time_ago(now - timedelta(hours=3, minutes=59), now) == "3 hours ago"
    assert time_ago(now - timedelta(days=1, hours=2), now) == "1 day ago"
    assert time_ago(now - timedelta(days=45), now) == "1 month ago"
    assert time_ago(now - timedelta(days=800), now) == "2 years ago"
    assert time_ago(now + timedelta(days=5, hours=1), now) == "in 5 days"
    assert time_ago(now + timedelta(days=89, hours=1), now) == "in 2 months"
    assert time_ago(None, now) == ""


def test_a_comment_says_when_relatively_with_the_exact_time_on_hover(
    scene, session, client, login_as
):
    norm = scene["norm"]
    comment = post_comment(session, norm, scene["member"], "Which sources count?")
    comment.created_at = utcnow().replace(microsecond=0) - timedelta(hours=3, minutes=5)
    session.commit()
    page = page_of(client, show_url(norm))
    stamp = comment.created_at
    exact = f"{stamp:%Y-%m-%d %H:%M} UTC"
    assert f'<time datetime="{stamp.isoformat()}Z" title="{exact}">3 hours ago</time>' in page


def test_the_glossary_is_one_click_from_its_words(scene, session, client, login_as):
    glossary = page_of(client, "/glossary")
    for anchor in ("material", "minor", "stale", "levels", "level-read", "level-endorsed"):
        assert f'id="{anchor}"' in glossary
    norm = scene["norm"]
    assert '<a class="badge material" href="/glossary#material"' in page_of(client, show_url(norm))
    assert 'href="/glossary#material"' in page_of(client, show_url(norm) + "/versions")
    login_as(scene["author"])
    assert 'href="/glossary#material">What counts as material or minor?' in page_of(
        client, show_url(norm) + "/edit"
    )
    assert 'href="/glossary#levels"' in page_of(client, show_url(norm) + "/coverage")


def test_members_have_initials_avatars_made_here(scene, factory, session, client):
    member = scene["member"]
    assert initials(member) == "MM"
    assert initials(factory.user("cher")) == "C"
    assert initials(factory.user("Ana María de la Cruz")) == "AC"
    colours = {avatar_colour(factory.user(f"Person {n}")) for n in range(40)}
    assert colours <= set(range(8)) and len(colours) > 4  # spread over the palette
    assert avatar_colour(member) == avatar_colour(member)
    post_comment(session, scene["norm"], member, "Which sources count?")
    gone = factory.member(scene["community"], name="Gone Person")
    post_comment(session, scene["norm"], gone, "I was here.")
    delete_account(session, gone, Factory.PASSWORD)
    session.commit()
    page = page_of(client, show_url(scene["norm"]))
    avatar = (
        f'<svg class="avatar avatar-{avatar_colour(member)}" viewBox="0 0 32 32" width="28" '
        'height="28" aria-hidden="true" focusable="false"><circle cx="16" cy="16" r="16"></circle>'
        '<text x="16" y="16" dy=".35em" text-anchor="middle">MM</text></svg>'
    )
    assert avatar in page
    assert 'class="avatar avatar-8"' in page and ">?</text>" in page  # a former member: grey
    assert "Gone" not in page
