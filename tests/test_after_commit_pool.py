"""After-commit work under a threaded server: 50 comments at once, none lost.

Search indexing follows each commit. It once ran while the request still held
its pooled connection and took a second one, so about 15 simultaneous posts
emptied the pool and every request waited for a connection that never came
back: 500s after 30 s and lost comments. This runs the real app on a threaded
server on a free local port and posts from 50 threads at once.
"""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from normhub.discussion.models import Comment
from normhub.search.services import search
from tests.factories import Factory

POSTS = 50


@pytest.fixture
def app_overrides():
    # The pool's defaults (5 + 10 overflow) are what production runs with;
    # a short pool timeout makes a deadlock fail in seconds, not minutes.
    # One member posting 50 comments at once is what the test needs, and more than
    # the comment rate limit lets through (tests/test_rate_limits.py covers that).
    return {"SERVER_NAME": None, "DATABASE_POOL_TIMEOUT": 5, "RATELIMIT_ENABLED": False}


@pytest.fixture
def live_server(app, session):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _login_cookie(port: int, email: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = urllib.parse.urlencode({"email": email, "password": Factory.PASSWORD})
    connection.request(
        "POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    response = connection.getresponse()
    response.read()
    assert response.status == 302
    cookie = SimpleCookie(response.getheader("Set-Cookie"))
    connection.close()
    return "; ".join(f"{key}={morsel.value}" for key, morsel in cookie.items())


def test_fifty_simultaneous_comments_are_all_saved_and_indexed(app, session, factory, live_server):
    community = factory.community(name="Harbour Watch")
    member = factory.member(community, name="Rosa Pell")
    norm = factory.norm(community, title="Moor boats with two lines")
    session.commit()
    cookie = _login_cookie(live_server, member.email)
    path = f"/c/{community.slug}/norms/{norm.slug}/comments"
    start = threading.Barrier(POSTS)
    statuses: list[int] = []

    def post(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", live_server, timeout=60)
        body = urllib.parse.urlencode({"body": f"Checked mooring number{number} twice"})
        start.wait()
        connection.request(
            "POST",
            path,
            body,
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
        )
        response = connection.getresponse()
        response.read()
        statuses.append(response.status)
        connection.close()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(POSTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(statuses) == [302] * POSTS
    session.rollback()
    saved = session.scalar(select(func.count(Comment.id)).where(Comment.norm_id == norm.id))
    assert saved == POSTS
    for number in (0, POSTS // 2, POSTS - 1):
        assert search(session, member, f"number{number}").total == 1, number
