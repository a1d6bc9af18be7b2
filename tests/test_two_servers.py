"""Two app servers, one database: what a visitor and the workers see when a proxy spreads them.

Two hosts, each a real gunicorn and a real ``flask jobs worker`` with its own
instance folder, host name and port on 127.0.0.1, sharing one PostgreSQL
database, one Redis (rate-limit counts and the job queue, under keys of this
run's own) and one secret key. The test's requests go to one host or the
other as a proxy would send them.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis
from sqlalchemy import func, select

from normhub.discussion.models import Comment
from normhub.mail.queue import SENT, QueuedEmail, queue_email
from tests.factories import Factory
from tests.jobs_helpers import wait_until
from tests.smtp import Collector, SMTPServer, free_port

pytestmark = pytest.mark.postgres_only

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/0"
# This run's own keys on the shared Redis server: rate-limit counts and the job queue.
KEYS = f"normhub-two-servers-{uuid.uuid4().hex[:10]}"
SECRET_KEY = "two-hosts-one-secret"
START_SECONDS = 60


@dataclass
class Host:
    name: str
    port: int
    server: subprocess.Popen
    worker: subprocess.Popen
    worker_log: Path

    def jobs_run(self, job: str) -> list[str]:
        """Ids of the ``job`` runs this host's worker started (its log, one line each)."""
        return re.findall(
            rf"Executing \S*{re.escape(job)}: ([0-9a-f-]+)", self.worker_log.read_text()
        )


def _environment(database_url: str, smtp_port: int, name: str, instance: Path) -> dict:
    return {
        **os.environ,
        "NORMHUB_HOST_NAME": name,
        "NORMHUB_INSTANCE_PATH": str(instance),
        "NORMHUB_DATABASE_URL": database_url,
        "NORMHUB_SECRET_KEY": SECRET_KEY,
        "NORMHUB_BASE_URL": "http://normhub.test",
        "NORMHUB_REDIS_URL": REDIS_URL,
        "NORMHUB_RATE_LIMIT_PREFIX": KEYS,
        "NORMHUB_JOBS_URL": REDIS_URL,
        "NORMHUB_JOBS_NAME": KEYS,
        "NORMHUB_SMTP_HOST": "127.0.0.1",
        "NORMHUB_SMTP_PORT": str(smtp_port),
        "NORMHUB_SMTP_SECURITY": "none",
    }


def _start_host(database_url: str, smtp_port: int, name: str, instance: Path) -> Host:
    instance.mkdir()
    env = _environment(database_url, smtp_port, name, instance)
    port = free_port()
    worker_log = instance / "worker.log"
    with (instance / "server.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "wsgi:app"],  # settings from gunicorn.conf.py
            cwd=ROOT,
            env={**env, "NORMHUB_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1"},
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,  # its own process group: gunicorn's worker goes with it
        )
    with worker_log.open("w") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi:app", "jobs", "worker", "-v"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Host(name, port, server, worker, worker_log)


def _wait_until_up(host: Host) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        for process in (host.server, host.worker):
            assert process.poll() is None, f"{host.name} stopped: {process.args}"
        try:
            serving = Browser().get(host, "/login")[0] == 200
        except OSError:
            serving = False
        if serving and "Huey consumer started" in host.worker_log.read_text():
            return
        time.sleep(0.2)
    raise AssertionError(f"{host.name} did not start in {START_SECONDS} s")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM (each finishes what it has in hand), then SIGKILL to its whole process group."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=15)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever of the group is left
    process.wait()


@pytest.fixture(scope="module")
def mail():
    """The mail server both hosts' workers send to."""
    with SMTPServer(Collector()) as server:
        yield server


@pytest.fixture(scope="module")
def hosts(database_url, tmp_path_factory, mail):
    """Host A and host B, up and serving; stopped (servers and workers) whatever happens."""
    folder = tmp_path_factory.mktemp("hosts")
    started: list[Host] = []
    try:
        for name in ("host-a", "host-b"):
            started.append(_start_host(database_url, mail.port, name, folder / name))
        for host in started:
            _wait_until_up(host)
        yield started
    finally:
        for host in started:
            _stop(host.server)
            _stop(host.worker)
        _forget_keys()


def _forget_keys() -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        for key in client.scan_iter(f"*{KEYS}*"):
            client.delete(key)
    finally:
        client.close()


@pytest.fixture
def app_overrides(monkeypatch):
    """The test's own app queues jobs on the hosts' queue."""
    monkeypatch.setenv("NORMHUB_JOBS_URL", REDIS_URL)
    monkeypatch.setenv("NORMHUB_JOBS_NAME", KEYS)
    return {}


