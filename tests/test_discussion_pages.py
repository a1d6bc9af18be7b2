import re

import pytest
from flask import render_template
from sqlalchemy import select

from normhub.discussion.models import Comment
from normhub.discussion.services import hide_comment, post_comment
from normhub.discussion.views import norm_page_context


@pytest.fixture
def setting(factory, session):
    community = factory.community()
    norm = factory.norm(community)
    alice = factory.member(community, name="Alice")
    bob = factory.member(community, name="Bob")
    steward = factory.member(community, role="steward", name="Stella")
    assert norm.current_version.assumptions  # load what tests read, then end the transaction
    session.commit()
    return community, norm, alice, bob, steward


def settled(session, value=None):
    """End the test session's transaction so it never holds SQLite's lock during a request."""
    session.commit()
    return value


def render_panel(app, session, norm, viewer) -> str:
    with app.test_request_context("/"):
        return render_template(
            "discussion/_norm_panel.html", **norm_page_context(session, norm, viewer)
        )


def comments_url(community, norm):
    return f"/c/{community.slug}/norms/{norm.slug}/comments"


def test_panel_shows_thread_with_assumption_edit_marks_and_reply_forms(setting, app, session):
    _, norm, alice, bob, _ = setting
    second = norm.current_version.assumptions[1]
    root = post_comment(session, norm, alice, "Is this **always** true?", assumption_key=second.key)
    reply = post_comment(session, norm, bob, "Mostly, yes.", parent=root)
    reply.edited_at = reply.created_at
    session.commit()

    html = render_panel(app, session, norm, bob)
    assert "<strong>always</strong>" in html
    assert f"On assumption 2: <q>{second.statement}</q>" in html
    root_start = html.index(f'id="comment-{root.id}"')
    reply_start = html.index(f'id="comment-{reply.id}"')
    # Nested: the reply opens before the first article after the root closes.
    assert root_start < reply_start < html.index("</article>", root_start)
    assert "· edited" in html
    assert html.count('<details class="reply">') == 2
    assert f'name="parent_id" value="{root.id}"' in html
    # The "About" select offers the whole norm and each assumption.
    assert '<option selected value="">the norm as a whole</option>' in html
    assert f'<option value="{second.key}">Assumption 2:' in html
    # Bob may edit his own comment, not Alice's.
    assert f"/comments/{reply.id}/edit" in html and f"/comments/{root.id}/edit" not in html
    assert "/hide" not in html


def test_anonymous_sees_thread_and_login_prompt_non_member_no_forms(setting, factory, app, session):
    _, norm, alice, _, _ = setting
    post_comment(session, norm, alice, "A visible comment.")
    session.commit()

    anonymous = render_panel(app, session, norm, None)
    assert "A visible comment." in anonymous
    assert "Log in to comment" in anonymous
    assert "<form" not in anonymous and "<textarea" not in anonymous

    outsider = render_panel(app, session, norm, factory.user("Outsider"))
    assert "A visible comment." in outsider
    assert "<form" not in outsider and "<textarea" not in outsider
    assert "Only members" in outsider


def test_hidden_comment_text_is_only_shown_to_stewards(setting, app, session):
    _, norm, alice, bob, steward = setting
    comment = post_comment(session, norm, alice, "Something unkind about Bob.")
    hide_comment(session, comment, steward)
    session.commit()

    for viewer in (None, bob, alice):
        html = render_panel(app, session, norm, viewer)
        assert "Something unkind" not in html
        assert "hidden by a steward" in html
    stewards_view = render_panel(app, session, norm, steward)
    assert "Something unkind about Bob." in stewards_view
    assert "Only stewards see this text." in stewards_view
    assert f"/comments/{comment.id}/unhide" in stewards_view


def test_comment_markdown_cannot_inject_script_or_javascript_links(setting, app, session):
    _, norm, alice, bob, _ = setting
    post_comment(
        session,
        norm,
        alice,
        '<script>alert("x")</script>\n\n[click me](javascript:alert(1)) '
        '<img src=x onerror="alert(2)">',
    )
    session.commit()
    html = render_panel(app, session, norm, bob)
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript:' not in html
    assert "<img src=x" not in html and "&lt;img" in html


