"""Coverage, the in-force gate, the attention budget, the reading queue, nudges, concurrency."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from normhub.errors import Forbidden, ValidationFailed
from normhub.exposure import services as exposure
from normhub.exposure.models import ExposureEvent, ExposureSummary, Nudge
from normhub.norms.models import Norm
from normhub.norms.services import change_status, revise_norm
from normhub.responses.services import record_response


def test_in_force_gate_refuses_then_allows_as_coverage_crosses_threshold(session, factory):
    community = factory.community(coverage_threshold_pct=75, coverage_min_responses=3)
    author = factory.member(community, name="Author")
    steward = factory.member(community, role="steward", name="Steward")
    readers = [factory.member(community, name=f"Reader {i}") for i in range(5)]
    norm = factory.norm(community, author)  # 8 active members: owner, author, steward, 5
    with pytest.raises(ValidationFailed) as refused:
        change_status(session, norm, steward, "in_force")
    assert "0% of members understood the current version; 75% needed (6 more members)." in (
        refused.value.message
    )
    assert "0 responses; 3 needed." in refused.value.message
    session.rollback()

    for reader in readers[:4]:
        record_response(session, norm, reader, "yes", "endorse")
    record_response(session, norm, readers[4], "partly", "undecided")  # read, not understood
    session.commit()
    cov = exposure.coverage(session, norm)
    assert cov.active_members == 8
    assert cov.levels["endorsed"] == 4 and cov.levels["read"] == 1 and cov.levels["none"] == 3
    assert cov.responses == 5 and not cov.meets_threshold
    assert cov.shortfall_message == (
        "50% of members understood the current version; 75% needed (2 more members). "
        "5 responses; 3 needed."
    )
    with pytest.raises(ValidationFailed):
        change_status(session, norm, steward, "in_force")
    session.rollback()

    record_response(session, norm, readers[4], "yes", "undecided")
    session.commit()
    cov = exposure.coverage(session, norm)
    assert cov.understood == 5 and cov.more_members_needed == 1
    assert "(1 more member)" in cov.shortfall_message
    record_response(session, norm, author, "yes", "endorse")
    session.commit()
    cov = exposure.coverage(session, norm)
    assert cov.understood_pct == 75 and cov.meets_threshold
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
    cov = exposure.coverage(session, norm)
    assert cov.more_members_needed == 0 and cov.more_responses_needed == 1
    assert cov.shortfall_message.endswith("2 responses; 3 needed.")
    with pytest.raises(ValidationFailed):
        change_status(session, norm, steward, "in_force")


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
    cov = exposure.coverage(session, norm)
    assert cov.active_members == 3 and cov.understood == 2 and cov.responses == 2
    draft = factory.draft(body="An entirely new argument.")
    revise_norm(session, norm, author, draft, "New argument.", True)
    session.commit()
    cov = exposure.coverage(session, norm)
    assert cov.understood == 0 and cov.responses == 0
    assert cov.stale == 2 and cov.levels["none"] == 3


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
    exposure.record_event(session, me, started, 1, "opened")
    changed = factory.norm(community, author, title="Changed")
    exposure.record_event(session, me, changed, 1, "read")
    record_response(session, changed, others[0], "yes", "endorse")
    revise_norm(
        session, changed, author, factory.draft("Changed", body="Rewritten."), "Rewritten.", True
    )
    done = factory.norm(community, author, title="Done")
    exposure.record_event(session, me, done, 1, "read")
    factory.norm(community, author, status="draft", title="A draft")
    in_force = factory.norm(community, author, status="in_force", title="In force")
    elsewhere = factory.community()
    factory.norm(elsewhere, title="Not my community")
    session.commit()
    # Owner, me, author, 3 others and the steward the in-force factory adds:
    # 7 members, so 4 must understand for 50%.

    queue = exposure.reading_queue(session, me)
    # Open norms first, closest to the gate first; ties: most recently active first.
    assert [(item.norm.title, item.reason, item.coverage_gap) for item in queue] == [
        ("Near the gate", "unread", 2),
        ("Changed", "stale", 4),
        ("Started", "opened", 4),
        ("Far from the gate", "unread", 4),
        ("In force", "unread", 4),
    ]
    assert queue[-1].norm.id == in_force.id
    norm, reason, gap = queue[0]
    assert (norm.id, reason, gap) == (near.id, "unread", 2)
    assert len(exposure.reading_queue(session, me, limit=2)) == 2
    # The author is not asked to read what they wrote.
    assert exposure.reading_queue(session, author) == []
    assert [i.norm.title for i in exposure.reading_queue(session, others[2])][:1] == [
        "Near the gate"
    ]
    assert exposure.reading_queue(session, me, community=elsewhere) == []


def test_nudges(session, factory):
    community = factory.community()
    steward = factory.member(community, role="steward", name="Steward")
    reader = factory.member(community, name="Reader")
    lazy = factory.member(community, name="Lazy")
    norm = factory.norm(community, steward)
    exposure.record_event(session, reader, norm, 1, "read")
    session.commit()
    with pytest.raises(Forbidden):
        exposure.nudge(session, lazy, norm)
    created = exposure.nudge(session, steward, norm)
    session.commit()
    nudged = {n.member_id for n in created}
    assert lazy.id in nudged and reader.id not in nudged
    assert exposure.nudge(session, steward, norm) == []  # one pending nudge each is enough
    pending = exposure.pending_nudges(session, [lazy.id, reader.id])
    assert [(n.member_id, n.norm_id) for n in pending] == [(lazy.id, norm.id)]
    assert exposure.mark_nudges_delivered(session, [pending[0].id]) == 1
    session.commit()
    assert exposure.pending_nudges(session, [lazy.id]) == []
    assert session.get(Nudge, pending[0].id).delivered_at is not None
    # After delivery a steward may nudge again, but only about the chosen members.
    again = exposure.nudge(session, steward, norm, members=[lazy])
    assert [n.member_id for n in again] == [lazy.id]


def test_concurrent_events_leave_one_correct_summary(app, session, factory, is_postgres):
    """Eight threads, each with its own session, report on the same member and norm.

    On PostgreSQL they really run at once (the upsert and row lock serialise
    them); on SQLite the IMMEDIATE write transactions queue them. Either way
    every event must be in the ledger and the summary must be exactly one row.
    """
    community = factory.community()
    member = factory.member(community)
    norm = factory.norm(community)
    threads_count = 8
    rounds = 3 if is_postgres else 2
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []
    make_session = app.extensions["normhub.sessionmaker"]

    def work(i: int) -> None:
        own = make_session()
        try:
            user = own.get(type(member), member.id)
            own_norm = own.get(type(norm), norm.id)
            own.commit()  # on SQLite even this read holds the write lock until it ends
            barrier.wait(timeout=60)
            for _ in range(rounds):
                exposure.record_event(own, user, own_norm, 1, "delivered")
                own.commit()
                exposure.record_event(own, user, own_norm, 1, "read")
                own.commit()
        except BaseException as exc:  # noqa: BLE001 (reported by the main thread)
            errors.append(exc)
            barrier.abort()
            own.rollback()
        finally:
            own.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    session.expire_all()
    summaries = session.scalars(
        select(ExposureSummary).where(ExposureSummary.norm_id == norm.id)
    ).all()
    assert len(summaries) == 1
    [summary] = summaries
    assert summary.user_id == member.id
    assert summary.level_name == "read" and summary.level_version == 1
    assert summary.highest_level_name == "read" and summary.latest_version == 1
    counts = dict(
        session.execute(
            select(ExposureEvent.kind, func.count())
            .where(ExposureEvent.norm_id == norm.id)
            .group_by(ExposureEvent.kind)
        ).all()
    )
    assert counts == {"delivered": threads_count * rounds, "read": 1}