class Browser:
    """One visitor's cookies, sent to whichever host the request goes to (one site, one proxy)."""

    def __init__(self):
        self.cookies: dict[str, str] = {}

    def request(self, host: Host, method: str, path: str, form: dict | None = None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", host.port, timeout=10)
        try:
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            text = response.read().decode()
            for header in response.msg.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, response, text
        finally:
            connection.close()

    def get(self, host: Host, path: str):
        return self.request(host, "GET", path)

    def post(self, host: Host, path: str, form: dict):
        return self.request(host, "POST", path, form)

    def form_token(self, host: Host, path: str) -> str:
        status, _, page = self.get(host, path)
        assert status == 200, page[:500]
        tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page).group(0)
        return re.search(r'value="([^"]+)"', tag).group(1)

    def log_in(self, host: Host, user) -> None:
        token = self.form_token(host, "/login")
        form = {"email": user.email, "password": Factory.PASSWORD, "csrf_token": token}
        status, _, page = self.post(host, "/login", form)
        assert status == 302, page[:500]


def _norm_page(factory):
    community = factory.community()
    member = factory.member(community)
    norm = factory.norm(community, title="Quiet hours after ten")
    return member, f"/c/{community.slug}/norms/{norm.slug}"


def _comments(session, body: str) -> int:
    session.rollback()
    return session.scalar(select(func.count(Comment.id)).where(Comment.body == body))


def test_a_login_and_a_form_from_host_a_work_on_host_b(hosts, session, factory):
    a, b = hosts
    member, norm_page = _norm_page(factory)
    session.commit()
    browser = Browser()
    browser.log_in(a, member)
    token = browser.form_token(a, norm_page)  # the page with the comment form, from A

    status, response, _ = browser.post(
        b, f"{norm_page}/comments", {"body": "Posted through B.", "csrf_token": token}
    )
    assert status in (302, 303) and norm_page in response.getheader("Location")
    assert _comments(session, "Posted through B.") == 1
    # B checks the token: a forged one is refused there too.
    forged = browser.post(b, f"{norm_page}/comments", {"body": "Forged.", "csrf_token": "x"})
    assert forged[0] == 400 and _comments(session, "Forged.") == 0


def test_rate_limits_count_the_hits_on_both_hosts_together(hosts, session, factory):
    a, b = hosts
    member = factory.user()
    session.commit()
    browser = Browser()
    token = browser.form_token(a, "/login")
    wrong = {"email": member.email, "password": "wrong", "csrf_token": token}
    # Failed logins: 10 a minute per account, whichever host they reach.
    answers = [browser.post(hosts[n % 2], "/login", wrong)[0] for n in range(10)]
    assert answers == [400] * 10
    right = {**wrong, "password": Factory.PASSWORD}
    assert browser.post(b, "/login", right)[0] == 429
    assert browser.post(a, "/login", right)[0] == 429


def test_both_hosts_workers_take_jobs_and_none_runs_twice(hosts, session, mail):
    before = len(mail.handler.messages)
    queued = [
        queue_email(session, f"reader{n}@example.org", f"Notice {n}", "Hello.\n", None, "notice")
        for n in range(24)
    ]
    session.commit()  # each delivery job is queued in Redis after the commit
    ids = [email.id for email in queued]

    def all_sent() -> bool:
        session.rollback()
        statuses = session.scalars(select(QueuedEmail.status).where(QueuedEmail.id.in_(ids)))
        return set(statuses) == {SENT}

    wait_until(all_sent, "both workers to deliver the queued mail")
    runs = {host.name: host.jobs_run("mail.deliver") for host in hosts}
    assert all(runs.values()), runs  # each host's worker took some
    every_run = [job_id for ids in runs.values() for job_id in ids]
    assert len(every_run) == len(set(every_run)) == len(queued)  # and none twice
    delivered = Counter(m.recipients[0] for m in mail.handler.messages[before:])
    assert len(delivered) == len(queued) and set(delivered.values()) == {1}


def test_a_comment_written_through_a_is_found_through_b_within_a_second(hosts, session, factory):
    a, b = hosts
    member, norm_page = _norm_page(factory)
    session.commit()
    browser = Browser()
    browser.log_in(a, member)
    token = browser.form_token(a, norm_page)
    word = f"quokka{uuid.uuid4().hex[:8]}"
    status = browser.post(a, f"{norm_page}/comments", {"body": f"A {word}.", "csrf_token": token})
    assert status[0] in (302, 303)

    deadline = time.monotonic() + 1.0
    while True:
        found = browser.get(b, f"/api/v1/search?q={word}")
        if found[0] == 200 and json.loads(found[2])["total"] == 1:
            break
        assert time.monotonic() < deadline, f"B's search did not find {word}: {found[2][:300]}"
        time.sleep(0.05)
