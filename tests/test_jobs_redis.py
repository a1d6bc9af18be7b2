"""NORMHUB_JOBS_URL=redis://… puts the job queue on the Redis server at 127.0.0.1:6379."""

from __future__ import annotations

import uuid

import pytest
from huey import RedisHuey
from redis import Redis

from normhub.jobs.queue import JobQueue, build_huey, job_queue
from normhub.jobs.worker import running_worker
from normhub.mail.queue import SENT, queue_email
from tests.jobs_helpers import fresh, wait_until
from tests.smtp import Collector, SMTPServer

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def queue_name() -> str:
    """A name of its own, so parallel runs and other users of the server never meet."""
    return f"normhub_test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def smtp():
    with SMTPServer(Collector()) as server:
        yield server


@pytest.fixture
def app_overrides(monkeypatch, queue_name, smtp):
    monkeypatch.setenv("NORMHUB_JOBS_URL", REDIS_URL)
    monkeypatch.setenv("NORMHUB_JOBS_NAME", queue_name)
    return smtp.settings()


@pytest.fixture
def redis_keys(app, queue_name):
    """The keys this test's queue made, removed at the end."""
    client = Redis.from_url(REDIS_URL)

    def keys() -> list[bytes]:
        return client.keys(f"*{queue_name}*")

    yield keys
    huey = job_queue(app).huey
    huey.storage.flush_all()
    leftover = keys()
    if leftover:
        client.delete(*leftover)
    client.close()


def test_the_environment_variable_selects_redis_and_mail_goes_through_it(
    app, session, smtp, redis_keys, queue_name
):
    huey = job_queue(app).huey
    assert isinstance(huey, RedisHuey) and huey.name == queue_name
    status = app.test_cli_runner().invoke(args=["jobs", "status"]).output
    assert f"Queue: RedisHuey '{queue_name}' at redis 127.0.0.1:6379 db 0\n" in status

    queued = queue_email(
        session, "ada@example.org", "Via Redis", "Queued in Redis.\n", None, "notice"
    )
    session.commit()
    assert huey.pending_count() == 1
    assert redis_keys() == [f"huey.redis.{queue_name}".encode()]  # the job, on the server

    with running_worker(app):
        wait_until(lambda: fresh(session, queued.id).status == SENT, "delivery through Redis")
        # A starting worker also queues the periodic jobs (mail resend, notices of checks):
        # stop once it has taken them too, or one may still be waiting in Redis.
        wait_until(lambda: huey.pending_count() == 0, "the periodic jobs to be taken")
    [received] = smtp.handler.messages
    assert received.recipients == ["ada@example.org"]
    assert b"Queued in Redis." in received.raw
    assert huey.pending_count() == 0


def test_the_queue_description_never_shows_the_redis_password(app):
    huey = build_huey({"JOBS_URL": "redis://:s3cret@127.0.0.1:6379/3", "JOBS_NAME": "shown"})
    assert JobQueue(app, huey).description == "RedisHuey 'shown' at redis 127.0.0.1:6379 db 3"
