"""The job queue: huey from the settings; jobs run in an app context and own their transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from huey import SqliteHuey, crontab
from huey.constants import EmptyData

from normhub.config import ConfigurationError
from normhub.jobs.queue import build_huey, enqueue, job, job_queue, register
from normhub.jobs.worker import running_worker
from normhub.mail.queue import SENT, QueuedEmail, queue_email
from tests.jobs_helpers import wait_until


@job("test.queue-a-notice")
def queue_a_notice(session, recipient: str) -> None:
    """Writes in the job's transaction, which the queue commits when the job returns."""
    queue_email(session, recipient, "Notice", "Something happened.\n", None, "notice")


@job("test.queue-then-fail")
def queue_then_fail(session, recipient: str) -> None:
    queue_email(session, recipient, "Never", "Never sent.\n", None, "notice")
    raise RuntimeError("the job failed after writing")


def _rows(session, recipient):
    session.rollback()
    return session.query(QueuedEmail).filter_by(recipient=recipient).all()


def test_the_default_queue_is_a_sqlite_file_in_the_instance_folder(app, instance_path):
    huey = job_queue(app).huey
    assert isinstance(huey, SqliteHuey)
    assert huey.storage.filename == str(instance_path / "jobs.sqlite3")
    assert (instance_path / "jobs.sqlite3").exists()


def test_an_unknown_queue_url_is_refused_with_the_setting_named():
    with pytest.raises(ConfigurationError, match="NORMHUB_JOBS_URL"):
        build_huey({"JOBS_URL": "amqp://127.0.0.1/", "JOBS_NAME": "normhub"})


def test_a_job_runs_in_an_app_context_and_its_writes_are_committed(app, session):
    register(app, queue_a_notice, queue_then_fail)
    enqueue(queue_a_notice, "first@example.org")
    enqueue(queue_then_fail, "second@example.org")
    with running_worker(app):
        # The job's mail is queued in its transaction and delivered by the next job.
        wait_until(
            lambda: [r.status for r in _rows(session, "first@example.org")] == [SENT],
            "the job's email to be written and sent",
        )
        wait_until(lambda: job_queue(app).huey.pending_count() == 0, "both jobs to run")
    assert _rows(session, "second@example.org") == []  # rolled back with the failed job
    # No SMTP host configured: the development outbox has it.
    [written] = Path(app.config["OUTBOX_DIR"]).glob("*.eml")
    assert written.name.startswith("notice.")
    assert b"To: first@example.org\r\n" in written.read_bytes()
    assert b"\r\n\r\nSomething happened.\r\n" in written.read_bytes()


def test_a_job_name_is_registered_once(app):
    register(app, queue_a_notice)
    with pytest.raises(ValueError, match="registered already"):
        register(app, queue_a_notice)


def test_status_counts_waiting_jobs_and_names_the_known_ones(app, session):
    queue_email(session, "ada@example.org", "Hello", "Hi.\n", None, "notice")
    session.commit()
    result = app.test_cli_runner().invoke(args=["jobs", "status"])
    assert result.exit_code == 0, result.output
    assert f"Queue: SqliteHuey 'normhub' at {app.instance_path}/jobs.sqlite3" in result.output
    assert "Waiting: 1\n" in result.output and "Scheduled: 0\n" in result.output
    assert "Jobs: exposure.fold-tallies, exposure.recount-tallies, mail.deliver," in result.output


def test_one_worker_a_minute_queues_the_periodic_jobs(tmp_path):
    """Two workers on one queue: the first to check a minute gets its due periodic jobs,
    the other none; the store keeps only the newest minute's claim."""
    config = {"JOBS_URL": f"sqlite:///{tmp_path / 'jobs.sqlite3'}", "JOBS_NAME": "normhub"}
    first, second = build_huey(config), build_huey(config)
    for huey in (first, second):
        huey.periodic_task(crontab(minute="*"), name="every.minute")(lambda: None)
    ten = datetime(2026, 12, 7, 10, 0, 5)
    assert [task.name for task in first.read_periodic(ten)] == ["every.minute"]
    assert second.read_periodic(ten + timedelta(seconds=20)) == []
    later = ten + timedelta(minutes=1)
    assert [task.name for task in second.read_periodic(later)] == ["every.minute"]
    assert first.read_periodic(later) == []
    assert first.storage.peek_data("normhub.periodic.2026-12-07T10:00") is EmptyData
    assert second.storage.peek_data("normhub.periodic.2026-12-07T10:01") is not EmptyData
