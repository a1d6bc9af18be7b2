"""Rate limits: what an attacker or a runaway script meets, as a page or as the API's JSON."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest
import redis

from normhub import ratelimit
from normhub.api.services import create_token
from tests.factories import Factory

REDIS_URL = "redis://127.0.0.1:6379/0"


def _login(client, email, password, address="10.0.0.1"):
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_the_eleventh_wrong_password_is_refused_and_so_is_the_right_one(client, factory):
    member = factory.user(name="Ines Marsh")
    for attempt in range(10):
        response = _login(client, member.email, f"wrong guess {attempt}")
        assert response.status_code == 400
    refused = _login(client, member.email, Factory.PASSWORD)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    page = refused.get_data(as_text=True)
    assert "Too many attempts. Please wait" in page
    assert "Ines" not in page


def test_an_accounts_failures_count_from_every_address(client, factory):
    member = factory.user()
    for attempt in range(10):
        _login(client, member.email, "nope", address=f"10.1.0.{attempt}")
    assert _login(client, member.email, "nope", address="10.9.9.9").status_code == 429
    # The limit is the account's: another member still logs in from those addresses.
    other = factory.user()
    assert _login(client, other.email, Factory.PASSWORD, address="10.1.0.3").status_code == 302


def test_logging_in_well_does_not_use_up_the_accounts_allowance(client, factory):
    member = factory.user()
    for _ in range(12):
        assert _login(client, member.email, Factory.PASSWORD, address="10.2.0.1").status_code == 302
        client.post("/logout", environ_base={"REMOTE_ADDR": "10.2.0.1"})


def test_one_address_trying_many_accounts_is_slowed_down(client, factory):
    for attempt in range(30):
        response = _login(client, f"guess{attempt}@example.org", "password1", address="10.3.0.1")
        assert response.status_code == 400
    assert _login(client, "guess99@example.org", "pw", address="10.3.0.1").status_code == 429
    assert _login(client, "guess99@example.org", "pw", address="10.3.0.2").status_code == 400


def test_reset_emails_are_limited_per_account_and_per_address(client, factory):
    member = factory.user()

    def ask(email, address):
        return client.post(
            "/password/forgot", data={"email": email}, environ_base={"REMOTE_ADDR": address}
        )

    assert [ask(member.email, f"10.4.0.{n}").status_code for n in range(3)] == [302] * 3
    refused = ask(member.email, "10.4.0.9")
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    for n in range(10):
        assert ask(f"someone{n}@example.org", "10.4.1.1").status_code == 302
    assert ask("someone-else@example.org", "10.4.1.1").status_code == 429


def test_comments_are_limited_per_member(client, factory, login_as):
    community = factory.community()
    member = factory.member(community)
    norm = factory.norm(community)
    login_as(member)
    path = f"/c/{community.slug}/norms/{norm.slug}/comments"
    for number in range(10):
        assert client.post(path, data={"body": f"Point {number}"}).status_code in (302, 303)
    refused = client.post(path, data={"body": "One too many"})
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers


@pytest.fixture
def lowered_api_limit(monkeypatch):
    rule = ratelimit.Rule("5 per minute", ratelimit.by_token, ("GET",))
    monkeypatch.setitem(ratelimit.LIMITS, ratelimit.ALL_API, (rule,))


def test_the_api_answers_429_in_json_per_token(lowered_api_limit, client, factory, session):
    community = factory.community()
    norm = factory.norm(community)
    _, first = create_token(session, factory.member(community), "first")
    _, second = create_token(session, factory.member(community), "second")
    session.commit()
    path = f"/api/v1/communities/{community.slug}/norms/{norm.slug}/coverage"

    def get(secret):
        return client.get(path, headers={"Authorization": f"Bearer {secret}"})

    assert [get(first).status_code for _ in range(5)] == [200] * 5
    refused = get(first)
    assert refused.status_code == 429
    assert refused.is_json
    error = refused.get_json()["error"]
    assert error["status"] == 429
    assert error["message"].startswith("Too many attempts")
    assert int(refused.headers["Retry-After"]) > 0
    assert get(second).status_code == 200


# --- two processes, one count ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_server(port: int, environment: dict) -> subprocess.Popen:
    code = (
        "import os, sys\n"
        "from werkzeug.serving import run_simple\n"
        "from normhub import create_app\n"
        "app = create_app({'WTF_CSRF_ENABLED': False})\n"
        "run_simple('127.0.0.1', int(sys.argv[1]), app, threaded=True)\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, str(port)],
        env=environment,
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _request(port: int, method: str, path: str, body: str | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    try:
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        response.read()
        return response.status, dict(response.getheaders())
    finally:
        connection.close()


def _wait_until_serving(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(server.stderr.read().decode()[-2000:])
        try:
            _request(port, "GET", "/login")
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"server on {port} did not start")


def _post_login(port: int, email: str, password: str) -> tuple[int, dict]:
    return _request(
        port, "POST", "/login", urllib.parse.urlencode({"email": email, "password": password})
    )


@pytest.fixture
def shared_redis_prefix():
    prefix = f"normhub-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)


def test_two_servers_sharing_redis_share_one_count(
    app, session, factory, instance_path, shared_redis_prefix
):
    member = factory.user()
    session.commit()
    environment = {
        **os.environ,
        "NORMHUB_DATABASE_URL": app.config["DATABASE_URL"],
        "NORMHUB_SECRET_KEY": "two-servers-one-secret",
        "NORMHUB_REDIS_URL": REDIS_URL,
        "NORMHUB_SEARCH_INDEXING": "0",
    }
    ports = [_free_port(), _free_port()]
    servers = []
    try:
        for number, port in enumerate(ports):
            server_instance = instance_path / f"server-{number}"
            server_instance.mkdir()
            servers.append(
                _start_server(
                    port,
                    {
                        **environment,
                        "NORMHUB_INSTANCE_PATH": str(server_instance),
                        "NORMHUB_RATE_LIMIT_PREFIX": shared_redis_prefix,
                        # Their kept pages go with the counts when the test ends.
                        "NORMHUB_PAGE_CACHE_PREFIX": shared_redis_prefix,
                    },
                )
            )
        for port, server in zip(ports, servers, strict=True):
            _wait_until_serving(port, server)
        answers = [_post_login(ports[n % 2], member.email, "wrong")[0] for n in range(10)]
        assert answers == [400] * 10
        status, headers = _post_login(ports[1], member.email, Factory.PASSWORD)
        assert status == 429
        assert int(headers["Retry-After"]) > 0
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


def test_the_limits_name_only_views_that_exist(app):
    limited = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if getattr(view, "__wrapper-limiter-instance", None) is not None
    }
    assert {"accounts.login", "accounts.register", "discussion.post"} <= limited
    assert {"password_reset.forgot", "password_reset.reset_password"} <= limited
    assert {"api.exposure", "api.coverage", "search.api_search"} <= limited
    assert "api.tokens" not in limited  # a settings page, not the API
    assert json.dumps(sorted(limited))  # names only, nothing else attached


def test_an_answer_within_the_limits_says_nothing_about_them(client, factory):
    # A Retry-After on a 200 would tell a script to wait when it need not; the headers
    # would also cost a second read of the count on every limited answer.
    member = factory.user()
    response = _login(client, member.email, "wrong")
    assert response.status_code == 400
    assert "Retry-After" not in response.headers
    assert not [name for name, _ in response.headers.items() if name.lower().startswith("x-ratel")]
