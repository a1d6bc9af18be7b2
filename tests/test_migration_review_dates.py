"""Migration 0024: norms already in force when reviews arrived get a review date too."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import select

from normhub.cli import alembic_config, upgrade_database
from normhub.db import utcnow
from normhub.reviews.models import NormReviewSchedule


def review_dates(session) -> dict[int, object]:
    rows = session.scalars(select(NormReviewSchedule)).all()
    return {row.norm_id: row.next_review_at for row in rows}


def test_norms_in_force_before_reviews_are_scheduled_without_a_flood(
    session, factory, database_url
):
    community = factory.community()
    author = factory.member(community, name="Author")
    long_ago = factory.norm(community, author, title="In force for years", status="in_force")
    lately = factory.norm(community, author, title="In force this month", status="in_force")
    still_open = factory.norm(community, author, title="Still open", status="open")
    now = utcnow()
    long_ago.status_changed_at = now - timedelta(days=900)
    lately.status_changed_at = now - timedelta(days=20)
    session.commit()
    ids = (long_ago.id, lately.id, still_open.id)
    session.close()

    command.downgrade(alembic_config(database_url), "0023")
    upgrade_database(database_url)
    dates = review_dates(session)
    assert set(dates) == {long_ago.id, lately.id}, ids
    # Due long ago: not before two weeks from the upgrade, so nobody is asked at once.
    assert timedelta(days=13) < dates[long_ago.id] - now < timedelta(days=15)
    # In force lately: its period (the default 90 days) from when it came into force.
    assert timedelta(days=69) < dates[lately.id] - now < timedelta(days=71)
    session.close()
