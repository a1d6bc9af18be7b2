from normhub.norms.services import AssumptionInput, revise_norm
from normhub.responses.services import AssumptionAnswer, aggregate_responses, record_response


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
