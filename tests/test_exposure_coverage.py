"""Coverage of the current version."""

from __future__ import annotations

from normhub.exposure.coverage import coverage
from normhub.norms.services import revise_norm
from normhub.responses.services import record_response


def test_material_revision_resets_coverage_and_members_left_do_not_count(session, factory):
    from normhub.communities.services import leave

    community = factory.community()
    author = factory.member(community)
    reader = factory.member(community)
    leaver = factory.member(community)
    norm = factory.norm(community, author)
    for user in (author, reader, leaver):
        record_response(session, norm, user, "yes", "endorse")
    leave(session, community, leaver)
    session.commit()
    cov = coverage(session, norm)
    assert cov.active_members == 3 and cov.understood == 2 and cov.responses == 2
    draft = factory.draft(body="An entirely new argument.")
    revise_norm(session, norm, author, draft, "New argument.", True)
    session.commit()
    cov = coverage(session, norm)
    # The author's revision is their exposure to the new text; the reader's is stale.
    assert cov.understood == 1 and cov.levels["endorsed"] == 1 and cov.responses == 0
    assert cov.stale == 1 and cov.levels["none"] == 2


def test_the_gate_counts_summed_in_sql_agree_with_coverage(session, factory):
    from normhub.communities.services import leave
    from normhub.exposure.coverage import coverage_for_norms, gate_counts
    from normhub.exposure.ledger import record_event
    from normhub.norms.models import Norm

    town = factory.community(coverage_threshold_pct=60, coverage_min_responses=2)
    club = factory.community(coverage_threshold_pct=30, coverage_min_responses=0)
    author = factory.member(town)
    people = [factory.member(town) for _ in range(5)]
    for person in people[:2]:
        factory.member(club, person)
    norms = [factory.norm(town, author, title=f"Town {n}") for n in range(3)]
    norms.append(factory.norm(club, people[0], title="Club"))
    for n, norm in enumerate(norms[:3]):
        for person in people[: n + 1]:
            record_response(session, norm, person, "yes", "endorse" if n % 2 else "undecided")
        record_event(session, people[-1], norm, 1, "read")
    record_response(session, norms[3], people[1], "yes", "endorse")
    revise_norm(session, norms[1], author, factory.draft("Town 1", body="Anew."), "Anew.", True)
    record_response(session, norms[1], people[0], "yes", "endorse")
    leave(session, town, people[1])
    session.commit()

    full = coverage_for_norms(session, norms)
    counts = gate_counts(session, Norm.id.in_([norm.id for norm in norms]))
    for norm in norms:
        item, count = full[norm.id], counts[norm.id]
        assert (count.active_members, count.understood, count.responses) == (
            item.active_members,
            item.understood,
            item.responses,
        ), norm.title
        assert (count.gap, count.understood_pct) == (item.gap, item.understood_pct)
    assert {count.gap for count in counts.values()} != {0}
