"""The real ``flask jobs worker`` in its own process: it delivers, and it stops gracefully."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from normhub.mail.queue import QUEUED, SENT, queue_email
from tests.jobs_helpers import WAIT_SECONDS, fresh, wait_until
from tests.smtp import Collector, SMTPServer

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def _worker_process(app, instance_path, log_path, **settings):
    """``flask jobs worker`` on this app's database and instance folder; killed if still running."""
    env = {
        **os.environ,
        "NORMHUB_DATABASE_URL": app.config["DATABASE_URL"],
        "NORMHUB_INSTANCE_PATH": str(instance_path),
        "NORMHUB_OUTBOX_DIR": app.config["OUTBOX_DIR"],
        "NORMHUB_SECRET_KEY": app.config["SECRET_KEY"],
        **{f"NORMHUB_{name}": str(value) for name, value in settings.items()},
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi:app", "jobs", "worker"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _queue(session) -> int:
    queued = queue_email(
        session, "ada@example.org", "Welcome", "Welcome to NormHub.\n", "<p>Welcome.</p>", "welcome"
    )
    session.commit()
    return queued.id


def test_the_worker_writes_mail_to_the_outbox_without_smtp(app, session, instance_path, tmp_path):
    """What ``make run`` relies on: no SMTP host, and the mail lands in instance/outbox."""
    email_id = _queue(session)
    outbox = Path(app.config["OUTBOX_DIR"])
    log = tmp_path / "worker.log"
    with _worker_process(app, instance_path, log) as process:
        [written] = wait_until(lambda: list(outbox.glob("*.eml")), "the .eml file")
        wait_until(lambda: fresh(session, email_id).status == SENT, "the row marked sent")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=WAIT_SECONDS) == 0, log.read_text()
    assert written.name.startswith(f"welcome.{email_id}.")
    data = written.read_bytes()
    assert b"Subject: Welcome\r\n" in data and b"To: ada@example.org\r\n" in data
    assert b"Welcome to NormHub.\r\n" in data and b"<p>Welcome.</p>" in data
    assert "Worker stopped." in log.read_text()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_lets_the_job_in_hand_finish_and_record_its_outcome(
    app, session, instance_path, tmp_path, stop_signal
):
    """SIGTERM (``systemctl stop``) and Ctrl-C wait for the send in progress, then exit 0."""
    email_id = _queue(session)
    stalling = Collector(stall_after=0)
    log = tmp_path / "worker.log"
    with (
        SMTPServer(stalling) as smtp,
        _worker_process(
            app,
            instance_path,
            log,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=smtp.port,
            SMTP_SECURITY="none",
        ) as process,
    ):
        try:
            assert stalling.stalled.wait(timeout=WAIT_SECONDS), log.read_text()
            process.send_signal(stop_signal)
            time.sleep(0.5)
            assert process.poll() is None, "stopped with a job in hand"
        finally:
            stalling.release.set()  # the server answers 451: try again later
        assert process.wait(timeout=WAIT_SECONDS) == 0, log.read_text()

    row = fresh(session, email_id)
    assert row.status == QUEUED and row.attempts == 1
    assert row.last_error == "451 4.3.0 Not accepted"
