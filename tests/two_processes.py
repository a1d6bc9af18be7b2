"""Two apps on one database and instance folder, standing for two processes of one machine,
and the helpers the tests of what a process keeps between requests share."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

SHARED_SETTINGS = (
    "TESTING",
    "DATABASE_URL",
    "WTF_CSRF_ENABLED",
    "SEARCH_INDEX_DIR",
    "OUTBOX_DIR",
    "SERVER_NAME",
    "BASE_URL",
    "SEARCH_BACKEND",
    "PAGE_CACHE_URL",
)


@contextmanager
def session_of(app):
    with app.app_context():
        session = app.extensions["normhub.sessionmaker"]()
        try:
            yield session
        finally:
            session.rollback()
            session.close()


@contextmanager
def counted(app):
    statements: list[str] = []

    def listener(*args):
        statements.append(args[2])

    engine = app.extensions["normhub.engine"]
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)
