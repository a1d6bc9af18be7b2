"""The schema the migrations build is the one the models describe.

Tests and deployments get their tables from Alembic, the code reads them
through the models: a difference (an index added to a model but not to a
migration, or dropped from one only) would go unnoticed anywhere else.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import normhub.models  # noqa: F401  (registers every table)
from normhub.db import Base, make_engine


def test_migrated_schema_matches_the_models(database_url):
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
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
