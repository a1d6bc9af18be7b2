"""Sending digests through a real SMTP server (aiosmtpd, in-process)."""

from __future__ import annotations

import gc
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from normhub.digest.models import DigestSend
from normhub.digest.periods import period_key
from normhub.digest.sending import DigestRun
from normhub.discussion.services import post_comment
from normhub.exposure.models import ExposureEvent, Nudge
from normhub.exposure.nudges import nudge
from normhub.mail import addresses
from normhub.mail.models import EmailAddressState
from normhub.mail.transports import OutboxTransport, SMTPTransport
from normhub.norms.services import revise_norm
from normhub.responses.services import record_response
from tests.smtp import Collector, SMTPServer, free_port, parts


def run_digests(app, session, transport, period="weekly", **kwargs):
    """What ``flask digest send`` does, minus the progress bar."""
    transport.open()
    try:
        return DigestRun(app, session, period, transport, **kwargs).run()
    finally:
        transport.close()


def outbox(app) -> OutboxTransport:
    return OutboxTransport(app.config["OUTBOX_DIR"])


def build_scenario(factory, session) -> SimpleNamespace:
    """Three communities, members with different news, and one with none."""
    owner = factory.user("Olga Owner")
    town = factory.community(owner)
    author = factory.member(town, name="Arno Author")
    alice = factory.member(town, name="Alice")
    bob = factory.member(town, name="Bob")
    quiet = factory.community(owner)
    dora = factory.member(quiet, name="Dora")  # her only community has nothing new
    club = factory.community(owner, visibility="members")
    carol = factory.member(club, name="Carol")
    club_norm = factory.norm(club, title="What the club keeps to itself")

    fresh = factory.norm(town, author, title="Bring your own cup")
    revised = factory.norm(town, author, title="Quiet hours after ten")
    record_response(session, revised, alice, "yes", "endorse")
    session.commit()
    revise_norm(
        session,
        revised,
        author,
        factory.draft(title="Quiet hours after ten", body="## Why\n\nSleep matters more now."),
        "Quiet hours now start at eleven, not ten.",
        True,
    )
    comment = post_comment(session, fresh, alice, "Does a borrowed cup count?")
    post_comment(session, fresh, bob, "Only if you wash it.", parent=comment)
    steward = factory.member(town, role="steward", name="Stella Steward")
    nudge(session, steward, fresh, [bob])
    session.commit()
    return SimpleNamespace(**locals())


def sends(session, status=None):
    query = select(DigestSend)
    if status:
        query = query.where(DigestSend.status == status)
    return list(session.scalars(query))


def _sending_row(user, now, *, claimed_at, window_start=None, claimed_by=None) -> DigestSend:
    """This week's ledger row for ``user`` as a run leaves it mid-send ("sending")."""
    return DigestSend(
        user_id=user.id,
        period_kind="weekly",
        period_key=period_key("weekly", now),
        status="sending",
        window_start=window_start or now,
        window_end=now,
        attempts=1,
        claimed_at=claimed_at,
        claimed_by=claimed_by,
    )


