from datetime import timedelta

import pytest
from sqlalchemy import event

from normhub.communities.services import leave
from normhub.db import utcnow
from normhub.discussion.models import COMMENT_MAX
from normhub.discussion.services import (
    edit_comment,
    hide_comment,
    post_comment,
    replies_to,
    replies_to_members,
    unhide_comment,
)
from normhub.discussion.threads import load_thread
from normhub.errors import Forbidden, ValidationFailed
from normhub.norms.services import AssumptionInput, revise_norm


@pytest.fixture
def setting(factory, session):
    community = factory.community()
    norm = factory.norm(community)
    alice = factory.member(community, name="Alice")
    bob = factory.member(community, name="Bob")
    return community, norm, alice, bob


def test_member_posts_a_comment_and_norm_activity_moves(setting, session):
    community, norm, alice, _ = setting
    before = norm.last_activity_at
    comment = post_comment(session, norm, alice, "  I like the *idea*.  ")
    session.commit()
    assert comment.id is not None
    assert comment.body == "I like the *idea*."
    assert comment.version_id == norm.current_version_id
    assert comment.parent_id is None and comment.assumption_key is None
    assert norm.last_activity_at >= before
    assert norm.last_activity_at == comment.created_at


def test_non_member_and_former_member_cannot_comment(setting, factory, session):
    community, norm, alice, _ = setting
    outsider = factory.user("Outsider")
    with pytest.raises(Forbidden):
        post_comment(session, norm, outsider, "Hello")
    leave(session, community, alice)
    session.commit()
    with pytest.raises(Forbidden):
        post_comment(session, norm, alice, "Hello again")


def test_parent_must_belong_to_the_same_norm(setting, factory, session):
    community, norm, alice, bob = setting
    other_norm = factory.norm(community, title="Another norm")
    elsewhere = post_comment(session, other_norm, alice, "On the other norm.")
    session.commit()
    with pytest.raises(ValidationFailed):
        post_comment(session, norm, bob, "Reply", parent=elsewhere)
    here = post_comment(session, norm, alice, "Here.")
    reply = post_comment(session, norm, bob, "Reply", parent=here)
    assert reply.parent_id == here.id


def test_hidden_comment_takes_no_replies(setting, factory, session):
    community, norm, alice, bob = setting
    steward = factory.member(community, role="steward")
    comment = post_comment(session, norm, alice, "Rude words.")
    hide_comment(session, comment, steward)
    with pytest.raises(ValidationFailed):
        post_comment(session, norm, bob, "Reply", parent=comment)


def test_assumption_key_must_be_of_the_current_version(setting, factory, session):
    _, norm, alice, _ = setting
    first, second = norm.current_version.assumptions
    with pytest.raises(ValidationFailed) as info:
        post_comment(session, norm, alice, "About nothing", assumption_key=999)
    assert info.value.field == "about"
    comment = post_comment(session, norm, alice, "About the second", assumption_key=second.key)
    assert comment.assumption_key == second.key
    # After a revision drops the second assumption, its key is no longer accepted.
    revise_norm(
        session,
        norm,
        norm.author,
        factory.draft(assumptions=[AssumptionInput(first.statement, key=first.key)]),
        "Dropped the second assumption.",
        True,
    )
    session.commit()
    with pytest.raises(ValidationFailed):
        post_comment(session, norm, alice, "Still about the second?", assumption_key=second.key)


@pytest.mark.parametrize("body", ["", "   \n  ", "x" * (COMMENT_MAX + 1)])
def test_body_must_be_non_empty_and_bounded(setting, session, body):
    _, norm, alice, _ = setting
    with pytest.raises(ValidationFailed) as info:
        post_comment(session, norm, alice, body)
    assert info.value.field == "body"


def test_only_the_author_edits_and_edits_are_marked(setting, session):
    _, norm, alice, bob = setting
    comment = post_comment(session, norm, alice, "First words.")
    session.commit()
    with pytest.raises(Forbidden):
        edit_comment(session, comment, bob, "Bob's words.")
    edit_comment(session, comment, alice, "First words.")
    assert comment.edited_at is None  # nothing changed, nothing to mark
    edit_comment(session, comment, alice, "Better words.")
    session.commit()
    assert comment.body == "Better words."
    assert comment.edited_at is not None
    with pytest.raises(ValidationFailed):
        edit_comment(session, comment, alice, "  ")


