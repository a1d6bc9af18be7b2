"""Database engine, sessions and the declarative base.

Every feature package defines its models on :class:`Base`; Alembic migrations
under ``migrations/`` are the only thing that creates or changes the schema.

Services take a ``Session`` argument and never commit: the caller (a view, a
CLI command, a test) owns the transaction. In a request, :func:`get_session`
returns the session of the current app context; it is rolled back and closed
when the context ends, so a failed request never leaves half a change behind.
The exception is the hot path's :class:`DirectConnection`, on which each
statement commits on its own (see there).
"""

from __future__ import annotations

import contextvars
import fcntl
import os
import threading
import time
from collections import namedtuple
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import Flask, current_app, g
from sqlalchemy import MetaData, create_engine, event
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
    engine = make_engine(app.config["DATABASE_URL"], pool_recycle=1800)
    app.extensions["normhub.engine"] = engine
    app.extensions["normhub.sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)
    app.extensions["normhub.direct_engine"] = make_direct_engine(
        app.config["DATABASE_URL"], pool_recycle=1800
    )

    @app.before_request
    def _declare_write_intent():
        from flask import request

        g.write_intent_token = _sqlite_immediate.set(
            request.method not in ("GET", "HEAD", "OPTIONS")
        )

    def _release_connections(_exc=None):
        direct = g.pop("db_direct", None)
        session = g.pop("db_session", None)
        try:
            if direct is not None:
                direct.close()
        finally:
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
    app.extensions["normhub.engine"].dispose()
    app.extensions["normhub.direct_engine"].dispose()


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


class DirectConnection:
    """A pooled driver connection on which each statement commits on its own.

    For a hot path that reads without needing one snapshot and writes with
    single statements (the API exposure check): no Session to set up and tear
    down, no BEGIN or COMMIT round trips, and on SQLite the write lock is held
    for one statement only. Run DirectStatements on it. Its connections come
    from a pool of their own (``make_direct_engine``), so they stay in
    autocommit mode and never mix with the sessions' transactional ones.
    """

    def __init__(self, engine: Engine):
        self.dialect = engine.dialect
        self.writer_queue = _writer_queue(engine)
        self._pooled = engine.raw_connection()
        self.driver_connection = self._pooled.driver_connection
        try:
            # One cursor for every statement of the request: creating one per
            # statement is a measurable part of a psycopg round trip.
            self.cursor = self.driver_connection.cursor()
        except BaseException:
            self._pooled.close()
            raise

    def invalidate(self) -> None:
        """Drop the connection from the pool (the database went away under it)."""
        self._pooled.invalidate()

    def close(self) -> None:
        try:
            self.cursor.close()
        finally:
            self._pooled.close()


class _WriterQueue:
    """Lines up this machine's direct writes to one SQLite file behind an OS lock.

    SQLite lets one writer in at a time; the others poll, sleeping 1, 2, 5 ms…
    between tries, which is long next to a 40 µs INSERT. Here the next writer
    asks again after 50 µs, backing off to 1 ms. After as long as SQLite's own
    busy timeout it stops queueing and leaves the waiting to SQLite, so a
    session transaction holding the database lock for long (whose writes do
    not queue here) cannot make queued writers wait in turn, one timeout each.
    """

    def __init__(self, path: str):
        self.path = path
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None

    @contextmanager
    def turn(self):
        with self._thread_lock:
            fd = self._descriptor()
            held = self._acquire(fd)
            try:
                yield
            finally:
                if held:
                    fcntl.flock(fd, fcntl.LOCK_UN)

    def _descriptor(self) -> int:
        if self._pid != os.getpid():
            # A descriptor inherited across fork shares its lock with the
            # parent's: each process opens its own.
            if self._fd is not None:
                os.close(self._fd)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    @staticmethod
    def _acquire(fd: int) -> bool:
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
        pause = 0.00005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(pause)
                pause = min(pause * 2, 0.001)


_writer_queues: dict[str, _WriterQueue] = {}


def _writer_queue(engine: Engine) -> _WriterQueue | None:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        return None
    path = os.path.abspath(f"{database}-writers.lock")
    if path not in _writer_queues:
        _writer_queues[path] = _WriterQueue(path)
    return _writer_queues[path]


def make_direct_engine(url: str, **kwargs) -> Engine:
    """The engine whose pool lends DirectConnections: autocommit throughout.

    On PostgreSQL the statements take positional parameters, which psycopg
    passes on as they are instead of mapping names to positions on each call,
    and commits are asynchronous (``synchronous_commit=off``): an exposure
    check's record returns without waiting for the WAL flush, which cost more
    than the rest of the check. That is the durability SQLite's WAL mode with
    ``synchronous=NORMAL`` gives every commit: a crash of the database server
    or machine (not of NormHub) may lose the last fraction of a second of such
    writes, never leaves half of one. Sessions keep synchronous commits.
    """
    if url.startswith("sqlite"):
        return make_engine(url, isolation_level="AUTOCOMMIT", **kwargs)
    kwargs.setdefault("paramstyle", "format")
    engine = make_engine(url, isolation_level="AUTOCOMMIT", **kwargs)

    @event.listens_for(engine, "connect")
    def _asynchronous_commits(dbapi_connection, _record):
        # A SET on connect, not connect_args: those would replace any
        # ``options`` the database URL carries.
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")
        dbapi_connection.commit()

    return engine


def get_direct_connection() -> DirectConnection:
    """This request's DirectConnection; it returns to the pool when the request ends."""
    if "db_direct" not in g:
        g.db_direct = DirectConnection(current_app.extensions["normhub.direct_engine"])
    return g.db_direct


class DirectStatement:
    """A Core statement compiled once per dialect and run straight on the driver.

    SQLAlchemy's per-execution bookkeeping (execution context, result
    metadata, events) costs 25-30 µs a statement, several times what SQLite
    needs for an indexed lookup. The API exposure check runs a few statements
    per request and must keep close to a bare endpoint's throughput, so its
    statements skip that bookkeeping: SQLAlchemy still writes the SQL for each
    dialect and converts values with its own type processors. Given a
    Session, a statement runs on the driver connection of the session's
    current transaction, so it is part of that transaction like any other;
    given a DirectConnection, it commits on its own. Rows are named tuples.
    """

    def __init__(self, statement):
        self.statement = statement
        self._prepared: dict[tuple[str, str, str], _Prepared] = {}

    def _prepare(self, dialect) -> _Prepared:
        key = (dialect.name, dialect.driver, dialect.paramstyle)
        prepared = self._prepared.get(key)
        if prepared is None:
            prepared = self._prepared[key] = _Prepared(self.statement, dialect)
        return prepared

    def _run(self, db: Session | DirectConnection, params: dict):
        """Execute; returns the prepared form, the cursor, and whether to close it."""
        if isinstance(db, Session):
            if db.autoflush:
                db.flush()  # as session.execute() would: see pending changes
            connection = db.connection()
            dialect, owned = connection.dialect, True
            cursor = connection.connection.driver_connection.cursor()
        else:
            dialect, cursor, owned = db.dialect, db.cursor, False
        prepared = self._prepare(dialect)
        try:
            cursor.execute(prepared.sql, prepared.arguments(params))
        except dialect.loaded_dbapi.Error as error:
            if owned:
                cursor.close()
            elif dialect.is_disconnect(error, db.driver_connection, cursor):
                db.invalidate()
            raise
        return prepared, cursor, owned

    def all(self, db: Session | DirectConnection, params: dict) -> list:
        prepared, cursor, owned = self._run(db, params)
        try:
            return [prepared.row(values) for values in cursor.fetchall()]
        finally:
            if owned:
                cursor.close()

    def first(self, db: Session | DirectConnection, params: dict):
        prepared, cursor, owned = self._run(db, params)
        try:
            values = cursor.fetchone()
        finally:
            if owned:
                cursor.close()
        return prepared.row(values) if values is not None else None

    def execute(self, db: Session | DirectConnection, params: dict) -> None:
        queue = db.writer_queue if isinstance(db, DirectConnection) else None
        if queue is not None and self.statement.is_dml:
            with queue.turn():
                _prepared, cursor, owned = self._run(db, params)
        else:
            _prepared, cursor, owned = self._run(db, params)
        if owned:
            cursor.close()


class _Prepared:
    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.names = list(compiled.positiontup) if compiled.positional else None
        binds = {name: bind for bind, name in compiled.bind_names.items()}
        if any(bind.expanding for bind in binds.values()):
            # IN over a list parameter is rendered per call; spell the list
            # out as literals (``in_([literal(x), ...])``) instead.
            raise ValueError("A DirectStatement cannot take a list parameter.")
        if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
            # Python-side column defaults are computed per execution by the
            # machinery this class skips: they would be written as NULL.
            raise ValueError("A DirectStatement must set every column that has a Python default.")
        self.defaults = {
            name: bind.effective_value for name, bind in binds.items() if not bind.required
        }
        self.bind_processors = {
            name: processor
            for name, bind in binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect))
        }
        columns = list(getattr(statement, "selected_columns", ()))
        self.row_type = namedtuple("Row", [column.key for column in columns])
        self.result_processors = [
            (index, processor)
            for index, column in enumerate(columns)
            if (processor := column.type.dialect_impl(dialect).result_processor(dialect, None))
        ]

    def arguments(self, params: dict):
        values = {**self.defaults, **params}
        for name, processor in self.bind_processors.items():
            values[name] = processor(values[name])
        return [values[name] for name in self.names] if self.names is not None else values

    def row(self, values: tuple):
        if self.result_processors:
            values = list(values)
            for index, processor in self.result_processors:
                values[index] = processor(values[index])
        return self.row_type(*values)


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
