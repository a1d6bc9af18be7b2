"""The hot path's way to the database: statements run straight on the driver.

The API exposure check must keep close to a bare endpoint's throughput, so it
skips the Session and SQLAlchemy's per-execution bookkeeping: a
:class:`DirectStatement` is compiled by SQLAlchemy once and run on the driver's
cursor, on a :class:`DirectConnection` from an autocommit pool of its own.
Everything else goes through sessions (``normhub.db``).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections import namedtuple
from contextlib import contextmanager, nullcontext

from flask import Flask, current_app, g
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from normhub.db import SQLITE_BUSY_TIMEOUT_MS, make_engine


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


def init_app(app: Flask) -> None:
    """Give the app its autocommit pool; a request's connection goes back when it ends."""
    app.extensions["normhub.autocommit_engine"] = make_direct_engine(
        app.config["DATABASE_URL"], pool_recycle=1800
    )

    def _release_connection(_exc=None):
        direct = g.pop("db_direct", None)
        if direct is not None:
            direct.close()

    app.teardown_request(_release_connection)
    app.teardown_appcontext(_release_connection)


def get_direct_connection() -> DirectConnection:
    """This request's DirectConnection; it returns to the pool when the request ends."""
    if "db_direct" not in g:
        g.db_direct = DirectConnection(current_app.extensions["normhub.autocommit_engine"])
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
        turn = queue.turn() if queue is not None and self.statement.is_dml else nullcontext()
        with turn:
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