def test_digests_reach_the_right_members_with_headers_and_working_links(
    app, session, factory, smtp_server, client
):
    s = build_scenario(factory, session)
    report = run_digests(app, session, smtp_server.transport())

    received = {m.recipients[0]: m.message for m in smtp_server.handler.messages}
    assert s.dora.email not in received  # nothing new: no email
    assert report.skipped >= 1 and report.failed == 0 and report.bounced == 0
    assert report.sent == len(received)
    assert {s.alice.email, s.bob.email, s.carol.email} <= set(received)

    alice_mail = received[s.alice.email]
    assert alice_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = alice_mail["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://normhub.test/unsubscribe/") and unsubscribe.endswith(">")
    assert alice_mail["Message-ID"] and alice_mail["Date"] and alice_mail["From"]
    assert s.alice.email in alice_mail["To"]
    assert alice_mail["Subject"] == f"Your NormHub digest from {s.town.name} — 2 norms need you"
    bodies = parts(alice_mail)
    assert set(bodies) == {"text/plain", "text/html"}
    text, html = bodies["text/plain"], bodies["text/html"]
    # personal content: her stale response with the change summary, the reply to her
    assert "Your response is now stale" in text and "Your response is now stale" in html
    assert "Quiet hours now start at eleven, not ten." in text
    assert "Only if you wash it." in text
    assert "Bring your own cup" in html
    # members-only content goes only to members
    assert "What the club keeps to itself" not in text + html
    assert "What the club keeps to itself" in parts(received[s.carol.email])["text/plain"]
    assert "What the club keeps to itself" not in str(parts(received[s.bob.email]))
    # Bob: nudged, and not told his (absent) response is stale
    bob_text = parts(received[s.bob.email])["text/plain"]
    assert "Stella Steward asked you to read it" in bob_text
    assert "Your response is now stale" not in bob_text

    # every link in the mail works through the app
    norm_url = f"http://normhub.test/c/{s.town.slug}/norms/{s.revised.slug}"
    assert norm_url in text and f'href="{norm_url}"' in html
    assert client.get(urlsplit(norm_url).path).status_code == 200
    settings_path = "http://normhub.test/settings/digest"
    assert settings_path in text


def test_sent_digest_records_delivered_events_and_nudges(app, session, factory, smtp_server):
    s = build_scenario(factory, session)
    run_digests(app, session, smtp_server.transport())
    session.expire_all()

    delivered = {
        (e.user_id, e.norm_id): e.version_number
        for e in session.scalars(select(ExposureEvent).where(ExposureEvent.kind == "delivered"))
    }
    assert delivered[(s.alice.id, s.revised.id)] == 2  # the version the digest presented
    assert delivered[(s.bob.id, s.fresh.id)] == 1
    assert (s.bob.id, s.club_norm.id) not in delivered
    assert (s.dora.id, s.fresh.id) not in delivered
    nudge = session.scalar(select(Nudge).where(Nudge.member_id == s.bob.id))
    assert nudge.delivered_at is not None
    sent = {row.user_id: row for row in sends(session, "sent")}
    assert sent[s.alice.id].period_key == period_key("weekly", sent[s.alice.id].sent_at)
    assert {row.user_id for row in sends(session, "skipped")} >= {s.dora.id}


def test_rerun_in_same_period_sends_nothing_twice(app, session, factory, smtp_server):
    build_scenario(factory, session)
    first = run_digests(app, session, smtp_server.transport())
    count = len(smtp_server.handler.messages)
    second = run_digests(app, session, smtp_server.transport())
    assert first.sent == count > 0
    assert second.sent == 0 and second.skipped == 0
    assert len(smtp_server.handler.messages) == count


def test_dry_run_sends_and_records_nothing(app, session, factory, smtp_server):
    build_scenario(factory, session)
    report = run_digests(app, session, smtp_server.transport(), dry_run=True)
    assert report.would_send >= 3
    assert smtp_server.handler.messages == []
    assert session.scalar(select(func.count(DigestSend.id))) == 0
    assert (
        session.scalar(
            select(func.count(ExposureEvent.id)).where(ExposureEvent.kind == "delivered")
        )
        == 0
    )


def test_a_run_leaves_the_process_heap_out_of_its_collections_and_hands_it_back(
    app, session, factory, smtp_server
):
    build_scenario(factory, session)
    frozen_while_running = []
    transport = smtp_server.transport()
    transport.open()
    try:
        run = DigestRun(app, session, "weekly", transport)
        run.run(lambda n: frozen_while_running.append(gc.get_freeze_count()))
    finally:
        transport.close()
    assert frozen_while_running and all(frozen_while_running)
    assert gc.get_freeze_count() == 0


