from normhub.norms.services import AssumptionInput, revise_norm
from normhub.responses.services import (
    AssumptionAnswer,
    aggregate_responses,
    record_response,
    revised_since_responses,
)


def test_revision_keeps_assumption_keys_and_aggregates_latest(factory, session):
    community = factory.community()
    norm = factory.norm(community)
    v1 = norm.current_version
    first, second = v1.assumptions
    draft = factory.draft(
        assumptions=[
            AssumptionInput("Most readers cannot verify a figure's base.", key=first.key),
            AssumptionInput("A third, new assumption."),
        ]
    )
    v2 = revise_norm(session, norm, norm.author, draft, "Reworded A1, dropped A2", True)
    session.commit()
    assert v2.number == 2
    assert [a.key for a in v2.assumptions] == [first.key, second.key + 1]
    reader = factory.member(community)
    a1 = v2.assumptions[0]
    record_response(
        session, norm, reader, "yes", "endorse", answers={a1.id: AssumptionAnswer("yes", "agree")}
    )
    record_response(
        session, norm, reader, "yes", "reject", answers={a1.id: AssumptionAnswer("yes", "disagree")}
    )
    session.commit()
    agg = aggregate_responses(session, norm)
    assert agg.respondents == 1
    assert agg.endorsement["reject"] == 1 and agg.endorsement["endorse"] == 0
    assert agg.crux.assumption.id == a1.id


def test_revised_since_responses_lists_material_revisions_with_the_versions_since(factory, session):
    from datetime import timedelta

    from normhub.db import utcnow

    community = factory.community()
    norm = factory.norm(community, title="Share the car")
    current, stale, other = (factory.member(community) for _ in range(3))
    record_response(session, norm, stale, "yes", "endorse")
    session.commit()
    revise_norm(session, norm, norm.author, factory.draft(body="Typo."), "Typo", False)
    session.commit()
    assert revised_since_responses(session, [stale.id], {community.id}) == []
    revise_norm(session, norm, norm.author, factory.draft(body="Weekends."), "Weekends", True)
    session.commit()
    record_response(session, norm, current, "yes", "endorse")
    session.commit()

    (revised,) = revised_since_responses(session, [stale.id, current.id, other.id], {community.id})
    assert (revised.user_id, revised.norm.id, revised.responded_number) == (stale.id, norm.id, 1)
    assert [(c.number, c.is_material) for c in revised.changes] == [(2, False), (3, True)]
    now = utcnow() + timedelta(minutes=1)
    assert revised.changed_materially_between(now - timedelta(hours=1), now)
    assert not revised.changed_materially_between(now, now + timedelta(hours=1))
    assert revised_since_responses(session, [stale.id], {community.id + 1}) == []
