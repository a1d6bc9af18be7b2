"""Help while writing: the Markdown preview and the @mention suggestions behind the script.

The preview is the page's own renderer, with the community's mentions: what it shows is
byte for byte what the saved comment or essay shows. Suggestions list active members of
the community only, to its members only.
"""

from __future__ import annotations

import re

import pytest

from normhub.accounts.deletion import delete_account
from normhub.communities import writing
from normhub.communities.services import leave
from normhub.markdown import render_markdown
from tests.factories import Factory


@pytest.fixture
def place(factory, session):
    community = factory.community()
    author = factory.member(community, name="Ada Author")
    writer = factory.member(community, name="Wren Writer")
    norm = factory.norm(community, author, title="Say where a figure comes from")
    outsider = factory.user("Otto Outsider")
    session.commit()
    return {
        "community": community,
        "norm": norm,
        "author": author,
        "writer": writer,
        "outsider": outsider,
    }


def preview(client, community, text: str, **extra):
    return client.post(f"/c/{community.slug}/preview", data={"text": text, **extra})


def comment_body_html(page: str, comment_id: int) -> str:
    """The inner HTML of one comment's body on the norm page."""
    start = page.index(f'id="comment-{comment_id}"')
    match = re.compile(r'<div class="comment-body">(.*?)</div>', re.DOTALL).search(page, start)
    return match.group(1)


def test_the_preview_is_the_html_the_saved_comment_shows(place, client, login_as, session):
    community, norm, writer = place["community"], place["norm"], place["writer"]
    author, outsider = place["author"], place["outsider"]
    text = (
        f"Thanks @{author.handle}, and not @{outsider.handle}.\n\n"
        "* **bold**, `code`, [a link](https://example.org)\n"
        "* <script>alert(1)</script>\n"
    )
    login_as(writer)
    answer = preview(client, community, text)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.headers["Cache-Control"] == "private, no-store"
    shown = answer.get_json()["html"]
    # A member is named and linked; an outsider's handle stays as typed, naming no one.
    assert f'<a class="mention" href="/members/{author.handle}">@Ada Author</a>' in shown
    assert f"@{outsider.handle}" in shown and "Otto" not in shown
    assert "&lt;script&gt;" in shown and "<script>" not in shown

    posted = client.post(
        f"/c/{community.slug}/norms/{norm.slug}/comments", data={"body": text, "about": ""}
    )
    assert posted.status_code == 302
    comment_id = int(posted.headers["Location"].rsplit("#comment-", 1)[1])
    page = client.get(f"/c/{community.slug}/norms/{norm.slug}").get_data(as_text=True)
    assert comment_body_html(page, comment_id) == shown


def test_an_explanation_is_previewed_as_the_page_shows_it_without_names(place, client, login_as):
    community, author = place["community"], place["author"]
    login_as(place["writer"])
    answer = preview(client, community, f"As @{author.handle} said.", mentions="off")
    assert answer.get_json()["html"] == str(render_markdown(f"As @{author.handle} said."))
    assert "Ada Author" not in answer.get_json()["html"]


def test_the_preview_takes_at_most_an_essays_length(place, client, login_as):
    login_as(place["writer"])
    assert preview(client, place["community"], "x" * writing.PREVIEW_MAX).status_code == 200
    too_long = preview(client, place["community"], "x" * (writing.PREVIEW_MAX + 1))
    assert too_long.status_code == 400
    assert "at most 100,000 characters" in too_long.get_data(as_text=True)


def test_who_may_preview(factory, session, client, login_as, place):
    hidden = factory.community(place["author"], visibility="members")
    session.commit()
    # Anyone signed in who sees a public community; nobody outside a members-only one.
    assert preview(client, place["community"], "hi").status_code == 302  # log in first
    assert preview(client, hidden, "hi").status_code == 404
    login_as(place["outsider"])
    assert preview(client, place["community"], "hi").status_code == 200
    assert preview(client, hidden, "hi").status_code == 404


# -- Suggestions ------------------------------------------------------------------------------


def suggest(client, community, query: str):
    return client.get(f"/c/{community.slug}/members/suggest", query_string={"q": query})