def test_stewards_hide_and_unhide_members_cannot(setting, factory, session):
    community, norm, alice, bob = setting
    steward = factory.member(community, role="steward")
    site_admin = factory.user("Site admin", admin=True)
    comment = post_comment(session, norm, alice, "Off topic.")
    session.commit()
    with pytest.raises(Forbidden):
        hide_comment(session, comment, bob)
    with pytest.raises(Forbidden):
        hide_comment(session, comment, alice)
    hide_comment(session, comment, steward)
    session.commit()
    assert comment.is_hidden and comment.hidden_by_id == steward.id
    assert comment.body == "Off topic."  # kept, only hidden
    with pytest.raises(Forbidden):
        edit_comment(session, comment, alice, "Sneaky change")
    with pytest.raises(Forbidden):
        unhide_comment(session, comment, bob)
    unhide_comment(session, comment, site_admin)
    assert not comment.is_hidden and comment.hidden_by_id is None


def test_thread_is_a_tree_in_order_loaded_in_three_queries(setting, session, app):
    _, norm, alice, bob = setting
    key = norm.current_version.assumptions[1].key
    first = post_comment(session, norm, alice, "First", assumption_key=key)
    second = post_comment(session, norm, bob, "Second")
    reply_1 = post_comment(session, norm, bob, "Reply to first", parent=first)
    reply_2 = post_comment(session, norm, alice, "Second reply to first", parent=first)
    nested = post_comment(session, norm, alice, "Reply to reply", parent=reply_1)
    session.commit()
    session.expire_all()
    assert norm.current_version_id  # reload the norm itself before counting

    statements = []
    engine = app.extensions["normhub.engine"]

    def count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        thread = load_thread(session, norm)
        walked = [(n.comment.id, n.depth, n.comment.author.display_name) for n in thread.walk()]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) <= 3  # the order (no text), the page's comments, their assumptions
    assert thread.count == 5
    assert [n.comment.id for n in thread.roots] == [first.id, second.id]
    assert [c.comment.id for c in thread.roots[0].children] == [reply_1.id, reply_2.id]
    assert [(i, d) for i, d, _ in walked] == [
        (first.id, 0),
        (reply_1.id, 1),
        (nested.id, 2),
        (reply_2.id, 1),
        (second.id, 0),
    ]
    about = thread.roots[0].about
    assert about.position == 2 and about.is_current
    assert about.statement == norm.current_version.assumptions[1].statement
    assert thread.roots[1].about is None


def test_deep_replies_are_shown_at_the_depth_limit(setting, session):
    _, norm, alice, bob = setting
    chain = [post_comment(session, norm, alice, "Level 0")]
    for level in range(1, 5):
        author = bob if level % 2 else alice
        chain.append(post_comment(session, norm, author, f"Level {level}", parent=chain[-1]))
    session.commit()
    thread = load_thread(session, norm, max_depth=2)
    depths = {n.comment.id: n for n in thread.walk()}
    assert [depths[c.id].depth for c in chain] == [0, 1, 2, 2, 2]
    assert depths[chain[3].id].replying_to == "Alice"
    assert depths[chain[4].id].replying_to == "Bob"
    assert depths[chain[2].id].replying_to is None
    level_one = thread.roots[0].children[0]
    assert [n.comment.id for n in level_one.children] == [c.id for c in chain[2:]]


def test_assumption_label_keeps_the_wording_it_was_written_on(setting, factory, session):
    _, norm, alice, _ = setting
    first = norm.current_version.assumptions[0]
    comment = post_comment(session, norm, alice, "About the first", assumption_key=first.key)
    revise_norm(
        session,
        norm,
        norm.author,
        factory.draft(
            assumptions=[
                AssumptionInput("A brand new first assumption."),
                AssumptionInput("Reworded original.", key=first.key),
            ]
        ),
        "Reordered.",
        True,
    )
    session.commit()
    node = load_thread(session, norm).roots[0]
    assert node.comment.id == comment.id
    assert node.about.statement == first.statement
    assert node.about.position == 1 and node.about.version_number == 1
    assert not node.about.is_current


