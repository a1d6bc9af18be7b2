"""A digest run's claims: renewed while it lives, taken by any host's run once they go stale."""

from __future__ import annotations

import os
import threading
from datetime import timedelta

from sqlalchemy import select

from normhub import config
from normhub.db import make_engine, utcnow
from normhub.digest import claims
from normhub.digest.models import DigestSend
from normhub.digest.sending import MAX_SEND_WORKERS, DigestRun
from tests.smtp import Collector, SMTPServer
from tests.test_digest_send import _sending_row, _town_with_members, build_scenario, run_digests

ELSEWHERE = "another-host:4242"  # a run on a machine this one cannot look into


def _claimed_at(session, user) -> object:
    session.rollback()
    return session.scalar(select(DigestSend.claimed_at).where(DigestSend.user_id == user.id))


def test_the_heartbeat_renews_this_runs_claims_and_no_others(app, session, factory):
    s = build_scenario(factory, session)
    long_ago = utcnow() - timedelta(minutes=10)
    session.add(_sending_row(s.alice, long_ago, claimed_at=long_ago, claimed_by=claims.RUN_HOLDER))
    session.add(_sending_row(s.bob, long_ago, claimed_at=long_ago, claimed_by=ELSEWHERE))
    session.commit()
    heartbeat = claims.Heartbeat(
        session.get_bind(),
        DigestSend.period_kind == "weekly",
        on_lost=lambda reason: None,
    )
    heartbeat.renew()
    assert _claimed_at(session, s.alice) > utcnow() - timedelta(seconds=30)
    assert _claimed_at(session, s.bob) == long_ago


def test_another_hosts_claim_is_left_alone_while_renewed_and_taken_once_stale(
    app, session, factory, smtp_server
):
    s = build_scenario(factory, session)
    now = utcnow()
    week = now - timedelta(days=7)
    renewed = now - claims.RENEW_EVERY
    stale = now - claims.CLAIM_STALE_AFTER - timedelta(seconds=30)
    session.add(
        _sending_row(s.alice, now, window_start=week, claimed_at=renewed, claimed_by=ELSEWHERE)
    )
    session.add(_sending_row(s.bob, now, window_start=week, claimed_at=stale, claimed_by=ELSEWHERE))
    session.commit()
    report = run_digests(app, session, smtp_server.transport())
    assert report.busy == 1 and report.resent == 1
    assert smtp_server.handler.to(s.alice.email) == []
    assert len(smtp_server.handler.to(s.bob.email)) == 1


def test_a_run_that_cannot_renew_its_claims_is_told_to_stop(monkeypatch, tmp_path):
    monkeypatch.setattr(claims, "RENEW_EVERY", timedelta(milliseconds=10))
    monkeypatch.setattr(claims, "STOP_UNRENEWED_AFTER", timedelta(0))
    unreachable = make_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'normhub.sqlite3'}")
    told = threading.Event()
    reasons = []

    def on_lost(reason):
        reasons.append(reason)
        told.set()

    with claims.Heartbeat(unreachable, DigestSend.period_kind == "weekly", on_lost):
        assert told.wait(timeout=30)
    assert reasons == ["could not renew this run's claims for 0 s (database unreachable?)"]


def test_the_host_name_can_be_set_and_only_this_hosts_processes_are_looked_up(monkeypatch):
    monkeypatch.setenv("NORMHUB_HOST_NAME", "host-b")
    assert config.host_name() == "host-b"
    gone = os.getpid() + 10_000_000  # no such process on any host
    assert claims.holder_is_dead(f"host-b:{gone}")
    assert not claims.holder_is_dead(f"host-a:{gone}")  # another host's: only staleness tells
    assert not claims.holder_is_dead(f"host-b:{os.getpid()}")


def test_renewing_all_the_time_beside_the_most_senders_a_run_may_have_gets_in_no_ones_way(
    app, session, factory, monkeypatch
):
    """Renewals every few milliseconds, on the rows the senders are marking sent, from a
    connection of the pool each sender holds one of: every member gets one digest and the
    heartbeat never fails (a single failure would stop the run here)."""
    monkeypatch.setattr(claims, "RENEW_EVERY", timedelta(milliseconds=5))
    monkeypatch.setattr(claims, "STOP_UNRENEWED_AFTER", timedelta(0))
    _, expected = _town_with_members(factory, session, 40)
    with SMTPServer(Collector()) as server:
        transport = server.transport()
        transport.open()
        try:
            run = DigestRun(app, session, "weekly", transport, workers=MAX_SEND_WORKERS)
            report = run.run()
        finally:
            transport.close()
    assert report.stopped is None and report.sent == len(expected)
    assert len(set(server.handler.connections)) > 1
