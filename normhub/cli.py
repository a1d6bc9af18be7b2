"""Shell commands: ``flask db upgrade``, plus each feature's own command group."""

from __future__ import annotations

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from flask.cli import AppGroup

from normhub import PROJECT_ROOT
from normhub.demo.cli import demo_cli

db_cli = AppGroup("db", help="Database schema (Alembic migrations).")


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade_database(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade_database(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: the newest)."""
    upgrade_database(current_app.config["DATABASE_URL"], revision)
    click.echo("Database is up to date.")


@db_cli.command("downgrade")
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Migrate the database back to REVISION (e.g. base)."""
    downgrade_database(current_app.config["DATABASE_URL"], revision)


def register_commands(app: Flask) -> None:
    for group in (db_cli, demo_cli):
        app.cli.add_command(group)