def test_limit_sends_at_most_n_and_the_rest_next_time(app, session, factory, smtp_server):
    build_scenario(factory, session)
    first = run_digests(app, session, smtp_server.transport(), limit=2)
    assert first.sent == 2 and len(smtp_server.handler.messages) == 2
    assert first.not_attempted >= 1
    second = run_digests(app, session, smtp_server.transport())
    counts = Counter(m.recipients[0] for m in smtp_server.handler.messages)
    assert second.sent >= 1 and set(counts.values()) == {1}


def test_without_smtp_host_messages_go_to_the_outbox(app, session, factory, tmp_path):
    s = build_scenario(factory, session)
    report = run_digests(app, session, outbox(app))
    files = sorted((tmp_path / "instance" / "outbox").glob("*.eml"))
    assert report.sent == len(files) >= 3
    import email
    import email.policy

    messages = [
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files
    ]
    to_alice = [m for m in messages if s.alice.email in m["To"]]
    assert len(to_alice) == 1
    assert to_alice[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Your response is now stale" in parts(to_alice[0])["text/plain"]


def test_cli_bad_settings_fail_before_anything_is_marked(app, session, factory):
    build_scenario(factory, session)
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_SECURITY="none")
    result = app.test_cli_runner().invoke(args=["digest", "send", "--period", "weekly"])
    assert result.exit_code == 1
    assert "Could not connect to the SMTP server at 127.0.0.1" in result.output
    assert session.scalar(select(func.count(DigestSend.id))) == 0


def test_cli_auth_failure_and_starttls_missing_fail_fast(app, session, factory):
    from aiosmtpd.smtp import AuthResult

    build_scenario(factory, session)

    def refuse(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False)

    with SMTPServer(Collector(), authenticator=refuse, auth_require_tls=False) as server:
        app.config.update(server.settings(), SMTP_USER="digest", SMTP_PASSWORD="wrong password")
        result = app.test_cli_runner().invoke(args=["digest", "send"])
        assert result.exit_code == 1
        assert "refused the login for 'digest'" in result.output
        app.config.update(SMTP_USER=None, SMTP_SECURITY="starttls")
        result = app.test_cli_runner().invoke(args=["digest", "send"])
        assert result.exit_code == 1
        assert "NORMHUB_SMTP_SECURITY" in result.output
        assert server.handler.messages == []
    assert session.scalar(select(func.count(DigestSend.id))) == 0


def test_cli_sends_with_progress_and_summary(app, session, factory, smtp_server):
    build_scenario(factory, session)
    app.config.update(smtp_server.settings())
    result = app.test_cli_runner().invoke(args=["digest", "send", "--period", "weekly"])
    assert result.exit_code == 0, result.output
    assert "Weekly digest" in result.output
    sent = len(smtp_server.handler.messages)
    assert f"sent {sent}, skipped" in result.output and "failed 0, bounced 0" in result.output
    dry = app.test_cli_runner().invoke(args=["digest", "send", "--dry-run"])
    assert "0 would be sent" in dry.output


def test_a_suppressed_address_gets_no_digest_and_the_summary_says_so(
    app, session, factory, smtp_server
):
    s = build_scenario(factory, session)
    addresses.suppress(session, s.alice.email, "complained")
    session.commit()
    dry = run_digests(app, session, smtp_server.transport(), dry_run=True)
    assert dry.suppressed == 1 and "1 suppressed (address bounced or blocked)" in dry.summary()
    report = run_digests(app, session, smtp_server.transport())
    assert smtp_server.handler.to(s.alice.email) == []
    assert smtp_server.handler.to(s.bob.email)
    assert report.suppressed == 1
    assert "1 not mailed: their address bounced earlier or is blocked." in report.summary()
    assert session.scalar(select(DigestSend).where(DigestSend.user_id == s.alice.id)) is None


