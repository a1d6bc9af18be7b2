"""Migration 0008: authors' exposure backfilled for the versions written before it existed."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select

from normhub.cli import alembic_config, upgrade_database
from normhub.exposure.ledger import record_event
from normhub.exposure.models import ExposureEvent, ExposureSummary
from normhub.norms.services import revise_norm
from normhub.responses.services import record_response

SUMMARY_LEVELS = (
    "user_id",
    "norm_id",
    "latest_version",
    "material_base",
    "level",
    "level_version",
    "highest_level",
    "highest_level_version",
)


def summaries(session) -> dict[tuple[int, int], tuple]:
    # Only the columns that exist at every revision the test visits.
    columns = [getattr(ExposureSummary, name) for name in SUMMARY_LEVELS]
    return {(row[0], row[1]): tuple(row) for row in session.execute(select(*columns)).all()}


def authored(session) -> list[tuple[int, int, int, str]]:
    return list(
        session.execute(
            select(
                ExposureEvent.user_id,
                ExposureEvent.norm_id,
                ExposureEvent.version_number,
                ExposureEvent.level,
            )
            .where(ExposureEvent.kind == "authored")
            .order_by(ExposureEvent.norm_id, ExposureEvent.version_number)
        ).all()
    )


def test_backfill_gives_the_summaries_the_ledger_keeps_live(session, factory, database_url):
    community = factory.community()
    author = factory.member(community, name="Author")
    steward = factory.member(community, role="steward", name="Steward")
    reader = factory.member(community, name="Reader")
    norm = factory.norm(community, author)
    record_event(session, reader, norm, 1, "read")
    # The author changes their mind after writing; the steward revises materially.
    record_response(session, norm, author, "yes", "reject")
    revise_norm(session, norm, steward, factory.draft(body="Rewritten."), "Rewritten.", True)
    revise_norm(session, norm, author, factory.draft(body="Typo."), "Typo.", False)
    session.commit()
    live = summaries(session)
    assert authored(session) == [
        (author.id, norm.id, 1, "endorsed"),
        (steward.id, norm.id, 2, "endorsed"),
        (author.id, norm.id, 3, "endorsed"),
    ]
    assert live[(steward.id, norm.id)][4:6] == (5, 2)  # endorsed, version 2
    session.close()

    command.downgrade(alembic_config(database_url), "0005")
    before = summaries(session)
    assert authored(session) == []
    assert (steward.id, norm.id) not in before
    assert before[(author.id, norm.id)][4:] == (4, 1, 4, 1)  # understood (the response) on v1
    assert before[(reader.id, norm.id)] == live[(reader.id, norm.id)]
    session.close()

    upgrade_database(database_url)
    assert summaries(session) == live
    assert len(authored(session)) == 3
    session.close()
    upgrade_database(database_url)  # already at head: nothing recorded twice
    assert len(authored(session)) == 3
