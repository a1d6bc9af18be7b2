"""Domain events: in-transaction receivers share the change, after-commit ones follow it."""

from __future__ import annotations

from sqlalchemy import func, select

from normhub import events
from normhub.accounts.models import User
from normhub.exposure.models import ExposureEvent
from normhub.responses.services import record_response

PROBE = events.Event("test.probe", "value")


def test_in_transaction_receivers_run_at_once_with_the_producers_session(session):
    seen = []

    def receiver(sender, value):
        seen.append((sender, value))

    PROBE.in_transaction.connect(receiver)
    try:
        events.publish(session, PROBE, value=1)
    finally:
        PROBE.in_transaction.disconnect(receiver)
    assert seen == [(session, 1)]


def test_after_commit_receivers_wait_for_the_commit_and_a_free_connection(app, session, factory):
    seen = []

    def receiver(_sender, value):
        # The committing session has given its connection back by now.
        pool = app.extensions["normhub.engine"].pool
        seen.append((value, pool.checkedout()))

    PROBE.after_commit.connect(receiver)
    try:
        factory.user("Ada Quill")
        session.rollback()  # start clean: nothing checked out
        session.scalar(select(func.count(User.id)))
        events.publish(session, PROBE, value="kept")
        assert seen == []
        session.commit()
    finally:
        PROBE.after_commit.disconnect(receiver)
    assert seen == [("kept", 0)]


def test_after_commit_work_is_dropped_on_rollback(session):
    ran = []
    session.scalar(select(func.count(User.id)))
    events.call_after_commit(session, ran.append, "rolled back")
    session.rollback()
    session.scalar(select(func.count(User.id)))
    session.commit()
    assert ran == []


def test_a_released_savepoint_waits_for_the_outer_commit(session):
    ran = []
    session.scalar(select(func.count(User.id)))
    with session.begin_nested():
        events.call_after_commit(session, ran.append, "outer")
    assert ran == []
    session.commit()
    assert ran == ["outer"]


def test_a_failing_after_commit_receiver_never_undoes_the_change(session, factory, caplog):
    def boom():
        raise RuntimeError("mail server on fire")

    user = factory.user("Ben Ortiz")
    user.display_name = "Ben Ortiz-Lee"
    events.call_after_commit(session, boom)
    session.commit()
    assert session.scalar(select(User.display_name).where(User.id == user.id)) == "Ben Ortiz-Lee"
    assert "mail server on fire" in caplog.text


def test_the_ledger_follows_a_response_through_the_event(session, factory):
    community = factory.community()
    reader = factory.member(community)
    norm = factory.norm(community)
    record_response(session, norm, reader, "yes", "endorse", "", [])
    assert (
        session.scalar(
            select(func.count(ExposureEvent.id)).where(
                ExposureEvent.user_id == reader.id, ExposureEvent.kind == "responded"
            )
        )
        == 1
    )