def test_member_posts_comment_and_reply_through_the_form(setting, client, login_as, session):
    community, norm, alice, bob, _ = setting
    key = norm.current_version.assumptions[0].key
    login_as(alice)
    response = client.post(
        comments_url(community, norm), data={"body": "First thought.", "about": str(key)}
    )
    assert response.status_code == 302
    comment = settled(session, session.scalar(select(Comment).where(Comment.norm_id == norm.id)))
    assert comment.body == "First thought." and comment.assumption_key == key
    assert response.headers["Location"].endswith(f"/norms/{norm.slug}#comment-{comment.id}")

    response = client.post(
        comments_url(community, norm), data={"body": "Answering myself.", "parent_id": comment.id}
    )
    assert response.status_code == 302
    reply = settled(session, session.scalar(select(Comment).where(Comment.parent_id == comment.id)))
    assert reply.body == "Answering myself." and reply.assumption_key is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"body": "   "}, "Write something before posting."),
        (
            {"body": "Hello", "about": "999"},
            "Choose the norm as a whole or one of its current assumptions.",
        ),
        ({"body": "x" * 20_001}, "at most 20,000 characters"),
        ({"body": "Hello", "parent_id": "abc"}, "Bad reply."),
    ],
)
def test_invalid_comment_re_renders_with_message(setting, client, login_as, session, data, message):
    community, norm, alice, _, _ = setting
    login_as(alice)
    response = client.post(comments_url(community, norm), data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert settled(session, session.scalar(select(Comment.id))) is None


def test_reply_to_a_comment_of_another_norm_is_refused(setting, factory, client, login_as, session):
    community, norm, alice, bob, _ = setting
    other = factory.norm(community, title="Other norm")
    elsewhere = post_comment(session, other, bob, "Elsewhere.")
    session.commit()
    login_as(alice)
    response = client.post(
        comments_url(community, norm), data={"body": "Reply", "parent_id": elsewhere.id}
    )
    assert response.status_code == 422
    assert "only reply to a comment on this norm" in response.get_data(as_text=True)
    assert (
        settled(session, session.scalar(select(Comment).where(Comment.author_id == alice.id)))
        is None
    )


def test_outsiders_cannot_post(setting, factory, client, login_as, session):
    community, norm, *_ = setting
    response = client.post(comments_url(community, norm), data={"body": "Hi"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login_as(factory.user("Outsider"))
    assert client.post(comments_url(community, norm), data={"body": "Hi"}).status_code == 403
    private = factory.community(visibility="members", join_policy="invite")
    private_norm = factory.norm(private)
    response = client.post(comments_url(private, private_norm), data={"body": "Hi"})
    assert response.status_code == 404
    assert settled(session, session.scalar(select(Comment.id))) is None


def test_author_edits_comment_others_cannot(setting, client, login_as, session):
    community, norm, alice, bob, _ = setting
    comment = post_comment(session, norm, alice, "Original text.")
    session.commit()
    url = f"/c/{community.slug}/comments/{comment.id}/edit"

    login_as(bob)
    assert client.get(url).status_code == 403
    assert client.post(url, data={"body": "Bob was here"}).status_code == 403

    login_as(alice)
    page = client.get(url)
    assert page.status_code == 200 and "Original text." in page.get_data(as_text=True)
    bad = client.post(url, data={"body": ""})
    assert bad.status_code == 422 and "Write something" in bad.get_data(as_text=True)
    response = client.post(url, data={"body": "Improved text."})
    assert response.status_code == 302
    session.refresh(comment)
    settled(session)
    assert comment.body == "Improved text." and comment.edited_at is not None


def test_steward_hides_and_unhides_member_cannot(setting, client, login_as, session):
    community, norm, alice, bob, steward = setting
    comment = post_comment(session, norm, alice, "Heated words.")
    session.commit()
    base = f"/c/{community.slug}/comments/{comment.id}"

    login_as(bob)
    assert client.post(f"{base}/hide").status_code == 403
    session.refresh(comment)
    settled(session)
    assert not comment.is_hidden

    login_as(steward)
    assert client.post(f"{base}/hide").status_code == 302
    session.refresh(comment)
    settled(session)
    assert comment.is_hidden and comment.hidden_by_id == steward.id
    assert client.post(f"{base}/unhide").status_code == 302
    session.refresh(comment)
    settled(session)
    assert not comment.is_hidden


def test_comment_ids_are_scoped_to_the_community_in_the_url(setting, factory, client, login_as):
    community, norm, alice, _, steward = setting
    other = factory.community()
    comment = post_comment(factory.session, norm, alice, "Here.")
    factory.session.commit()
    login_as(steward)
    assert client.post(f"/c/{other.slug}/comments/{comment.id}/hide").status_code == 404


def test_norm_page_includes_the_panel(setting, client, session):
    community, norm, alice, _, _ = setting
    post_comment(session, norm, alice, "Seen on the norm page.")
    session.commit()
    response = client.get(f"/c/{community.slug}/norms/{norm.slug}")
    if response.status_code == 404 and b"Seen on" not in response.data:
        # The norm page belongs to another feature; without it, render the panel alone.
        pytest.fail("norm page missing")
    html = response.get_data(as_text=True)
    assert "Seen on the norm page." in html
    assert re.search(r"Log in to comment", html)
