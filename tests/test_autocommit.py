"""DirectStatement and DirectConnection: the hot path's way to the database.

They skip SQLAlchemy's per-execution bookkeeping, so these tests pin down what
must not be lost with it: value conversion, transaction semantics, and pooled
connections handed back exactly as they were lent.
"""

from __future__ import annotations

import multiprocessing
from datetime import datetime

import pytest
from sqlalchemy import bindparam, insert, select, text

from normhub.accounts.models import User, new_handle
from normhub.autocommit import DirectConnection, DirectStatement, make_direct_engine
from normhub.db import make_engine

_INSERT_USER = DirectStatement(
    insert(User).values(
        email=bindparam("email"),
        display_name=bindparam("name"),
        password_hash="x",
        bio="",
        is_admin=bindparam("is_admin", type_=User.is_admin.type),
        created_at=bindparam("created_at", type_=User.created_at.type),
        handle=bindparam("handle"),
    )
)


def _insert_user(db, params: dict) -> None:
    _INSERT_USER.execute(db, {**params, "handle": new_handle()})


_USER_BY_EMAIL = DirectStatement(
    select(User.id, User.display_name, User.is_admin, User.created_at).where(
        User.email == bindparam("email")
    )
)


def _user_exists(app, email: str) -> bool:
    """Asked on a connection of its own, outside the app's pool."""
    engine = make_engine(app.config["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return connection.scalar(select(User.id).where(User.email == email)) is not None
    finally:
        engine.dispose()


def test_values_come_back_as_python_types(session):
    created = datetime(2026, 3, 4, 5, 6, 7, 890)
    params = {"email": "types@example.org", "name": "Types", "is_admin": True}
    _insert_user(session, {**params, "created_at": created})
    row = _USER_BY_EMAIL.first(session, {"email": "types@example.org"})
    assert row.display_name == "Types"
    assert row.is_admin is True
    assert row.created_at == created
    assert _USER_BY_EMAIL.first(session, {"email": "nobody@example.org"}) is None
    assert _USER_BY_EMAIL.all(session, {"email": "types@example.org"}) == [row]


def test_on_a_session_it_is_part_of_the_transaction(app, session):
    params = {"email": "undone@example.org", "name": "U", "is_admin": False}
    _insert_user(session, {**params, "created_at": datetime(2026, 1, 1)})
    session.rollback()
    assert not _user_exists(app, "undone@example.org")


def test_direct_connection_commits_each_statement_on_its_own(app, session):
    engine = app.extensions["normhub.autocommit_engine"]
    engine.dispose()  # one pooled connection from here on, so it is reused below
    direct = DirectConnection(engine)
    driver = direct.driver_connection
    params = {"email": "direct@example.org", "name": "D", "is_admin": False}
    _insert_user(direct, {**params, "created_at": datetime(2026, 1, 1)})
    # Committed by the statement itself, before the connection is released.
    assert _user_exists(app, "direct@example.org")
    direct.close()

    again = DirectConnection(engine)
    try:
        assert again.driver_connection is driver
        params = {"email": "again@example.org", "name": "A", "is_admin": False}
        _insert_user(again, {**params, "created_at": datetime(2026, 1, 1)})
        assert _user_exists(app, "again@example.org")
    finally:
        again.close()


def test_sessions_stay_transactional_beside_direct_connections(app, session):
    direct = DirectConnection(app.extensions["normhub.autocommit_engine"])
    try:
        assert _USER_BY_EMAIL.first(direct, {"email": "nobody@example.org"}) is None
        other = app.extensions["normhub.sessionmaker"]()
        try:
            other.add(User(email="rolled@example.org", display_name="R", password_hash="x"))
            other.flush()
            other.rollback()
        finally:
            other.close()
    finally:
        direct.close()
    assert not _user_exists(app, "rolled@example.org")


def _insert_users_directly(url: str, prefix: str, count: int) -> None:
    engine = make_direct_engine(url)
    try:
        for number in range(count):
            direct = DirectConnection(engine)
            try:
                params = {"email": f"{prefix}{number}@example.org", "name": prefix}
                _insert_user(
                    direct, {**params, "is_admin": False, "created_at": datetime(2026, 1, 1)}
                )
            finally:
                direct.close()
    finally:
        engine.dispose()


def test_processes_writing_at_once_lose_nothing(app, session):
    url = app.config["DATABASE_URL"]
    spawn = multiprocessing.get_context("spawn")
    writers = [
        spawn.Process(target=_insert_users_directly, args=(url, f"writer{n}-", 150))
        for n in range(3)
    ]
    for writer in writers:
        writer.start()
    _insert_users_directly(url, "parent-", 150)
    for writer in writers:
        writer.join(timeout=120)
        assert writer.exitcode == 0
    session.rollback()
    emails = session.scalars(select(User.email).where(User.email.like("%@example.org"))).all()
    assert len(emails) == len(set(emails)) == 4 * 150


def test_direct_writes_trade_the_last_flush_for_speed_sessions_do_not(app, session):
    direct = DirectConnection(app.extensions["normhub.autocommit_engine"])
    try:
        if direct.dialect.name == "sqlite":
            # WAL with synchronous=NORMAL: what every SQLite commit already gets.
            setting = direct.driver_connection.execute("PRAGMA synchronous").fetchone()[0]
            assert setting == 1
        else:
            direct.cursor.execute("SHOW synchronous_commit")
            assert direct.cursor.fetchone()[0] == "off"
            assert session.scalar(text("SHOW synchronous_commit")) == "on"
    finally:
        direct.close()


def test_direct_engine_keeps_the_settings_the_url_carries(app):
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite"):
        url += "?timeout=7"  # a driver argument carried by the URL
        expected = {"PRAGMA busy_timeout": 15000}
    else:
        url += "?options=-c%20statement_timeout%3D4321"
        expected = {"SHOW statement_timeout": "4321ms", "SHOW synchronous_commit": "off"}
    engine = make_direct_engine(url)
    direct = DirectConnection(engine)
    try:
        for query, value in expected.items():
            direct.cursor.execute(query)
            assert direct.cursor.fetchone()[0] == value, query
    finally:
        direct.close()
        engine.dispose()


def test_columns_with_python_defaults_must_be_given(session):
    from normhub.exposure.models import ExposureEvent

    statement = DirectStatement(
        insert(ExposureEvent).values(
            user_id=bindparam("user_id"),
            norm_id=bindparam("norm_id"),
            version_number=1,
            kind="opened",
            level="opened",
        )
    )
    with pytest.raises(ValueError, match="Python default"):
        statement.execute(session, {"user_id": 1, "norm_id": 1})


def test_list_parameters_are_refused_up_front(session):
    statement = DirectStatement(select(User.id).where(User.email.in_(["a@b.c", "d@e.f"])))
    with pytest.raises(ValueError, match="list parameter"):
        statement.all(session, {})
