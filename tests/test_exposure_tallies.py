"""Coverage tallies: the database keeps them equal to a count of the summaries, whoever writes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from normhub.accounts.deletion import delete_account
from normhub.communities.services import join_open, leave
from normhub.db import utcnow
from normhub.errors import ValidationFailed
from normhub.exposure.bulk import Delivery, record_deliveries
from normhub.exposure.coverage import coverage
from normhub.exposure.ledger import record_event
from normhub.exposure.models import CoverageTally, ExposureSummary
from normhub.exposure.tallies import (
    counted_levels,
    fill_responded_bases,
    fold_tallies,
    recount_tallies,
    tallied_levels,
)
from normhub.norms.services import change_status, revise_norm
from normhub.responses.services import record_response
from tests.factories import Factory


def tallies(session, *norms) -> list[tuple]:
    return sorted(tuple(row) for row in session.execute(tallied_levels([n.id for n in norms])))


def assert_tallies_count_the_summaries(session, *norms) -> list[tuple]:
    tallied = tallies(session, *norms)
    assert tallied == sorted(counted_levels(session, [n.id for n in norms]))
    return tallied


@pytest.fixture
def world(session, factory):
    community = factory.community(
        visibility="public", coverage_threshold_pct=60, coverage_min_responses=1
    )
    author = factory.member(community, name="Author")
    readers = [factory.member(community, name=f"Reader {i}") for i in range(4)]
    norm = factory.norm(community, author)
    other = factory.norm(community, author, title="Another norm")
    session.commit()
    return community, author, readers, norm, other


def test_every_ledger_write_keeps_the_tallies(session, world, factory):
    community, author, readers, norm, other = world
    # (norm, material base, level, responded, members). The author's own exposure:
    # endorsed on version 1 of each norm, without a response.
    assert assert_tallies_count_the_summaries(session, norm, other) == [
        (norm.id, 1, 5, 0, 1),
        (other.id, 1, 5, 0, 1),
    ]
    record_event(session, readers[0], norm, 1, "opened")
    record_event(session, readers[1], norm, 1, "read")
    record_response(session, norm, readers[2], "yes", "endorse")
    record_response(session, norm, readers[3], "partly", "undecided")
    session.commit()
    assert assert_tallies_count_the_summaries(session, norm) == [
        (norm.id, 1, 2, 0, 1),  # opened
        (norm.id, 1, 3, 0, 1),  # read
        (norm.id, 1, 3, 1, 1),  # responded: read it, did not understand it
        (norm.id, 1, 5, 0, 1),  # the author
        (norm.id, 1, 5, 1, 1),  # the reader who endorsed it
    ]
    assert coverage(session, norm).responses == 2
    record_response(session, norm, readers[3], "yes", "undecided")  # now understood
    session.commit()
    assert (norm.id, 1, 4, 1, 1) in assert_tallies_count_the_summaries(session, norm)

    revise_norm(session, norm, author, factory.draft(body="A new argument."), "New.", True)
    session.commit()
    cov = coverage(session, norm)
    # Four readers' exposure is on the older text now; the author wrote the new one;
    # the community's owner never read it. Responses to the older text do not count.
    assert cov.stale == 4 and cov.levels["endorsed"] == 1 and cov.levels["none"] == 5
    assert cov.responses == 0
    assert_tallies_count_the_summaries(session, norm)


def test_joining_leaving_returning_and_deleting_an_account_keep_the_tallies(
    session, world, factory
):
    community, author, readers, norm, other = world
    for reader in readers:
        record_response(session, norm, reader, "yes", "endorse")
        record_event(session, reader, other, 1, "read")
    session.commit()
    assert coverage(session, norm).levels["endorsed"] == 5

    leave(session, community, readers[0])
    session.commit()
    assert coverage(session, norm).levels["endorsed"] == 4
    assert_tallies_count_the_summaries(session, norm, other)

    join_open(session, community, readers[0])  # returning: their reading counts again
    session.commit()
    assert coverage(session, norm).levels["endorsed"] == 5
    assert coverage(session, other).levels["read"] == 4
    assert_tallies_count_the_summaries(session, norm, other)

    delete_account(session, readers[1], Factory.PASSWORD)
    session.commit()
    assert_tallies_count_the_summaries(session, norm, other)

    newcomer = factory.user(name="Newcomer")
    join_open(session, community, newcomer)
    record_event(session, newcomer, norm, 1, "opened")
    session.commit()
    assert_tallies_count_the_summaries(session, norm, other)


def test_bulk_deliveries_keep_the_tallies(session, world):
    community, author, readers, norm, other = world
    record_event(session, readers[0], norm, 1, "read")  # delivered is below read: no change
    session.commit()
    at = utcnow()
    items = [
        (reader.id, Delivery(norm_id=n.id, version_number=1, material_base=1), at)
        for reader in readers
        for n in (norm, other)
    ]
    record_deliveries(session, items)
    session.commit()
    assert assert_tallies_count_the_summaries(session, norm, other) == [
        (norm.id, 1, 1, 0, 3),
        (norm.id, 1, 3, 0, 1),
        (norm.id, 1, 5, 0, 1),
        (other.id, 1, 1, 0, 4),
        (other.id, 1, 5, 0, 1),
    ]


def test_folding_keeps_every_count_in_fewer_rows(session, world):
    community, author, readers, norm, other = world
    for reader in readers:
        record_event(session, reader, norm, 1, "opened")
        session.commit()  # one writing statement each: PostgreSQL appends a row each
        record_event(session, reader, norm, 1, "read")
        session.commit()
    before = assert_tallies_count_the_summaries(session, norm, other)
    fold_tallies(session)
    session.commit()
    assert tallies(session, norm, other) == before
    rows = session.execute(
        select(
            CoverageTally.norm_id,
            CoverageTally.material_base,
            CoverageTally.level,
            CoverageTally.responded,
        )
    ).all()
    # One row per key with members left, none for the keys that emptied ("opened").
    assert sorted(rows) == sorted(key[:4] for key in before)


def test_a_recount_heals_a_tally_and_the_gate_never_trusts_one(session, world, factory):
    community, author, readers, norm, other = world
    steward = factory.member(community, role="steward", name="Steward")
    record_response(session, norm, readers[0], "yes", "endorse")
    recount_tallies(session)  # one row per key, on either database
    session.commit()
    # A tally off by three (as a race between leaving and reading could leave it):
    session.execute(
        update(CoverageTally)
        .where(CoverageTally.norm_id == norm.id, CoverageTally.level == 5)
        .values(members=CoverageTally.members + 3)
    )
    session.commit()
    assert coverage(session, norm).meets_threshold  # 5 of 7 "endorsed", as the tally says
    with pytest.raises(ValidationFailed):  # 2 of 7 really did
        change_status(session, norm, steward, "in_force")
    session.rollback()
    recount_tallies(session)
    session.commit()
    assert coverage(session, norm).levels["endorsed"] == 2
    # The reader, and the author of both norms.
    assert session.scalar(select(func.sum(CoverageTally.members))) == 3


def test_a_recount_from_nothing_gives_what_the_triggers_kept(session, world, factory):
    community, author, readers, norm, other = world
    record_response(session, norm, readers[0], "partly", "undecided")
    revise_norm(session, norm, author, factory.draft(body="Another argument."), "New.", True)
    record_response(session, norm, readers[1], "yes", "endorse")
    record_response(session, other, readers[1], "yes", "endorse")
    session.commit()
    expected = assert_tallies_count_the_summaries(session, norm, other)
    # As a bulk loader leaves them: no responded bases, no tallies.
    session.execute(update(ExposureSummary).values(responded_base=None))
    session.execute(update(CoverageTally).values(members=0))
    session.commit()
    fill_responded_bases(session)
    recount_tallies(session, [norm.id, other.id])
    session.commit()
    assert tallies(session, norm, other) == expected
