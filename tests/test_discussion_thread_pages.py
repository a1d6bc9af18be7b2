"""A long thread comes a page at a time, and a link to a comment finds its page."""

from __future__ import annotations

import re

import pytest

from normhub.discussion.services import post_comment
from normhub.discussion.threads import COMMENTS_PER_PAGE
from tests.conftest import login, new_client


@pytest.fixture
def app_overrides():
    return {"RATELIMIT_ENABLED": False}


@pytest.fixture
def thread(session, factory):
    """A full first page of roots, then a reply to the last of them, then one more root."""
    community = factory.community()
    norm = factory.norm(community)
    alice = factory.member(community, name="Alice")
    bob = factory.member(community, name="Bob")
    roots = [
        post_comment(session, norm, alice, f"Root number {n}.") for n in range(COMMENTS_PER_PAGE)
    ]
    late_reply = post_comment(session, norm, bob, "Answering the last root.", parent=roots[-1])
    early_reply = post_comment(session, norm, bob, "Answering the first root.", parent=roots[0])
    last_root = post_comment(session, norm, alice, "The last root.")
    session.commit()
    return {
        "community": community,
        "norm": norm,
        "bob": bob,
        "roots": roots,
        "late_reply": late_reply,
        "early_reply": early_reply,
        "last_root": last_root,
    }


def norm_path(t) -> str:
    return f"/c/{t['community'].slug}/norms/{t['norm'].slug}"


def shown_comments(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<article class="comment[^"]*" id="comment-(\d+)"', page)]


def test_the_norm_page_shows_the_first_page_and_links_to_the_next(client, thread):
    page = client.get(norm_path(thread)).get_data(as_text=True)
    shown = shown_comments(page)
    assert len(shown) == COMMENTS_PER_PAGE
    # Reading order: the reply to the first root comes right after it.
    assert shown[:2] == [thread["roots"][0].id, thread["early_reply"].id]
    assert thread["roots"][-1].id not in shown  # pushed to page 2 by that reply
    assert 'Discussion <span class="muted">(53)</span>' in page
    assert f'href="{norm_path(thread)}/comments?page=2" rel="next" data-more-comments' in page


def test_a_later_page_shows_the_rest_and_says_whom_a_reply_answers(client, thread):
    response = client.get(f"{norm_path(thread)}/comments?page=2")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert shown_comments(page) == [
        thread["roots"][-1].id,
        thread["late_reply"].id,
        thread["last_root"].id,
    ]
    assert "Comments page 2 of 2." in page
    assert f'href="{norm_path(thread)}#discussion-heading" rel="prev"' in page
    assert "data-more-comments" not in page
    assert "<p>The last root.</p>" in page


def test_a_reply_opening_a_page_names_whom_it_answers(session, factory, client, thread):
    carol = factory.member(thread["community"], name="Carol")
    fill = [
        post_comment(session, thread["norm"], carol, f"More {n}.")
        for n in range(COMMENTS_PER_PAGE - 3)
    ]  # page 2 is full, ending with Carol's last
    continuing = post_comment(session, thread["norm"], thread["bob"], "Yes.", parent=fill[-1])
    session.commit()
    page = client.get(f"{norm_path(thread)}/comments?page=3").get_data(as_text=True)
    assert shown_comments(page) == [continuing.id]
    header = page[page.index(f'id="comment-{continuing.id}"') :].split("</header>")[0]
    assert "replying to Carol" in header


def test_pages_past_the_end_are_not_found_and_page_one_is_the_norm_page(client, thread):
    assert client.get(f"{norm_path(thread)}/comments?page=3").status_code == 404
    first = client.get(f"{norm_path(thread)}/comments?page=1")
    assert first.status_code == 302
    assert first.headers["Location"].endswith(f"{norm_path(thread)}#discussion-heading")


def test_a_comments_lasting_address_opens_the_page_that_shows_it(client, thread):
    slug = thread["community"].slug
    later = client.get(f"/c/{slug}/comments/{thread['late_reply'].id}")
    assert later.status_code == 302
    assert later.headers["Location"].endswith(
        f"{norm_path(thread)}/comments?page=2#comment-{thread['late_reply'].id}"
    )
    first = client.get(f"/c/{slug}/comments/{thread['early_reply'].id}")
    assert first.headers["Location"].endswith(
        f"{norm_path(thread)}#comment-{thread['early_reply'].id}"
    )


def test_posting_on_a_later_page_returns_to_that_page(app, session, thread):
    client = new_client(app, session)
    login(client, thread["bob"])
    posted = client.post(
        f"{norm_path(thread)}/comments",
        data={"body": "Replying late.", "parent_id": str(thread["last_root"].id)},
    )
    assert posted.status_code == 302
    assert re.search(r"/comments\?page=2#comment-\d+$", posted.headers["Location"])


def test_a_members_only_threads_pages_and_comments_are_hidden_from_outsiders(app, session, factory):
    private = factory.community(visibility="members", join_policy="invite")
    norm = factory.norm(private)
    member = factory.member(private, name="Insider")
    comments = [post_comment(session, norm, member, f"Secret {n}.") for n in range(55)]
    outsider = factory.user("Outsider")
    session.commit()
    pages = f"/c/{private.slug}/norms/{norm.slug}/comments?page=2"
    lasting = f"/c/{private.slug}/comments/{comments[-1].id}"
    anonymous, stranger, insider = (new_client(app, session) for _ in range(3))
    login(stranger, outsider)
    login(insider, member)
    for client in (anonymous, stranger):
        assert client.get(pages).status_code == 404
        assert client.get(lasting).status_code == 404
    assert "Secret 54." in insider.get(pages).get_data(as_text=True)
    assert insider.get(lasting).status_code == 302