def test_refused_address_is_bounced_suppressed_and_not_retried(app, session, factory):
    s = build_scenario(factory, session)
    with SMTPServer(Collector(refuse={s.bob.email})) as server:
        report = run_digests(app, session, server.transport())
        assert report.bounced == 1 and report.failed == 0
        assert server.handler.to(s.bob.email) == []
        assert server.handler.to(s.alice.email)  # the others still went out
    bob_row = session.scalar(select(DigestSend).where(DigestSend.user_id == s.bob.id))
    assert bob_row.status == "bounced" and "550" in bob_row.last_error
    assert session.get(EmailAddressState, s.bob.email).status == "bounced"
    # the nudge was not delivered, so it is still pending
    assert session.scalar(select(Nudge.delivered_at).where(Nudge.member_id == s.bob.id)) is None
    with SMTPServer(Collector()) as healthy:
        again = run_digests(app, session, healthy.transport())
        assert healthy.handler.messages == []
        assert again.sent == 0
        # next week: still suppressed, and said so
        from datetime import timedelta

        from normhub.db import utcnow

        later = run_digests(app, session, healthy.transport(), now=utcnow() + timedelta(days=7))
        assert healthy.handler.to(s.bob.email) == []
        assert later.suppressed == 1


def test_temporary_refusal_is_failed_and_retried_next_run(app, session, factory):
    s = build_scenario(factory, session)
    with SMTPServer(Collector(defer={s.alice.email})) as server:
        report = run_digests(app, session, server.transport())
        assert report.failed == 1 and server.handler.to(s.alice.email) == []
    row = session.scalar(select(DigestSend).where(DigestSend.user_id == s.alice.id))
    assert row.status == "failed" and "451" in row.last_error
    with SMTPServer(Collector()) as server:
        retry = run_digests(app, session, server.transport())
        assert retry.sent == 1 and len(server.handler.to(s.alice.email)) == 1


@pytest.mark.parametrize("workers", [1, 3])
def test_killed_run_then_rerun_gives_everyone_exactly_one_digest(app, session, factory, workers):
    s = build_scenario(factory, session)
    town_members = [factory.member(s.town, name=f"Extra {n}") for n in range(6)]
    expected = {s.alice.email, s.bob.email, s.carol.email} | {u.email for u in town_members}

    with SMTPServer(Collector(drop_after=3)) as dying:
        first = run_digests(app, session, dying.transport(), workers=workers)
        assert first.sent == 3
        # the message each connection had in flight when the server went away
        assert 1 <= first.failed <= workers
        assert first.stopped and "reconnecting did not help" in first.stopped
        assert first.not_attempted >= 1
        # each: the message, then once more after reconnecting
        assert dying.handler.drops == 2 * first.failed
    with SMTPServer(Collector()) as healthy:
        second = run_digests(app, session, healthy.transport())
        assert second.failed == 0 and second.stopped is None

    per_recipient = Counter(
        m.recipients[0] for m in dying.handler.messages + healthy.handler.messages
    )
    assert expected <= set(per_recipient)
    assert set(per_recipient.values()) == {1}
    assert s.dora.email not in per_recipient
    statuses = Counter(row.status for row in sends(session))
    assert statuses["sent"] == len(per_recipient)
    assert set(statuses) <= {"sent", "skipped"}


def test_interrupted_sending_row_is_resent_after_the_lease(app, session, factory, smtp_server):
    """At-least-once: a row left "sending" by a dead process is sent again, once."""
    from datetime import timedelta

    from normhub.db import utcnow

    s = build_scenario(factory, session)
    now = utcnow()
    week = now - timedelta(days=7)
    session.add(_sending_row(s.alice, now, window_start=week, claimed_at=now - timedelta(hours=1)))
    # and one claimed a moment ago: another run is on it, leave it alone
    session.add(_sending_row(s.bob, now, window_start=week, claimed_at=now))
    session.commit()
    report = run_digests(app, session, smtp_server.transport())
    assert report.resent == 1 and report.busy == 1
    assert len(smtp_server.handler.to(s.alice.email)) == 1
    assert smtp_server.handler.to(s.bob.email) == []


