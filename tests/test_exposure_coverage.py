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
