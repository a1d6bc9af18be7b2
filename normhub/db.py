"""Database engine, sessions and the declarative base.

Every feature package defines its models on :class:`Base`; Alembic migrations
under ``migrations/`` are the only thing that creates or changes the schema.

Services take a ``Session`` argument and never commit: the caller (a view, a
CLI command, a test) owns the transaction. In a request, :func:`get_session`
returns the session of the current app context; it is rolled back and closed
when the context ends, so a failed request never leaves half a change behind.
The exception is the hot path's ``normhub.autocommit.DirectConnection``, on which
each statement commits on its own (see there).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import Flask, current_app, g, request
from sqlalchemy import MetaData, create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Naive UTC timestamp: both SQLite and PostgreSQL store it the same way."""
    return datetime.now(UTC).replace(tzinfo=None)


def utc_iso(value: datetime | None) -> str | None:
    """A stored (naive UTC) timestamp as ISO 8601 with its zone, for JSON answers."""
    return value.isoformat() + "Z" if value is not None else None


SQLITE_BUSY_TIMEOUT_MS = 15000

# SQLite has a single writer. A transaction that starts as a reader and later
# writes cannot upgrade its lock if another writer committed meanwhile, and
# busy_timeout does not help then. So write transactions begin IMMEDIATE; a
# request that only reads (GET) begins deferred and never takes the lock.
_sqlite_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "sqlite_immediate", default=True
)


def set_write_intent(immediate: bool) -> None:
    _sqlite_immediate.set(immediate)


def write_intent() -> bool:
    """Whether SQLite transactions begin IMMEDIATE just now (see set_write_intent)."""
    return _sqlite_immediate.get()


def dialect_insert(dialect_name: str):
    """The dialect's ``insert`` (with ON CONFLICT): PostgreSQL's or SQLite's."""
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = "BEGIN IMMEDIATE" if _sqlite_immediate.get() else "BEGIN"
        connection.exec_driver_sql(mode)


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def init_app(app: Flask) -> None:
    # Recycle rather than pre-ping: a ping is a round trip on every checkout,
    # and a connection lost to a server restart is invalidated on first use.
    engine = make_engine(
        app.config["DATABASE_URL"],
        pool_recycle=1800,
        pool_timeout=app.config.get("DATABASE_POOL_TIMEOUT", 30),
    )
    app.extensions["normhub.engine"] = engine
    app.extensions["normhub.sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)

    @app.before_request
    def _declare_write_intent():
        g.write_intent_token = _sqlite_immediate.set(
            request.method not in ("GET", "HEAD", "OPTIONS")
        )

    def _release_connections(_exc=None):
        session = g.pop("db_session", None)
        if session is not None:
            # close() ends the transaction (rolled back) and gives the
            # connection back; an explicit rollback() first would also
            # expire every loaded object and fire its events, ~60 µs a
            # request for a session about to be dropped. So per-request
            # state kept on a session must live in session.info (dropped
            # with it) or listen to after_transaction_end.
            session.close()

    @app.teardown_request
    def _end_request(_exc):
        # A request may run inside an app context that outlives it (tests,
        # scripts); its session and write intent must still end with it.
        _release_connections()
        token = g.pop("write_intent_token", None)
        if token is not None:
            _sqlite_immediate.reset(token)

    app.teardown_appcontext(_release_connections)


def dispose_engines(app: Flask) -> None:
    """Close every pooled connection of the app (before dropping a database, say)."""
    for extension in app.extensions.values():
        if isinstance(extension, Engine):
            extension.dispose()


def get_engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions["normhub.engine"]


def get_session() -> Session:
    """The session of the current app context (one per request or CLI command)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["normhub.sessionmaker"]()
    return g.db_session


def begin_write(session: Session) -> None:
    """Make sure what follows runs in a transaction that may write.

    For GET requests that must record something (e.g. an "opened" exposure
    event). Only SQLite needs it: its read transaction cannot be upgraded
    safely, so end it and begin the next one IMMEDIATE. PostgreSQL transactions
    can simply go on to write.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    session.commit()
    set_write_intent(True)


@contextmanager
def session_scope(app: Flask):
    """A standalone transaction for CLI commands and scripts: commit or roll back."""
    session = app.extensions["normhub.sessionmaker"]()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def written(obj, names: Iterable[str]) -> bool:
    """Whether the coming flush writes ``obj`` new, deletes it, or changes one of ``names``
    (the columns some cache or page is built from)."""
    state = inspect(obj)
    if state.pending or state.deleted or state.was_deleted:
        return True
    return any(state.attrs[name].history.has_changes() for name in names)


def declared_for(dialect_name: str):
    """An Alembic ``include_object`` hook for ``dialect_name``'s database: leaves out
    what a model declares for another database only (``Index(...).ddl_if(dialect=...)``),
    which Alembic's comparison would otherwise expect everywhere."""

    def include(obj, _name, _type, _reflected, _compare_to) -> bool:
        declared = getattr(obj, "_ddl_if", None)
        return declared is None or declared.dialect in (None, dialect_name)

    return include
