"""``flask digest send`` on two hosts sharing one PostgreSQL database.

Each run is a real process; its host name comes from ``NORMHUB_HOST_NAME``,
so two processes here are two hosts to each other: neither can look up the
other's process, and only the database tells a live run from a dead one.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from normhub.digest.claims import CLAIM_STALE_AFTER
from normhub.digest.models import DigestSend
from tests.smtp import TOGETHER_SECONDS, Collector, SMTPServer

pytestmark = pytest.mark.postgres_only

ROOT = Path(__file__).resolve().parent.parent
# More than the two chunks (CLAIM_CHUNK, 50) one run claims ahead of its
# senders, so a second run always finds members no claim holds.
MEMBERS = 160
PROCESS_SECONDS = 120


def _town(factory) -> set[str]:
    """A community with a new norm: news for each of its members."""
    owner = factory.user("Olga Owner")
    town = factory.community(owner)
    members = {factory.member(town, name=f"Reader {n}").email for n in range(MEMBERS)}
    factory.norm(town, title="Bring your own cup")
    return members | {owner.email}


@contextmanager
def _digest_send(app, instance_path: Path, host: str, smtp_port: int, workers: int = 1):
    """``flask digest send`` as a process on ``host``; killed at the end if it still runs."""
    instance = instance_path / host
    instance.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "NORMHUB_HOST_NAME": host,
        "NORMHUB_DATABASE_URL": app.config["DATABASE_URL"],
        "NORMHUB_INSTANCE_PATH": str(instance),
        "NORMHUB_SECRET_KEY": app.config["SECRET_KEY"],
        "NORMHUB_BASE_URL": "http://normhub.test",
        "NORMHUB_SMTP_HOST": "127.0.0.1",
        "NORMHUB_SMTP_PORT": str(smtp_port),
        "NORMHUB_SMTP_SECURITY": "none",
        # A message may be held until the other host's run has one in hand too.
        "NORMHUB_SMTP_TIMEOUT": str(int(TOGETHER_SECONDS) * 2),
        "NORMHUB_DIGEST_WORKERS": str(workers),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi:app", "digest", "send"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=PROCESS_SECONDS)


def _finished(process: subprocess.Popen) -> str:
    """The summary line of a run that ended well."""
    out, err = process.communicate(timeout=PROCESS_SECONDS)
    assert process.returncode == 0, err[-3000:]
    return out


def _count(summary: str, what: str) -> int:
    """A figure of the run's summary: "sent 12," or "3 left alone", 0 if not said."""
    found = re.search(rf"\b{what} (\d+)|(\d+) {what}\b", summary)
    return int(found.group(1) or found.group(2)) if found else 0


def test_two_hosts_started_together_send_each_member_one_digest(
    app, session, factory, instance_path
):
    expected = _town(factory)
    session.close()
    # One sender each (one SMTP connection per host), and every message waits
    # until both connections have one in hand: the two runs provably overlap.
    server = SMTPServer(Collector(together=2))
    with server, ExitStack() as processes:
        runs = [
            processes.enter_context(_digest_send(app, instance_path, host, server.port))
            for host in ("host-a", "host-b")
        ]
        summaries = [_finished(run) for run in runs]
    received = server.handler.messages
    per_recipient = Counter(m.recipients[0] for m in received)
    assert set(per_recipient) == expected
    assert set(per_recipient.values()) == {1}, per_recipient.most_common(3)
    ids = [m.message["Message-ID"] for m in received]
    assert len(set(ids)) == len(ids)
    sent = [_count(summary, "sent") for summary in summaries]
    assert all(sent) and sum(sent) == len(expected), summaries  # both sent, none twice
    # Each row was claimed once: no run took a row another was sending.
    rows = session.execute(select(DigestSend.status, DigestSend.attempts)).all()
    assert Counter(rows) == {("sent", 1): len(expected), ("skipped", 0): 1}  # + the author


def test_a_run_killed_on_one_host_is_finished_from_another_minutes_later(
    app, session, factory, instance_path
):
    expected = _town(factory)
    session.close()
    stalling = Collector(stall_after=3)
    with SMTPServer(stalling) as server:
        with _digest_send(app, instance_path, "host-a", server.port, workers=3) as crashed:
            assert stalling.stalled.wait(timeout=PROCESS_SECONDS), crashed.stderr.read()
            crashed.send_signal(signal.SIGKILL)
            crashed.wait()
        stalling.release.set()
    left_claimed = session.scalar(
        select(func.count()).where(
            DigestSend.status == "sending", DigestSend.claimed_by.is_not(None)
        )
    )
    assert left_claimed > 0
    # Three minutes pass: nothing renews a dead run's claims.
    session.execute(
        update(DigestSend)
        .where(DigestSend.status == "sending")
        .values(claimed_at=DigestSend.claimed_at - CLAIM_STALE_AFTER - timedelta(minutes=1))
    )
    session.commit()

    healthy = SMTPServer(Collector())
    with healthy, _digest_send(app, instance_path, "host-b", healthy.port) as rerun:
        summary = _finished(rerun)
    assert _count(summary, "left alone") == 0, summary
    assert _count(summary, "resent") >= 1, summary
    received = stalling.messages + healthy.handler.messages
    per_recipient = Counter(m.recipients[0] for m in received)
    assert set(per_recipient) == expected
    # At most one message per other sender was between the server's 250 and its
    # "sent" commit when the kill came (at-least-once), resent with its Message-ID.
    assert set(per_recipient.values()) <= {1, 2}
    assert sum(per_recipient.values()) - len(expected) <= 2
    statuses = Counter(session.scalars(select(DigestSend.status)))
    assert statuses == {"sent": len(expected), "skipped": 1}  # + the norm's author
