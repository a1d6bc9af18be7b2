"""Domain events: in-transaction receivers share the change, after-commit ones follow it."""

from __future__ import annotations

from sqlalchemy import func, select

from normhub import events
from normhub.accounts.models import User
from normhub.exposure.check import check_exposure, record_check
from normhub.exposure.models import ExposureEvent
from normhub.exposure.nudges import nudge
from normhub.responses.services import record_response
from tests.test_api_exposure import exposure_url, token_for

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


class _Heard:
    """Collects what an event's after-commit receivers were told, while connected."""

    def __init__(self, event: events.Event):
        self.event = event
        self.facts: list[dict] = []

    def _receive(self, _sender, **facts):
        self.facts.append(facts)

    def __enter__(self):
        self.event.after_commit.connect(self._receive)
        return self.facts

    def __exit__(self, *_exc):
        self.event.after_commit.disconnect(self._receive)


def test_an_api_exposure_check_is_announced_once_recorded(app, client, session, factory):
    community = factory.community()
    norm = factory.norm(community)
    checker = factory.member(community, name="Checker")
    subject = factory.member(community, name="Subject")
    headers = token_for(session, checker)
    with _Heard(events.Exposure.CheckRecorded) as heard:
        response = client.get(exposure_url(community, norm, subject), headers=headers)
    assert response.status_code == 200
    assert [(f["checker_id"], f["subject_id"], f["norm_id"]) for f in heard] == [
        (checker.id, subject.id, norm.id)
    ]
    assert heard[0]["checked_at"] is not None


def test_a_check_recorded_in_a_rolled_back_session_is_not_announced(session, factory):
    community = factory.community()
    norm = factory.norm(community)
    checker = factory.member(community, name="Checker")
    subject = factory.member(community, name="Subject")
    report = check_exposure(session, norm, subject)
    with _Heard(events.Exposure.CheckRecorded) as heard:
        record_check(session, checker, subject, norm, report)
        session.rollback()
        record_check(session, checker, subject, norm, report)
        assert heard == []
        session.commit()
    assert [f["subject_id"] for f in heard] == [subject.id]


def test_queued_nudges_are_announced_after_commit(session, factory):
    community = factory.community()
    steward = factory.member(community, role="steward", name="Steward")
    reader = factory.member(community, name="Reader")
    norm = factory.norm(community, steward)
    with _Heard(events.Exposure.NudgeQueued) as heard:
        created = nudge(session, steward, norm)
        assert heard == []
        session.commit()
        assert nudge(session, steward, norm) == []  # nothing new: nothing announced
        session.commit()
    assert len(heard) == 1
    assert heard[0]["norm"].id == norm.id and heard[0]["steward"].id == steward.id
    assert {n.member_id for n in heard[0]["nudges"]} == {n.member_id for n in created}
    assert reader.id in {n.member_id for n in created}
