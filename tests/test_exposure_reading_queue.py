"""The reading queue."""

from __future__ import annotations

from normhub.exposure.ledger import record_event
from normhub.exposure.reading_queue import reading_queue
from normhub.norms.services import revise_norm
from normhub.responses.services import record_response


def test_reading_queue_order_and_reasons(session, factory):
    community = factory.community(coverage_threshold_pct=50, coverage_min_responses=1)
    me = factory.member(community, name="Me")
    author = factory.member(community, name="Author")
    others = [factory.member(community) for _ in range(3)]
    factory.norm(community, author, title="Far from the gate")
    near = factory.norm(community, author, title="Near the gate")
    for user in others[:2]:
        record_response(session, near, user, "yes", "endorse")
    started = factory.norm(community, author, title="Started")
    record_event(session, me, started, 1, "opened")
    changed = factory.norm(community, author, title="Changed")
    record_event(session, me, changed, 1, "read")
    record_response(session, changed, others[0], "yes", "endorse")
    revise_norm(
        session, changed, author, factory.draft("Changed", body="Rewritten."), "Rewritten.", True
    )
    done = factory.norm(community, author, title="Done")
    record_event(session, me, done, 1, "read")
    factory.norm(community, author, status="draft", title="A draft")
    in_force = factory.norm(community, author, status="in_force", title="In force")
    elsewhere = factory.community()
    factory.norm(elsewhere, title="Not my community")
    session.commit()
    # Owner, me, author, 3 others and the steward the in-force factory adds:
    # 7 members, so 4 must understand for 50%; writing a norm counts as the
    # author's endorsement of it.

    queue = reading_queue(session, me)
    # Open norms first, closest to the gate first; ties: most recently active first.
    assert [(item.norm.title, item.reason, item.coverage_gap) for item in queue] == [
        ("Near the gate", "unread", 1),
        ("Changed", "stale", 3),
        ("Started", "opened", 3),
        ("Far from the gate", "unread", 3),
        ("In force", "unread", 0),  # in force: no gate ahead, nothing counted
    ]
    assert queue[-1].norm.id == in_force.id
    norm, reason, gap = queue[0]
    assert (norm.id, reason, gap) == (near.id, "unread", 1)
    assert len(reading_queue(session, me, limit=2)) == 2
    # The author is not asked to read what they wrote.
    assert reading_queue(session, author) == []
    assert [i.norm.title for i in reading_queue(session, others[2])][:1] == ["Near the gate"]
    assert reading_queue(session, me, community=elsewhere) == []