def names(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return [member["name"] for member in response.get_json()["members"]]


def test_suggestions_match_names_and_handles_of_members_only(
    place, factory, session, client, login_as
):
    community, writer = place["community"], place["writer"]
    alma = factory.member(community, name="Alma Quist")
    factory.member(community, name="Jo Albrecht")
    factory.member(community, name="Malcolm Reed")  # "al" inside a word: no match
    gone = factory.member(community, name="Alfred Gone")
    leave(session, community, gone)
    deleted = factory.member(community, name="Alex Deleted")
    delete_account(session, deleted, Factory.PASSWORD)
    other = factory.community()
    factory.member(other, name="Alan Elsewhere")
    session.commit()

    login_as(writer)
    # Names beginning with it first, then a later word; the member asking is left out.
    assert names(suggest(client, community, "Al")) == ["Alma Quist", "Jo Albrecht"]
    assert names(suggest(client, community, "wren")) == []
    assert names(suggest(client, community, "quist")) == ["Alma Quist"]
    answer = suggest(client, community, alma.handle[:5]).get_json()
    assert {"handle": alma.handle, "name": "Alma Quist"} in answer["members"]
    assert all(set(member) == {"handle", "name"} for member in answer["members"])
    assert names(suggest(client, community, "")) == []  # not a way to read the member list
    assert names(suggest(client, community, "%")) == []  # LIKE's wildcards are plain text
    assert names(suggest(client, community, "_")) == []


def test_at_most_eight_suggestions(place, factory, session, client, login_as):
    for n in range(12):
        factory.member(place["community"], name=f"Sam {n:02d}")
    login_as(place["writer"])
    found = names(suggest(client, place["community"], "sam"))
    assert found == [f"Sam {n:02d}" for n in range(8)]


def test_only_members_get_suggestions(place, factory, session, client, login_as):
    community = place["community"]
    hidden = factory.community(place["author"], visibility="members")
    factory.member(hidden, place["writer"])
    assert suggest(client, community, "ada").status_code == 302  # log in first
    assert suggest(client, hidden, "ada").status_code == 404
    login_as(place["outsider"])
    assert suggest(client, community, "ada").status_code == 403
    assert suggest(client, hidden, "ada").status_code == 404
    client.post("/logout")
    login_as(place["writer"])
    assert names(suggest(client, hidden, "ada")) == ["Ada Author"]


def test_typing_fast_is_bounded(place, client, login_as):
    login_as(place["writer"])
    community = place["community"]
    answers = [preview(client, community, "x").status_code for _ in range(61)]
    assert answers[:60] == [200] * 60 and answers[60] == 429
    answers = [suggest(client, community, "a").status_code for _ in range(121)]
    assert answers[:120] == [200] * 120 and answers[120] == 429


# -- The boxes that ask for them -------------------------------------------------------------


def test_comment_and_essay_boxes_carry_the_script_hooks(place, client, login_as):
    community, norm = place["community"], place["norm"]
    login_as(place["author"])
    page = client.get(f"/c/{community.slug}/norms/{norm.slug}").get_data(as_text=True)
    preview_url = f'data-preview-url="/c/{community.slug}/preview"'
    suggest_url = f'data-suggest-url="/c/{community.slug}/members/suggest"'
    comment_box = re.search(r'<textarea[^>]*id="comment-body"[^>]*>', page).group(0)
    assert preview_url in comment_box and suggest_url in comment_box
    reply_boxes = re.findall(r'<textarea[^>]*id="reply-[^>]*>', page)
    assert all(preview_url in box and suggest_url in box for box in reply_boxes)
    assert '<script src="/static/writing.js" defer></script>' in page

    form = client.get(f"/c/{community.slug}/norms/{norm.slug}/edit").get_data(as_text=True)
    essay = re.search(r'<textarea[^>]*name="body"[^>]*>', form).group(0)
    assert preview_url in essay and suggest_url in essay
    explanation = re.search(r'<textarea[^>]*name="assumptions-0-explanation"[^>]*>', form)
    # Explanations are shown without names, so they are previewed without and suggest none.
    assert preview_url in explanation.group(0) and "data-suggest-url" not in explanation.group(0)
    assert 'data-preview-mentions="off"' in explanation.group(0)
