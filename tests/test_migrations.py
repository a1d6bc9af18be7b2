"""The schema the migrations build is the one the models describe.

Tests and deployments get their tables from Alembic, the code reads them
through the models: a difference (an index added to a model but not to a
migration, or dropped from one only) would go unnoticed anywhere else.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import DateTime, inspect, text

import normhub.models  # noqa: F401  (registers every table)
from normhub import create_app
from normhub.cli import downgrade_database, upgrade_database
from normhub.db import Base, declared_for, dispose_engines, make_engine
from normhub.markdown import RENDERER_VERSION
from tests.conftest import fresh_database


def test_migrated_schema_matches_the_models(database_url):
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_object": declared_for(connection.dialect.name)}
            )
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_check_records_carry_only_the_subject_index(database_url):
    # Each index is a page written on every API check (see migration 0005).
    engine = make_engine(database_url)
    try:
        indexes = {index["name"] for index in inspect(engine).get_indexes("exposure_checks")}
    finally:
        engine.dispose()
    assert indexes == {"ix_exposure_checks_subject"}


@pytest.fixture
def empty_database_url(tmp_path):
    with fresh_database(tmp_path) as url:
        yield url


def test_bounces_move_to_address_states_and_back(empty_database_url):
    upgrade_database(empty_database_url, "0005")
    engine = make_engine(empty_database_url)
    earlier, later = datetime(2026, 1, 5, 9), datetime(2026, 2, 1, 9)
    user = "INSERT INTO users (id, email, display_name, password_hash, bio, is_admin, created_at)"
    try:
        with engine.begin() as connection:
            for n, email in ((1, "ann@example.org"), (2, "bob@example.org")):
                connection.execute(
                    text(f"{user} VALUES (:id, :email, :name, 'x', '', false, :at)"),
                    {"id": n, "email": email, "name": f"User {n}", "at": earlier},
                )
            connection.execute(
                text("INSERT INTO digest_bounces VALUES (:user, :email, :reason, :at)"),
                [
                    {"user": 1, "email": "ann@example.org", "reason": "550 gone", "at": later},
                    # Bob's bounce names his old address, which Ann had before
                    {"user": 2, "email": "ann@example.org", "reason": "550 old", "at": earlier},
                ],
            )
        upgrade_database(empty_database_url, "0006")
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT address, status, reason, recorded_at FROM email_address_states"
                ).columns(recorded_at=DateTime)
            ).all()
            assert [tuple(row) for row in rows] == [
                ("ann@example.org", "bounced", "550 gone", later)
            ]
            assert "digest_bounces" not in inspect(connection).get_table_names()
        downgrade_database(empty_database_url, "0005")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT user_id, email, reason, bounced_at FROM digest_bounces").columns(
                    bounced_at=DateTime
                )
            ).all()
            assert [tuple(row) for row in rows] == [(1, "ann@example.org", "550 gone", later)]
    finally:
        engine.dispose()


def test_check_answers_become_whole_and_come_back_cut(empty_database_url):
    upgrade_database(empty_database_url, "0011")
    engine = make_engine(empty_database_url)
    at = datetime(2026, 3, 1, 9)
    rows = [
        "INSERT INTO users (id, email, display_name, password_hash, bio, is_admin, created_at)"
        " VALUES (1, 'ann@example.org', 'Ann', 'x', '', false, :at)",
        "INSERT INTO communities (id, slug, name, description, visibility, join_policy,"
        " coverage_threshold_pct, coverage_min_responses, created_at)"
        " VALUES (1, 'town', 'Town', '', 'public', 'open', 60, 3, :at)",
        "INSERT INTO norms (id, community_id, slug, author_id, status, title, summary,"
        " current_version_number, last_material_version_number, created_at,"
        " status_changed_at, last_activity_at)"
        " VALUES (1, 1, 'n', 1, 'open', 'N', '', 1, 1, :at, :at, :at)",
        "INSERT INTO exposure_checks (id, checker_id, subject_id, norm_id, created_at, level,"
        " stale, answer) VALUES (1, 1, 1, 1, :at, 'none', false, 'Short and old.')",
    ]
    long_answer = "They reject assumption 1: “" + "a long wording, " * 300 + "”."
    try:
        with engine.begin() as connection:
            for statement in rows:
                connection.execute(text(statement), {"at": at})
        upgrade_database(empty_database_url, "0012")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO exposure_checks (id, checker_id, subject_id, norm_id, created_at,"
                    " level, stale, answer, recommendation, as_of, note)"
                    " VALUES (2, 1, 1, 1, :at, 'none', false, :answer, 'share_norm', :at, 'Why')"
                ),
                {"at": at, "answer": long_answer},
            )
        with engine.connect() as connection:
            kept = connection.execute(
                text(
                    "SELECT id, answer, recommendation, note, reply"
                    " FROM exposure_checks ORDER BY id"
                )
            ).all()
            assert [tuple(row) for row in kept] == [
                (1, "Short and old.", None, None, None),
                (2, long_answer, "share_norm", "Why", None),
            ]
            indexes = {i["name"] for i in inspect(connection).get_indexes("exposure_checks")}
            assert indexes == {"ix_exposure_checks_subject"}
        downgrade_database(empty_database_url, "0011")
        with engine.connect() as connection:
            answers = connection.execute(text("SELECT answer FROM exposure_checks ORDER BY id"))
            assert [row.answer for row in answers] == ["Short and old.", long_answer[:1000]]
            columns = {c["name"] for c in inspect(connection).get_columns("exposure_checks")}
            assert "reply" not in columns and "note" not in columns
    finally:
        engine.dispose()


def test_cooked_columns_come_empty_and_recook_fills_them(empty_database_url, tmp_path):
    upgrade_database(empty_database_url, "0021")
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (id, email, display_name, handle, password_hash, bio,"
                    " is_admin, created_at) VALUES (1, 'ann@example.org', 'Ann', 'annhandle001',"
                    " 'x', 'I mend **bikes**.', false, :at)"
                ),
                {"at": datetime(2026, 3, 1, 9)},
            )
        upgrade_database(empty_database_url, "0022")
        bio = text("SELECT bio_cooked, bio_cooked_version FROM users")
        with engine.connect() as connection:
            assert tuple(connection.execute(bio).one()) == (None, None)
        # The app of today runs on today's schema (the member page reads later tables);
        # no later migration cooks anything.
        upgrade_database(empty_database_url)
        with engine.connect() as connection:
            assert tuple(connection.execute(bio).one()) == (None, None)

        app = create_app(
            {"TESTING": True, "DATABASE_URL": empty_database_url, "SERVER_NAME": "normhub.test"},
            instance_path=str(tmp_path),
        )
        try:
            page = app.test_client().get("/members/annhandle001").get_data(as_text=True)
            assert "I mend <strong>bikes</strong>." in page  # shown right before any recook
            with engine.connect() as connection:
                assert tuple(connection.execute(bio).one()) == (None, None)  # and not written
            recooked = app.test_cli_runner().invoke(args=["markdown", "recook", "--quiet"])
            assert "users.bio: 1 row(s) cooked." in recooked.output
        finally:
            dispose_engines(app)
        with engine.connect() as connection:
            assert tuple(connection.execute(bio).one()) == (
                "<p>I mend <strong>bikes</strong>.</p>\n",
                RENDERER_VERSION,
            )
        downgrade_database(empty_database_url, "0021")
        with engine.connect() as connection:
            assert "bio_cooked" not in {c["name"] for c in inspect(connection).get_columns("users")}
            assert connection.execute(text("SELECT bio FROM users")).scalar() == "I mend **bikes**."
    finally:
        engine.dispose()
