"""The planner hints: SQLite gets ``+column`` (no index on it), PostgreSQL the column, or
``(column + 0)`` for a number column filtered by an ``in_ids`` list it cannot size."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from normhub.db import utcnow
from normhub.discussion.models import Comment
from normhub.exposure.models import ExposureSummary
from normhub.exposure.path_progress import summaries_for
from normhub.idlist import in_ids
from normhub.planner import unindexed, unindexed_number


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


def test_the_number_hint_renders_for_each_database():
    query = select(ExposureSummary.user_id).where(
        in_ids(unindexed_number(ExposureSummary.norm_id), [1, 2])
    )
    assert "+exposure_summaries.norm_id IN" in str(query.compile(dialect=sqlite.dialect()))
    assert "(exposure_summaries.norm_id + 0) = ANY" in str(
        query.compile(dialect=postgresql.dialect())
    )


def test_a_members_path_summaries_are_found_with_the_norms_unindexed(session, factory):
    town = factory.community()
    reader, other = factory.member(town), factory.member(town)
    first, second, unasked = factory.norm(town), factory.norm(town), factory.norm(town)
    for norm in (first, second, unasked):
        for person in (reader, other):
            session.add(ExposureSummary(user_id=person.id, norm_id=norm.id, level=2))
    session.commit()
    found = summaries_for(session, [reader.id], [first.id, second.id])
    assert set(found) == {(reader.id, first.id), (reader.id, second.id)}
