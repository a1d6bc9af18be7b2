"""Migration 0014: the login_sessions table, and an expiry date for API tokens made before."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import DateTime, inspect, text

from normhub.cli import downgrade_database, upgrade_database
from normhub.db import make_engine, utcnow
from tests.conftest import fresh_database


@pytest.fixture
def empty_database_url(tmp_path):
    with fresh_database(tmp_path) as url:
        yield url


def test_earlier_tokens_expire_ninety_days_after_the_migration(empty_database_url):
    upgrade_database(empty_database_url, "0011")
    engine = make_engine(empty_database_url)
    made = datetime(2025, 3, 1, 9)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (id, email, display_name, password_hash, bio, is_admin,"
                    " created_at) VALUES (1, 'ann@example.org', 'Ann', 'x', '', false, :at)"
                ),
                {"at": made},
            )
            connection.execute(
                text(
                    "INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_at)"
                    " VALUES (1, 1, 'old', :hash, 'nh_abcde', :at)"
                ),
                {"hash": "a" * 64, "at": made},
            )
        upgrade_database(empty_database_url, "0014")
        with engine.connect() as connection:
            expires = connection.execute(
                text("SELECT expires_at FROM api_tokens").columns(expires_at=DateTime)
            ).scalar_one()
            columns = {c["name"]: c for c in inspect(connection).get_columns("api_tokens")}
            assert "login_sessions" in inspect(connection).get_table_names()
        assert abs(expires - (utcnow() + timedelta(days=90))) < timedelta(minutes=5)
        assert columns["expires_at"]["nullable"] is False
        downgrade_database(empty_database_url, "0011")
        with engine.connect() as connection:
            assert "login_sessions" not in inspect(connection).get_table_names()
            names = {c["name"] for c in inspect(connection).get_columns("api_tokens")}
            assert "expires_at" not in names
            assert connection.execute(text("SELECT name FROM api_tokens")).scalar_one() == "old"
    finally:
        engine.dispose()
