"""The in-force gate and the attention budget."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from normhub.errors import ValidationFailed
from normhub.exposure.coverage import coverage
from normhub.norms.models import Norm
from normhub.norms.services import change_status
from normhub.responses.services import record_response


def test_in_force_gate_refuses_then_allows_as_coverage_crosses_threshold(session, factory):
    community = factory.community(coverage_threshold_pct=75, coverage_min_responses=3)
    author = factory.member(community, name="Author")
    steward = factory.member(community, role="steward", name="Steward")
    readers = [factory.member(community, name=f"Reader {i}") for i in range(5)]
    norm = factory.norm(community, author)  # 8 active members: owner, author, steward, 5
    with pytest.raises(ValidationFailed) as refused:
        change_status(session, norm, steward, "in_force")
    # Writing the norm counts as the author's endorsement: 1 of 8 members.
    assert "12% of members understood the current version; 75% needed (5 more members)." in (
        refused.value.message
    )
    assert "0 responses; 3 needed." in refused.value.message
    session.rollback()

    for reader in readers[:4]:
        record_response(session, norm, reader, "yes", "endorse")
    record_response(session, norm, readers[4], "partly", "undecided")  # read, not understood
    session.commit()
    cov = coverage(session, norm)
    assert cov.active_members == 8
    assert cov.levels["endorsed"] == 5 and cov.levels["read"] == 1 and cov.levels["none"] == 2
    assert cov.responses == 5 and not cov.meets_threshold
    assert cov.shortfall_message == (
        "62% of members understood the current version; 75% needed (1 more member). "
        "5 responses; 3 needed."
    )
    with pytest.raises(ValidationFailed):
        change_status(session, norm, steward, "in_force")
    session.rollback()

    record_response(session, norm, readers[4], "yes", "undecided")
    session.commit()
    cov = coverage(session, norm)
    assert cov.understood == 6 and cov.understood_pct == 75 and cov.meets_threshold
    change_status(session, norm, steward, "in_force")
    session.commit()
    assert norm.status == "in_force"
    assert cov.to_dict()["meets_threshold"] is True


def test_minimum_responses_also_gates(session, factory):
    community = factory.community(coverage_threshold_pct=50, coverage_min_responses=3)
    author = factory.member(community)
    steward = factory.member(community, role="steward")
    norm = factory.norm(community, author)  # owner, author, steward
    record_response(session, norm, author, "yes", "endorse")
    record_response(session, norm, steward, "yes", "endorse")
    session.commit()
    cov = coverage(session, norm)
    assert cov.more_members_needed == 0 and cov.more_responses_needed == 1
    assert cov.shortfall_message.endswith("2 responses; 3 needed.")
    with pytest.raises(ValidationFailed):
        change_status(session, norm, steward, "in_force")


def test_attention_budget(session, factory):
    community = factory.community(max_open_norms=2, max_open_per_author=1)
    ann = factory.member(community, name="Ann")
    bob = factory.member(community, name="Bob")
    cat = factory.member(community, name="Cat")
    factory.norm(community, ann, title="First")
    second = factory.norm(community, ann, status="draft", title="Second")
    with pytest.raises(ValidationFailed) as per_author:
        change_status(session, second, ann, "open")
    assert "per author (1)" in per_author.value.message
    session.rollback()
    factory.norm(community, bob, title="Bob's")
    third = factory.norm(community, cat, status="draft", title="Cat's")
    with pytest.raises(ValidationFailed) as whole:
        change_status(session, third, cat, "open")
    assert "already has 2 norms open for discussion, its limit (2)" in whole.value.message
    session.rollback()
    # Withdrawing one frees a slot.
    bobs = factory.norm(community, bob, status="draft", title="Bob's draft")
    assert bobs.status == "draft"
    first = session.scalar(
        select(Norm).where(Norm.title == "First", Norm.community_id == community.id)
    )
    change_status(session, first, ann, "withdrawn")
    change_status(session, third, cat, "open")
    session.commit()
    assert third.status == "open"
