"""Test fixtures: a real SQLite file by default, or a real PostgreSQL server.

Set NORMHUB_TEST_DATABASE_URL to a PostgreSQL URL (``make test-postgres``) and
each test run creates its own database on that server, migrates it with
Alembic, and drops it at the end, so parallel runs never collide.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from sqlalchemy import text
from sqlalchemy.engine import make_url

from normhub import create_app
from normhub.cli import upgrade_database
from normhub.db import Base, dispose_engines, make_engine, set_write_intent
from tests import two_processes
from tests.browser_helpers import chromium, running
from tests.factories import Factory
from tests.smtp import Collector, SMTPServer

POSTGRES_SERVER_URL = os.environ.get("NORMHUB_TEST_DATABASE_URL")
# Unset: the app's own choice (postgres on PostgreSQL, whoosh on SQLite);
# ``make test-postgres-whoosh`` runs the suite on PostgreSQL with the Whoosh backend.
SEARCH_BACKEND = os.environ.get("NORMHUB_TEST_SEARCH_BACKEND")
if SEARCH_BACKEND:  # and for the apps tests start in processes of their own
    os.environ["NORMHUB_SEARCH_BACKEND"] = SEARCH_BACKEND


POSTGRES_ONLY = "postgres_only"


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        f"{POSTGRES_ONLY}: needs PostgreSQL (several hosts on one database); runs when "
        "NORMHUB_TEST_DATABASE_URL is set, deselected on SQLite (never counted as passed)",
    )


def pytest_report_header(config):
    if not POSTGRES_SERVER_URL:
        return f"{POSTGRES_ONLY} tests deselected: set NORMHUB_TEST_DATABASE_URL to run them"
    return None


def pytest_collection_modifyitems(config, items):
    """On SQLite, PostgreSQL-only tests are deselected: reported as such, neither run nor passed."""
    if POSTGRES_SERVER_URL:
        return
    kept, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker(POSTGRES_ONLY) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing():
    """Argon2 with production cost takes ~0.2 s a hash; tests create hundreds of users."""
    from argon2 import PasswordHasher

    from normhub.accounts import services

    original = services._hasher
    services._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    services._hasher = original


@contextmanager
def fresh_database(directory: Path):
    """The URL of an empty database: a SQLite file in ``directory``, or a database of
    its own on the PostgreSQL server, dropped afterwards."""
    if not POSTGRES_SERVER_URL:
        yield f"sqlite:///{directory / 'normhub-test.sqlite3'}"
        return
    server = make_url(POSTGRES_SERVER_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"normhub_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(server.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    with fresh_database(tmp_path_factory.mktemp("db")) as url:
        upgrade_database(url)
        yield url


@pytest.fixture(scope="session")
def is_postgres(database_url) -> bool:
    return database_url.startswith("postgresql")


def _empty_all_tables(engine) -> None:
    import normhub.models  # noqa: F401

    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            conn.execute(text("UPDATE norms SET current_version_id = NULL"))
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (table names from metadata)
            # Deleting summaries and memberships wrote to the coverage tallies again.
            conn.execute(text("DELETE FROM coverage_tallies"))


@pytest.fixture
def redis_page_cache():
    """Settings that keep pages in the local Redis under a prefix of this test's own,
    whose keys are removed afterwards."""
    prefix = f"normhub-test-{uuid.uuid4().hex[:10]}"
    yield {"PAGE_CACHE_URL": REDIS_URL, "PAGE_CACHE_PREFIX": prefix}
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*", count=1000):
        client.delete(key)
    client.close()


@pytest.fixture
def smtp():
    """A real SMTP server on a free port, not yet listening: ``with smtp:`` starts it.

    A module whose app must send to it says so with ``app_overrides`` returning
    ``smtp.settings()``.
    """
    return SMTPServer(Collector())


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 (aiosmtpd), keeping every message it accepts."""
    with SMTPServer(Collector()) as server:
        yield server


@pytest.fixture
def instance_path(tmp_path) -> Path:
    path = tmp_path / "instance"
    path.mkdir()
    return path


@pytest.fixture
def app_overrides() -> dict:
    """Override in a test module to change settings for its app."""
    return {}


def search_backend_for(request) -> str | None:
    """Tests marked ``whoosh`` reach into that backend's own parts: their app uses it."""
    if request.node.get_closest_marker("whoosh"):
        return "whoosh"
    return SEARCH_BACKEND


@pytest.fixture
def app(request, database_url, instance_path, app_overrides):
    settings = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "SEARCH_INDEX_DIR": str(instance_path / "search-index"),
        "OUTBOX_DIR": str(instance_path / "outbox"),
        "SERVER_NAME": "normhub.test",
        "BASE_URL": "http://normhub.test",
        "SEARCH_BACKEND": search_backend_for(request),
        # Pages are kept in the test's own instance folder, never in a shared Redis.
        "PAGE_CACHE_URL": None,
    }
    settings.update(app_overrides)
    app = create_app(settings, instance_path=str(instance_path))
    yield app
    _empty_all_tables(app.extensions["normhub.engine"])
    dispose_engines(app)


@pytest.fixture
def session(app):
    """A session outside any request; tests commit through it like a CLI command would."""
    with app.app_context():
        # The test's own reads must not hold SQLite's write lock while the
        # requests it makes try to write: begin deferred, like a GET does.
        set_write_intent(False)
        session = app.extensions["normhub.sessionmaker"]()
        yield session
        set_write_intent(True)
        session.rollback()
        session.close()


@pytest.fixture
def factory(session) -> Factory:
    return Factory(session)


@pytest.fixture
def client(app, session):
    """A test client whose requests run as in production (see :func:`new_client`)."""
    return new_client(app, session)


def new_client(app, session):
    """A test client whose requests run as in production, each in its own app context.

    The ``session`` fixture keeps an app context pushed for the test's own
    service calls; Flask would reuse it for every request, sharing ``g`` (the
    request's database session, the logged-in user) from one request to the
    next. Before each request the test's transaction is committed, so the
    request sees what the test wrote, as it would after any real commit.
    A test that needs a second browser makes another with this.
    """
    client = app.test_client()
    send = client.open

    def open_in_own_context(*args, **kwargs):
        session.commit()
        with app.app_context():
            return send(*args, **kwargs)

    client.open = open_in_own_context
    return client


def login(client, user, password: str = Factory.PASSWORD):
    """Log ``user`` in through the real login form."""
    response = client.post(
        "/login", data={"email": user.email, "password": password}, follow_redirects=False
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


@pytest.fixture
def login_as(client):
    def _login(user):
        return login(client, user)

    return _login


@pytest.fixture
def live_server(app, session):
    """The app served on a free local port (its base URL), for real-browser tests."""
    with running(app) as base_url:
        yield base_url


@pytest.fixture
def browser():
    """Debian's Chromium, driven by Playwright."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def other_app(app):
    """Another process of the same machine: same database, same instance folder
    (``tests.two_processes``)."""
    settings = {name: app.config[name] for name in two_processes.SHARED_SETTINGS}
    other = create_app(settings, instance_path=app.instance_path)
    yield other
    dispose_engines(other)