def test_cli_community_option_limits_members_and_content(app, session, factory, tmp_path):
    s = build_scenario(factory, session)
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["digest", "send", "--community", "no-such-place"])
    assert unknown.exit_code == 1 and "No community with the address" in unknown.output
    # no SMTP host configured: the outbox
    result = runner.invoke(args=["digest", "send", "--community", s.club.slug])
    assert result.exit_code == 0, result.output
    import email
    import email.policy

    files = list((tmp_path / "instance" / "outbox").glob("*.eml"))
    messages = [
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files
    ]
    # club members (Carol, and Olga who made it), not the author; nothing from the town
    assert {m["To"].addresses[0].addr_spec for m in messages} == {s.carol.email, s.owner.email}
    for message in messages:
        assert "Bring your own cup" not in parts(message)["text/plain"]
        assert "What the club keeps to itself" in parts(message)["text/plain"]


def test_resent_digest_keeps_its_message_id(app, session, factory, smtp_server):
    s = build_scenario(factory, session)
    with SMTPServer(Collector(defer={s.alice.email})) as server:
        run_digests(app, session, server.transport())
    first_id = session.scalar(select(DigestSend.message_id).where(DigestSend.user_id == s.alice.id))
    run_digests(app, session, smtp_server.transport())
    (message,) = [m.message for m in smtp_server.handler.to(s.alice.email)]
    assert message["Message-ID"] == first_id
    assert first_id.startswith("<digest.weekly.") and first_id.endswith("@normhub.invalid>")


@pytest.mark.parametrize("workers", [1, 3])
def test_cli_reports_a_lost_connection_and_exits_nonzero(app, session, factory, workers):
    build_scenario(factory, session)
    with SMTPServer(Collector(drop_after=1)) as dying:
        app.config.update(dying.settings())
        result = app.test_cli_runner().invoke(args=["digest", "send", "--workers", str(workers)])
    assert result.exit_code == 1
    failed = int(re.search(r"failed (\d+),", result.output).group(1))
    assert "sent 1," in result.output and 1 <= failed <= workers
    assert "not attempted: rerun to send them" in result.output
    assert "Stopped early: Lost the connection to SMTP 127.0.0.1" in result.output
    assert len(dying.handler.messages) == 1


def test_claims_of_a_dead_run_on_this_host_are_sent_at_once(app, session, factory, smtp_server):
    """A killed run's claimed rows need not wait for the lease: its process is gone."""
    import socket

    from normhub.db import utcnow

    s = build_scenario(factory, session)
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(finished.stdout)
    now = utcnow()
    session.add(
        _sending_row(s.alice, now, claimed_at=now, claimed_by=f"{socket.gethostname()}:{dead_pid}")
    )
    session.commit()
    report = run_digests(app, session, smtp_server.transport())
    assert report.resent == 1 and report.busy == 0
    assert len(smtp_server.handler.to(s.alice.email)) == 1


def _members_with_digests_due(factory, session) -> set[str]:
    """The scenario plus three more members: more messages than the stalling server takes."""
    s = build_scenario(factory, session)
    extra = [factory.member(s.town, name=f"Late {n}") for n in range(3)]
    session.close()
    return {s.alice.email, s.bob.email, s.carol.email} | {u.email for u in extra}


