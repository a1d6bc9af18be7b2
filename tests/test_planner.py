"""The planner hint: SQLite gets ``+column`` (no index on it), PostgreSQL the column."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from normhub.db import utcnow
from normhub.discussion.models import Comment
from normhub.planner import unindexed


def test_the_hint_renders_for_each_database():
    query = select(Comment.id).where(unindexed(Comment.created_at) >= utcnow())
    assert "+comments.created_at >=" in str(query.compile(dialect=sqlite.dialect()))
    assert "+" not in str(query.compile(dialect=postgresql.dialect()))


def test_a_digest_batch_finds_replies_through_their_parents_authors(session, factory):
    """The window's condition, hinted, still finds the replies in it (the plan it avoids
    shows at scale only: ``benchmarks/digest.py``)."""
    from normhub.discussion.services import post_comment, replies_to_members

    town = factory.community()
    author, replier = factory.member(town), factory.member(town)
    norm = factory.norm(town)
    parent = post_comment(session, norm, author, "First.")
    post_comment(session, norm, replier, "A reply.", parent=parent)
    session.commit()
    since = utcnow() - timedelta(days=7)
    rows = replies_to_members(session, [author.id], {town.id}, since, utcnow() + timedelta(1))
    assert [(row.recipient_id, row.body) for row in rows] == [(author.id, "A reply.")]
