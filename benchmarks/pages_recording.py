"""The page benchmark's one-off steps: log in, record each page once, count its queries.

Logging in goes through the real form (its CSRF token, the session cookie it
sets) so the cookie wrk replays is the one a browser would hold. Recording keeps
each page's bytes for benchmarks/same_bytes_app.py and checks that the page is
what it claims: a 200, and a member's page shown logged in, a visitor's not.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from benchmarks.same_bytes_app import SESSION_COOKIE, page_key

CSRF_FIELD = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')
LOGGED_IN_MARK = b'action="/logout"'
COMMENT_MARK = b'id="comment-'
# Set per response by the server (or, for a cookie, never the same twice): not replayed.
UNRECORDED_HEADERS = {"content-length", "date", "server", "connection", "set-cookie"}


@dataclass
class Recorded:
    path: str
    member: bool
    body: bytes
    headers: list[tuple[str, str]]

    @property
    def comments_shown(self) -> int:
        return self.body.count(COMMENT_MARK)


def _request(base_url: str, method: str, path: str, headers: dict, body: str | None = None):
    address = urlsplit(base_url)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


def _session_cookie(response) -> str | None:
    for header in response.headers.get_all("Set-Cookie") or []:
        name_value = header.split(";", 1)[0]
        if name_value.startswith(f"{SESSION_COOKIE}="):
            return name_value
    return None


def log_in(base_url: str, login: dict) -> str:
    """Log in through /login as a browser does; returns the ``session=…`` cookie."""
    response, page = _request(base_url, "GET", "/login", {})
    match = CSRF_FIELD.search(page)
    cookie = _session_cookie(response)
    if response.status != 200 or match is None or cookie is None:
        raise RuntimeError(f"/login gave {response.status}, no form token or no cookie")
    form = urlencode(
        {
            "csrf_token": match.group(1).decode(),
            "email": login["email"],
            "password": login["password"],
        }
    )
    response, _page = _request(
        base_url,
        "POST",
        "/login",
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        form,
    )
    cookie = _session_cookie(response)
    if response.status != 302 or cookie is None:
        raise RuntimeError(f"logging in gave {response.status}, cookie {cookie is not None}")
    return cookie


def record_pages(base_url: str, pages, cookie: str) -> dict[str, Recorded]:
    """Each page's bytes, once; a page that is not a 200, or not as logged in as it
    should be, stops the benchmark."""
    recorded = {}
    for page in pages:
        headers = {"Cookie": cookie} if page.member else {}
        response, body = _request(base_url, "GET", page.path, headers)
        if response.status != 200:
            raise RuntimeError(f"{page.name} ({page.path}) gave {response.status}")
        if (LOGGED_IN_MARK in body) != page.member:
            raise RuntimeError(f"{page.name} ({page.path}) is not shown as to a {page.member=}")
        kept = [
            (name, value)
            for name, value in response.getheaders()
            if name.lower() not in UNRECORDED_HEADERS
        ]
        recorded[page.name] = Recorded(page.path, page.member, body, kept)
    return recorded


def write_recording(directory: Path, recorded: dict[str, Recorded]) -> Path:
    """The same-bytes app's recording: an index and one file per page; returns the index."""
    directory.mkdir(parents=True, exist_ok=True)
    index = {}
    for page in recorded.values():
        key = page_key(page.path, page.member)
        body_file = hashlib.sha256(key.encode()).hexdigest()[:16] + ".body"
        (directory / body_file).write_bytes(page.body)
        index[key] = {"body_file": body_file, "headers": page.headers}
    path = directory / "index.json"
    path.write_text(json.dumps(index, indent=1))
    return path


@dataclass
class InProcess:
    queries: int  # SQL statements of one request
    cpu_ms: float  # CPU time of one request, the fastest of CPU_PASSES


CPU_PASSES = 3


def measure_in_process(url: str, secret_key: str, instance: Path, pages, cookie: str):
    """Each page's SQL statements and CPU time, through the app in this process.

    Each page is asked for once before counting: the first request may record
    that the member opened a norm, which a reload does not repeat. CPU time
    counts this process only (not PostgreSQL's) and depends less than req/s on
    what else the machine runs; the fastest pass is the closest to the code's cost.
    """
    from sqlalchemy import event

    from normhub import create_app
    from normhub.db import dispose_engines, get_engine

    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": secret_key, "RATELIMIT_ENABLED": False},
        instance_path=str(instance),
    )
    engine = get_engine(app)
    statements = []

    def count(*_args):
        statements.append(1)

    client = app.test_client(use_cookies=False)
    figures = {}
    try:
        for page in pages:
            headers = {"Cookie": cookie} if page.member else {}
            client.get(page.path, headers=headers)
            passes = []
            for _ in range(CPU_PASSES):
                started = time.process_time()
                client.get(page.path, headers=headers)
                passes.append((time.process_time() - started) * 1000)
            event.listen(engine, "before_cursor_execute", count)
            statements.clear()
            response = client.get(page.path, headers=headers)
            event.remove(engine, "before_cursor_execute", count)
            if response.status_code != 200:
                raise RuntimeError(f"{page.name} gave {response.status_code} in-process")
            figures[page.name] = InProcess(queries=len(statements), cpu_ms=min(passes))
    finally:
        dispose_engines(app)
    return figures