@contextmanager
def _send_until_the_server_stalls(app, instance_path, workers: int):
    """The real ``flask digest send`` in its own process, until the server holds a message.

    The server takes three messages and holds the next until ``release`` is set
    (then refuses it for now). Yields the process and the server's handler; the
    process is killed at the end if it still runs.
    """
    env = {
        **os.environ,
        "NORMHUB_DATABASE_URL": app.config["DATABASE_URL"],
        "NORMHUB_INSTANCE_PATH": str(instance_path),
        "NORMHUB_SECRET_KEY": app.config["SECRET_KEY"],
        "NORMHUB_BASE_URL": "http://normhub.test",
        "NORMHUB_SMTP_HOST": "127.0.0.1",
        "NORMHUB_SMTP_SECURITY": "none",
        "NORMHUB_DIGEST_WORKERS": str(workers),
    }
    stalling = Collector(stall_after=3)
    with SMTPServer(stalling) as server:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi:app", "digest", "send"],
            cwd=Path(__file__).resolve().parent.parent,
            env={**env, "NORMHUB_SMTP_PORT": str(server.port)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            assert stalling.stalled.wait(timeout=120), process.stderr.read()
            yield process, stalling
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            stalling.release.set()


@pytest.mark.parametrize("workers", [1, 3])
def test_process_killed_mid_run_then_rerun_sends_everyone_exactly_once(
    app, session, factory, instance_path, workers
):
    """SIGKILL the real ``flask digest send`` while it waits on the server, then rerun.

    One sender: the kill comes while its message waits for the server's
    reply, so nothing accepted is left without its "sent" row, and nobody
    gets two digests. Several: another sender may be between the server's
    250 and its commit at that moment (the at-least-once window, one message
    per other sender): that member gets the same message (same Message-ID)
    again, and nobody else does.
    """
    expected = _members_with_digests_due(factory, session)
    with _send_until_the_server_stalls(app, instance_path, workers) as (process, stalling):
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert len(stalling.messages) == 3

    with SMTPServer(Collector()) as healthy:
        report = run_digests(app, session, healthy.transport())
    assert report.failed == 0 and report.busy == 0
    received = stalling.messages + healthy.handler.messages
    per_recipient = Counter(m.recipients[0] for m in received)
    assert expected <= set(per_recipient)
    twice = {address for address, n in per_recipient.items() if n > 1}
    assert set(per_recipient.values()) <= {1, 2} and len(twice) <= workers - 1, per_recipient
    for address in twice:
        first, again = [m.message["Message-ID"] for m in received if address in m.recipients]
        assert first == again
    assert report.resent >= 1  # the message in flight when the process died


@pytest.mark.parametrize("workers", [1, 3])
def test_sigterm_mid_run_stops_like_ctrl_c_and_nobody_gets_two(
    app, session, factory, instance_path, workers
):
    """``systemctl stop`` sends SIGTERM: each sender records the message in hand, then the run ends.

    Unlike SIGKILL, no accepted message is left without its "sent" row, so a
    rerun sends everyone else exactly once and nobody twice, however many senders.
    """
    expected = _members_with_digests_due(factory, session)
    with _send_until_the_server_stalls(app, instance_path, workers) as (process, stalling):
        process.send_signal(signal.SIGTERM)
        # The senders' messages in hand get their (temporary) refusal and are recorded.
        stalling.release.set()
        # Ended by SIGTERM itself, as a service manager expects of a clean stop.
        assert process.wait(timeout=60) == -signal.SIGTERM
        assert "Stopped early" in process.stderr.read().decode()

    with SMTPServer(Collector()) as healthy:
        report = run_digests(app, session, healthy.transport())
    assert report.failed == 0 and report.busy == 0 and report.resent == 0
    received = stalling.messages + healthy.handler.messages
    per_recipient = Counter(m.recipients[0] for m in received)
    assert set(per_recipient) >= expected
    assert set(per_recipient.values()) == {1}, per_recipient


def test_a_sender_that_cannot_start_fails_the_run_instead_of_hanging_it(
    app, session, factory, smtp_server, monkeypatch
):
    """Out of threads: the error reaches the caller, the started senders end, nobody waits."""
    import threading

    build_scenario(factory, session)
    real_start = threading.Thread.start

    def start(thread):
        if thread.name == "digest-send-2":
            raise RuntimeError("can't start new thread")
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    outcome = {}

    def run():
        try:
            run_digests(app, session, smtp_server.transport(), workers=3)
        except RuntimeError as error:
            outcome["error"] = str(error)

    runner = threading.Thread(target=run, daemon=True)
    real_start(runner)
    runner.join(timeout=30)
    assert not runner.is_alive(), "the run hung"
    assert outcome == {"error": "can't start new thread"}
    assert not [t for t in threading.enumerate() if t.name.startswith("digest-send-")]


def _texts_to(server, address: str) -> list[str]:
    return [parts(m.message)["text/plain"] for m in server.handler.to(address)]


def test_community_run_then_full_run_gives_each_community_once_and_skips_nobody(
    app, session, factory, smtp_server
):
    s = build_scenario(factory, session)
    scoped = run_digests(app, session, smtp_server.transport(), community_ids={s.club.id})
    # the club's members: Carol, and Olga who made it
    assert scoped.sent == 2
    full = run_digests(app, session, smtp_server.transport())
    # Olga's club content went out already; her town content has not
    assert full.sent >= 3
    for member in (s.owner, s.carol, s.alice, s.bob):
        texts = _texts_to(smtp_server, member.email)
        club_copies = sum("What the club keeps to itself" in t for t in texts)
        town_copies = sum("Bring your own cup" in t for t in texts)
        in_club = member in (s.owner, s.carol)
        assert club_copies == (1 if in_club else 0), member.display_name
        if member is not s.carol:
            assert town_copies == 1, member.display_name
    # one message per member and run at most, and distinct Message-IDs
    ids = [m.message["Message-ID"] for m in smtp_server.handler.messages]
    assert len(ids) == len(set(ids))
    # a rerun of either sends nothing more
    before = len(smtp_server.handler.messages)
    run_digests(app, session, smtp_server.transport(), community_ids={s.club.id})
    run_digests(app, session, smtp_server.transport())
    assert len(smtp_server.handler.messages) == before


def test_full_run_then_community_run_sends_that_community_no_second_time(
    app, session, factory, smtp_server
):
    s = build_scenario(factory, session)
    run_digests(app, session, smtp_server.transport())
    before = len(smtp_server.handler.messages)
    again = run_digests(app, session, smtp_server.transport(), community_ids={s.club.id})
    assert again.sent == 0
    assert len(smtp_server.handler.messages) == before


# -- several sending threads, each with its own SMTP and database connection


def _town_with_members(factory, session, count: int):
    s = build_scenario(factory, session)
    extra = [factory.member(s.town, name=f"Reader {n}") for n in range(count)]
    # everyone with news but Dora (her community has none): Arno's is that Alice
    # responded to his norm (responses to one's norms wait for the digest)
    town = {s.alice, s.bob, s.carol, s.owner, s.steward, s.author, *extra}
    expected = {u.email for u in town}
    return s, expected


def test_several_senders_send_each_member_one_digest_and_record_it_once(app, session, factory):
    s, expected = _town_with_members(factory, session, 30)
    ticks = []
    with SMTPServer(Collector()) as server:
        server.transport().open()  # what the CLI does: prove the settings first
        transport = server.transport()
        transport.open()
        try:
            run = DigestRun(app, session, "weekly", transport, workers=4)
            report = run.run(progress=ticks.append)
        finally:
            transport.close()
    per_recipient = Counter(m.recipients[0] for m in server.handler.messages)
    assert set(per_recipient) == expected and set(per_recipient.values()) == {1}
    assert len(set(server.handler.connections)) > 1  # the work was shared
    assert report.sent == len(expected) and report.failed == 0 and report.stopped is None
    # the progress bar counted every member once, from whichever thread
    assert sum(ticks) == report.candidates == report.sent + report.skipped
    session.expire_all()
    statuses = Counter(row.status for row in sends(session))
    assert statuses["sent"] == len(expected) and set(statuses) == {"sent", "skipped"}
    # one delivered event per member and norm version presented, none twice
    events = Counter(
        (e.user_id, e.norm_id)
        for e in session.scalars(select(ExposureEvent).where(ExposureEvent.kind == "delivered"))
    )
    assert set(events.values()) == {1}
    # Arno's digest presents no norm text, only the notice of Alice's response
    sent_with_norms = {row.user_id for row in sends(session, "sent")} - {s.author.id}
    assert {user for user, _ in events} == sent_with_norms
    assert sum(row.norm_count for row in sends(session, "sent")) >= len(events)
    assert session.scalar(select(Nudge.delivered_at).where(Nudge.member_id == s.bob.id))


def test_one_connection_dropped_midway_reconnects_and_nobody_is_skipped(app, session, factory):
    _, expected = _town_with_members(factory, session, 20)
    with SMTPServer(Collector(drop_once_after=5)) as server:
        report = run_digests(app, session, server.transport(), workers=3)
    assert server.handler.drops == 1
    assert report.failed == 0 and report.stopped is None and report.sent == len(expected)
    per_recipient = Counter(m.recipients[0] for m in server.handler.messages)
    assert set(per_recipient) == expected and set(per_recipient.values()) == {1}


def test_refused_and_deferred_addresses_with_several_senders(app, session, factory):
    s, expected = _town_with_members(factory, session, 12)
    collector = Collector(refuse={s.bob.email}, defer={s.alice.email})
    with SMTPServer(collector) as server:
        report = run_digests(app, session, server.transport(), workers=3)
    assert report.bounced == 1 and report.failed == 1 and report.stopped is None
    assert report.sent == len(expected) - 2
    assert session.get(EmailAddressState, s.bob.email).status == "bounced"
    session.expire_all()
    assert {r.user_id for r in sends(session, "failed")} == {s.alice.id}
    with SMTPServer(Collector()) as healthy:
        retry = run_digests(app, session, healthy.transport(), workers=3)
    assert retry.sent == 1 and [m.recipients[0] for m in healthy.handler.messages] == [
        s.alice.email
    ]


def test_extra_connections_refused_leave_the_run_on_the_ones_it_has(app, session, factory):
    _, expected = _town_with_members(factory, session, 8)
    with SMTPServer(Collector()) as server:
        transport = server.transport()
        closed_port = free_port()  # nothing listens there: like a per-client connection limit
        transport.another = lambda: SMTPTransport("127.0.0.1", closed_port, "none", timeout=5)
        report = run_digests(app, session, transport, workers=3)
    assert report.sent == len(expected) and report.failed == 0
    assert report.connections == 1
    assert "could open only 1 of 3 SMTP connections" in report.problems[0]
    assert "over 1 SMTP connection" in report.summary()
    assert set(Counter(m.recipients[0] for m in server.handler.messages).values()) == {1}


def test_lost_server_with_several_senders_gives_back_the_rest_for_the_next_run(
    app, session, factory
):
    _, expected = _town_with_members(factory, session, 20)
    with SMTPServer(Collector(drop_after=4)) as dying:
        first = run_digests(app, session, dying.transport(), workers=3)
    assert first.sent == 4 and first.stopped and 1 <= first.failed <= 3
    session.expire_all()
    statuses = Counter(row.status for row in sends(session))
    # nothing is left "sending": what no sender took went back to "pending"
    assert statuses["sending"] == 0 and statuses["failed"] == first.failed
    assert first.not_attempted == statuses["pending"] > 0
    with SMTPServer(Collector()) as healthy:
        second = run_digests(app, session, healthy.transport(), workers=3)
    assert second.failed == 0 and second.resent == 0
    per_recipient = Counter(
        m.recipients[0] for m in dying.handler.messages + healthy.handler.messages
    )
    assert set(per_recipient) == expected and set(per_recipient.values()) == {1}


def test_workers_out_of_range_is_refused(app, session):
    from normhub.digest.sending import MAX_SEND_WORKERS

    with pytest.raises(ValueError, match="workers must be between"):
        DigestRun(app, session, "weekly", SMTPTransport("h", 25), workers=0)
    result = app.test_cli_runner().invoke(
        args=["digest", "send", "--workers", str(MAX_SEND_WORKERS + 1)]
    )
    assert result.exit_code == 2 and "--workers" in result.output