def test_replies_to_lists_others_replies_since(setting, factory, session):
    community, norm, alice, bob = setting
    steward = factory.member(community, role="steward")
    carol = factory.member(community, name="Carol")
    mine = post_comment(session, norm, alice, "Alice speaks.")
    theirs = post_comment(session, norm, bob, "Bob speaks.")
    session.commit()
    since = utcnow()
    own_followup = post_comment(session, norm, alice, "Me again.", parent=mine)
    bob_reply = post_comment(session, norm, bob, "Answering Alice.", parent=mine)
    hidden_reply = post_comment(session, norm, carol, "Rude answer.", parent=mine)
    hide_comment(session, hidden_reply, steward)
    nested_reply = post_comment(session, norm, carol, "Answering Alice's follow-up.", own_followup)
    post_comment(session, norm, carol, "Answering Bob.", parent=theirs)
    session.commit()
    old_reply = post_comment(session, norm, carol, "Old answer.", parent=mine)
    old_reply.created_at = since - timedelta(hours=1)
    session.commit()

    replies = replies_to(session, alice, since)
    assert [c.id for c in replies] == [bob_reply.id, nested_reply.id]
    assert replies[0].author.display_name == "Bob"
    assert replies[0].norm.community.slug == community.slug
    assert [c.id for c in replies_to(session, bob, since)] != []
    assert replies_to(session, alice, utcnow() + timedelta(minutes=1)) == []


def test_replies_to_members_is_the_same_rule_for_many(setting, factory, session):
    community, norm, alice, bob = setting
    steward = factory.member(community, role="steward")
    elsewhere = factory.community()
    other_norm = factory.norm(elsewhere, title="Elsewhere")
    factory.member(elsewhere, alice)
    factory.member(elsewhere, bob)
    mine = post_comment(session, norm, alice, "Alice speaks.")
    theirs = post_comment(session, norm, bob, "Bob speaks.")
    session.commit()
    since = utcnow()
    post_comment(session, norm, alice, "Me again.", parent=mine)
    to_alice = post_comment(session, norm, bob, "Answering Alice.", parent=mine)
    hidden = post_comment(session, norm, steward, "Rude.", parent=mine)
    hide_comment(session, hidden, steward)
    to_bob = post_comment(session, norm, alice, "Answering Bob.", parent=theirs)
    far = post_comment(session, other_norm, alice, "Over here.")
    post_comment(session, other_norm, bob, "Not in these communities.", parent=far)
    session.commit()
    until = utcnow() + timedelta(minutes=1)

    rows = replies_to_members(session, [alice.id, bob.id], {community.id}, since, until)
    assert [(r.reply_id, r.recipient_id, r.author_name) for r in rows] == [
        (to_alice.id, alice.id, "Bob"),
        (to_bob.id, bob.id, "Alice"),
    ]
    assert {(r.id, r.slug) for r in rows} == {(norm.id, norm.slug)}
    assert replies_to_members(session, [alice.id], {community.id}, since, since) == []


def test_replies_to_skips_communities_the_user_can_no_longer_see(factory, session):
    community = factory.community(visibility="members", join_policy="invite")
    norm = factory.norm(community)
    alice = factory.member(community, name="Alice")
    bob = factory.member(community, name="Bob")
    since = utcnow() - timedelta(minutes=1)
    mine = post_comment(session, norm, alice, "Alice speaks.")
    post_comment(session, norm, bob, "Answering.", parent=mine)
    session.commit()
    assert len(replies_to(session, alice, since)) == 1
    leave(session, community, alice)
    session.commit()
    assert replies_to(session, alice, since) == []


def test_assumption_label_stays_current_through_a_minor_revision(setting, factory, session):
    _, norm, alice, _ = setting
    first, second = norm.current_version.assumptions
    post_comment(session, norm, alice, "About the second", assumption_key=second.key)
    revise_norm(
        session,
        norm,
        norm.author,
        factory.draft(
            body="A reworded essay.",
            assumptions=[
                AssumptionInput(first.statement, first.explanation, key=first.key),
                AssumptionInput(second.statement, second.explanation, key=second.key),
            ],
        ),
        "Tidied the essay.",
        False,
    )
    session.commit()
    about = load_thread(session, norm).roots[0].about
    assert about.version_number == 1 and about.position == 2
    assert about.is_current
