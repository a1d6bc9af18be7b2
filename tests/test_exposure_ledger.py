"""The exposure ledger: events, the summaries they keep, read reports, concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from normhub.db import utcnow
from normhub.exposure.check import check_exposure
from normhub.exposure.ledger import (
    OPENED_DEBOUNCE,
    read_report_token,
    record_event,
    record_read_report,
)
from normhub.exposure.models import ExposureEvent, ExposureSummary
from normhub.responses.services import record_response


@pytest.fixture
def world(factory):
    community = factory.community()
    author = factory.member(community, name="Ada")
    charlie = factory.member(community, name="Charlie")
    norm = factory.norm(community, author)
    return community, author, charlie, norm


def test_response_levels(session, factory, world):
    community, _, charlie, norm = world
    dana = factory.member(community, name="Dana")
    erin = factory.member(community, name="Erin")
    record_response(session, norm, charlie, "yes", "endorse")
    record_response(session, norm, dana, "yes", "reject")
    record_response(session, norm, erin, "partly", "undecided")
    session.commit()
    levels = {u.display_name: check_exposure(session, norm, u).level for u in (charlie, dana, erin)}
    assert levels == {"Charlie": "endorsed", "Dana": "understood", "Erin": "read"}
    answer = check_exposure(session, norm, dana).answer
    assert "Dana read and understood version 1. On version 1 they said they reject it." in answer
    assert "only partly understood" in check_exposure(session, norm, erin).answer
    # A change of mind from endorse to reject lowers the level on this version,
    # while the deepest level ever reached is kept.
    record_response(session, norm, charlie, "yes", "reject")
    session.commit()
    summary = session.get(ExposureSummary, (charlie.id, norm.id))
    assert summary.level_name == "understood" and summary.highest_level_name == "endorsed"
    kinds = session.scalars(
        select(ExposureEvent.kind).where(ExposureEvent.user_id == charlie.id)
    ).all()
    assert kinds == ["responded", "responded"]


def test_read_reports_forged_duplicate_unknown_version(app, session, factory, world):
    community, author, charlie, norm = world
    stranger = factory.user("Stranger")
    with app.test_request_context():
        good = read_report_token(charlie, norm, 1)
        assert not record_read_report(session, charlie, norm, 1, good + "x")
        assert not record_read_report(session, charlie, norm, 1, "garbage")
        assert not record_read_report(session, charlie, norm, 1, None)
        # Someone else's token cannot be replayed as Charlie's, and vice versa.
        assert not record_read_report(session, author, norm, 1, good)
        # The token binds the version: claiming another one fails.
        assert not record_read_report(session, charlie, norm, 2, good)
        assert not record_read_report(session, charlie, norm, "two", good)
        # A version that does not exist, even with a validly signed token.
        ghost = read_report_token(charlie, norm, 9)
        assert not record_read_report(session, charlie, norm, 9, ghost)
        # A non-member with their own valid token.
        outsider = read_report_token(stranger, norm, 1)
        assert not record_read_report(session, stranger, norm, 1, outsider)
        # A token signed with another key.
        from itsdangerous import URLSafeTimedSerializer

        forged = URLSafeTimedSerializer("not the key", salt="read-report").dumps(
            {"u": charlie.id, "n": norm.id, "v": 1}
        )
        assert not record_read_report(session, charlie, norm, 1, forged)
        assert (
            session.scalar(
                select(func.count())
                .select_from(ExposureEvent)
                .where(ExposureEvent.user_id == charlie.id)
            )
            == 0
        )
        assert record_read_report(session, charlie, norm, "1", good)
        assert not record_read_report(session, charlie, norm, 1, good)
    session.commit()
    reads = session.scalars(select(ExposureEvent).where(ExposureEvent.kind == "read")).all()
    assert [(e.user_id, e.version_number) for e in reads] == [(charlie.id, 1)]


def test_opened_is_debounced_but_a_new_version_is_not(session, factory, world):
    _, _, charlie, norm = world
    start = utcnow()
    assert record_event(session, charlie, norm, 1, "opened", at=start)
    assert record_event(session, charlie, norm, 1, "opened", at=start) is None
    later = start + OPENED_DEBOUNCE + timedelta(seconds=1)
    assert record_event(session, charlie, norm, 1, "opened", at=later)
    session.commit()
    summary = session.get(ExposureSummary, (charlie.id, norm.id))
    assert summary.first_seen_at == start and summary.last_seen_at == later


def test_record_event_rejects_unknown_kind(session, world):
    _, _, charlie, norm = world
    with pytest.raises(ValueError):
        record_event(session, charlie, norm, 1, "glanced")


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
                record_event(own, user, own_norm, 1, "delivered")
                own.commit()
                record_event(own, user, own_norm, 1, "read")
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
        select(ExposureSummary).where(
            ExposureSummary.norm_id == norm.id, ExposureSummary.user_id == member.id
        )
    ).all()
    assert len(summaries) == 1
    [summary] = summaries
    assert summary.user_id == member.id
    assert summary.level_name == "read" and summary.level_version == 1
    assert summary.highest_level_name == "read" and summary.latest_version == 1
    counts = dict(
        session.execute(
            select(ExposureEvent.kind, func.count())
            .where(ExposureEvent.norm_id == norm.id, ExposureEvent.user_id == member.id)
            .group_by(ExposureEvent.kind)
        ).all()
    )
    assert counts == {"delivered": threads_count * rounds, "read": 1}
