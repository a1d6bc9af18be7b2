"""Queued mail: written with the change, delivered by a real huey worker to a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from jinja2 import ChoiceLoader, DictLoader

from normhub.db import utcnow
from normhub.jobs.queue import job_queue
from normhub.jobs.worker import running_worker
from normhub.mail.addresses import bounce_of, is_deliverable, suppress
from normhub.mail.queue import (
    FAILED,
    OVERDUE_AFTER,
    QUEUED,
    SENDING,
    SENT,
    QueuedEmail,
    deliver_queued_email,
    enqueue_delivery,
    queue_email,
    resend_overdue,
    send_email,
)
from tests.jobs_helpers import fresh, restarted, wait_until
from tests.smtp import parts

ADDRESS = "ada@example.org"


@pytest.fixture
def app_overrides(smtp):
    return {**smtp.settings(), "MAIL_RETRY_SECONDS": 1, "MAIL_MAX_ATTEMPTS": 10}


def _queue(session, recipient=ADDRESS, kind="verify-email") -> int:
    queued = queue_email(
        session,
        recipient,
        "Confirm your address — NormHub",
        "Open this link to confirm: http://normhub.test/confirm/abc\n",
        "<p>Open <a href='http://normhub.test/confirm/abc'>this link</a> to confirm.</p>",
        kind,
    )
    session.commit()
    return queued.id


def _sent(session, email_id):
    row = fresh(session, email_id)
    return row if row.status == SENT else None


def test_committed_mail_reaches_the_smtp_server_through_the_worker(app, session, smtp):
    email_id = _queue(session)
    assert job_queue(app).huey.pending_count() == 1
    with smtp, running_worker(app):
        row = wait_until(lambda: _sent(session, email_id), "the email to be sent")
        wait_until(lambda: smtp.handler.messages, "the SMTP server to have it")

    assert row.attempts == 1 and row.last_error == "" and row.sent_at is not None
    [received] = smtp.handler.messages
    assert received.recipients == [ADDRESS]
    assert received.sender == "digest@normhub.invalid"
    message = received.message
    assert message["Subject"] == "Confirm your address — NormHub"
    assert message["To"] == ADDRESS
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].startswith(f"<verify-email.{email_id}.")
    assert message["Message-ID"].endswith("@normhub.invalid>")
    # On the wire every line ends in CRLF.
    bodies = {kind: body.replace("\r\n", "\n") for kind, body in parts(message).items()}
    assert bodies["text/plain"] == "Open this link to confirm: http://normhub.test/confirm/abc\n"
    assert "<a href='http://normhub.test/confirm/abc'>this link</a>" in bodies["text/html"]


def test_a_text_only_email_is_a_single_part(app, session, smtp):
    queued = queue_email(session, ADDRESS, "Plain", "Only text.\n", None, "notice")
    session.commit()
    with smtp, running_worker(app):
        wait_until(lambda: _sent(session, queued.id), "the email to be sent")
    [received] = smtp.handler.messages
    assert received.message.get_content_type() == "text/plain"
    assert received.message.get_content() == "Only text.\r\n"


def test_a_rolled_back_transaction_queues_nothing(app, session, smtp):
    queue_email(session, ADDRESS, "Never", "Never sent.\n", None, "notice")
    session.rollback()
    huey = job_queue(app).huey
    assert huey.pending_count() == 0 and huey.scheduled_count() == 0
    assert session.query(QueuedEmail).count() == 0


def test_a_mail_kind_must_be_safe_in_a_file_name(session):
    with pytest.raises(ValueError, match="lowercase letters"):
        queue_email(session, ADDRESS, "Bad", "x", None, "../etc/passwd")


def test_smtp_down_keeps_the_row_queued_counting_attempts_until_it_comes_back(app, session, smtp):
    email_id = _queue(session)
    with running_worker(app):
        row = wait_until(
            lambda: (r := fresh(session, email_id)).attempts >= 2 and r.status == QUEUED and r,
            "two failed attempts",
        )
        assert "Could not connect to the SMTP server" in row.last_error
        assert row.next_attempt_at > utcnow() - timedelta(seconds=5)
        assert smtp.handler.messages == []
        with smtp:
            row = wait_until(lambda: _sent(session, email_id), "delivery once SMTP is back")
            assert len(smtp.handler.messages) == 1
    assert row.attempts >= 3 and row.last_error == ""


def test_a_permanent_refusal_marks_the_row_failed_without_retrying(app, session, smtp):
    smtp.handler.refuse.add(ADDRESS)
    email_id = _queue(session)
    with smtp:
        deliver_queued_email(session, email_id)
    row = fresh(session, email_id)
    assert row.status == FAILED and row.attempts == 1
    assert row.last_error.startswith("550 5.1.1")
    assert job_queue(app).huey.scheduled_count() == 0


def test_a_temporary_failure_schedules_the_retry_with_a_doubling_delay(app, session, smtp):
    smtp.handler.defer.add(ADDRESS)
    email_id = _queue(session)
    huey = job_queue(app).huey
    huey.flush()
    delays = []
    with smtp:
        for _attempt in range(3):
            before = utcnow()
            deliver_queued_email(session, email_id)
            row = fresh(session, email_id)
            assert row.status == QUEUED and row.last_error.startswith("451 4.3.0")
            delays.append(round((row.next_attempt_at - before).total_seconds()))
            row.next_attempt_at = utcnow()  # as if the delay had passed
            session.commit()
    assert delays == [1, 2, 4]
    assert row.attempts == 3 and huey.pending_count() == 3  # one scheduled job per retry


def test_it_gives_up_after_the_last_attempt(app, session, smtp):
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    email_id = _queue(session)
    for _attempt in range(2):
        deliver_queued_email(session, email_id)  # nobody listening: connection refused
        row = fresh(session, email_id)
        row.next_attempt_at = utcnow()
        session.commit()
    assert row.status == FAILED and row.attempts == 2
    assert row.last_error.startswith("Gave up after 2 attempts: Could not connect")


def test_a_job_that_runs_several_times_sends_once(app, session, smtp):
    email_id = _queue(session)
    enqueue_delivery(email_id)
    enqueue_delivery(email_id)
    assert job_queue(app).huey.pending_count() == 3
    with smtp, running_worker(app, workers=3):
        wait_until(lambda: _sent(session, email_id), "the email to be sent")
        wait_until(lambda: job_queue(app).huey.pending_count() == 0, "every copy of the job to run")
        # Redelivered after the fact, the job still finds the row sent. It runs in a
        # transaction of its own, as in a worker: one left open by the reads above
        # could not write on SQLite once the workers' periodic jobs had committed.
        session.rollback()
        deliver_queued_email(session, email_id)
    assert len(smtp.handler.messages) == 1
    assert fresh(session, email_id).attempts == 1


def test_a_restarted_worker_delivers_mail_whose_job_was_lost(app, session, smtp):
    """The process died between commit and enqueue, or in the middle of a send.

    A new app (another process: its own huey over the same file) and a new
    worker: the resend that runs when a worker starts finds both rows overdue.
    """
    lost_enqueue = _queue(session, "lost@example.org")
    died_sending = _queue(session, "died@example.org")
    job_queue(app).huey.flush()  # what a crash before the enqueue leaves behind
    long_ago = utcnow() - OVERDUE_AFTER - timedelta(seconds=1)
    lost, died = (session.get(QueuedEmail, i) for i in (lost_enqueue, died_sending))
    lost.next_attempt_at = long_ago
    died.status, died.attempts, died.next_attempt_at = SENDING, 1, long_ago  # its lease ran out
    session.commit()

    with restarted(app) as again:
        assert job_queue(again).huey.pending_count() == 0
        with smtp, running_worker(again):
            for email_id in (lost_enqueue, died_sending):
                wait_until(lambda email_id=email_id: _sent(session, email_id), "the resend")

    assert sorted(m.recipients[0] for m in smtp.handler.messages) == [
        "died@example.org",
        "lost@example.org",
    ]
    assert fresh(session, died_sending).attempts == 2


def test_the_resend_leaves_rows_whose_job_may_still_be_waiting(app, session):
    email_id = _queue(session)
    huey = job_queue(app).huey
    huey.flush()
    resend_overdue(session)
    assert huey.pending_count() == 0  # not overdue yet: its job may still be in a queue

    fresh(session, email_id).next_attempt_at = utcnow() - OVERDUE_AFTER - timedelta(seconds=1)
    session.commit()
    resend_overdue(session)
    resend_overdue(session)  # the next minute's run: its job is queued now, due again
    assert huey.pending_count() == 1
    assert fresh(session, email_id).status == QUEUED


def test_a_queue_that_is_down_costs_the_commit_nothing_and_the_row_waits(app, session, caplog):
    """Redis unreachable at commit time: the change and its mail stand; the resend finds it."""
    with restarted(app, JOBS_URL="redis://127.0.0.1:1/0") as unreachable, unreachable.app_context():
        other = unreachable.extensions["normhub.sessionmaker"]()
        queued = queue_email(other, ADDRESS, "Waits", "Waits for the queue.\n", None, "notice")
        other.commit()  # the failed enqueue is after-commit work: logged, not raised
        other.close()
    assert "After-commit work" in caplog.text and "enqueue_delivery" in caplog.text
    row = fresh(session, queued.id)
    assert row.status == QUEUED and row.attempts == 0

    row.next_attempt_at = utcnow() - OVERDUE_AFTER - timedelta(seconds=1)
    session.commit()
    resend_overdue(session)  # with the queue back
    assert job_queue(app).huey.pending_count() == 1


def test_send_email_renders_the_template_pair_when_the_change_happens(app, session, smtp):
    app.jinja_env.loader = ChoiceLoader(
        [
            DictLoader(
                {
                    "email/welcome-test/subject.txt": "Welcome, {{ name }}",
                    "email/welcome-test/body.txt": "Hello {{ name }}: {{ subject }}.\n",
                    "email/welcome-test/body.html": "<p>Hello {{ name }}</p>\n",
                }
            ),
            app.jinja_env.loader,
        ]
    )
    with app.test_request_context():
        queued = send_email(session, "welcome-test", ADDRESS, {"name": "Ada <3"}, kind="welcome")
    session.commit()
    stored = fresh(session, queued.id)
    assert (stored.subject, stored.text_body) == (
        "Welcome, Ada <3",
        "Hello Ada <3: Welcome, Ada <3.",
    )
    assert stored.html_body == "<p>Hello Ada &lt;3</p>"  # autoescaped in HTML only
    with smtp, running_worker(app):
        wait_until(lambda: _sent(session, queued.id), "the email to be sent")
    [received] = smtp.handler.messages
    assert received.message["Subject"] == "Welcome, Ada <3"
    assert received.message["Message-ID"].startswith(f"<welcome.{queued.id}.")


def test_mail_to_a_blocked_address_is_not_sent_and_a_refusal_blocks_it(app, session, smtp):
    suppress(session, "blocked@example.org", "complaint")
    session.commit()
    blocked = _queue(session, recipient="blocked@example.org")
    smtp.handler.refuse.add("gone@example.org")
    refused = _queue(session, recipient="gone@example.org")
    with smtp, running_worker(app):
        wait_until(lambda: fresh(session, blocked).status == FAILED, "the blocked mail to fail")
        wait_until(lambda: fresh(session, refused).status == FAILED, "the refused mail to fail")
    assert smtp.handler.messages == []
    assert "bounced or is blocked" in fresh(session, blocked).last_error
    assert not is_deliverable(session, "gone@example.org")
    assert bounce_of(session, "gone@example.org") is not None
