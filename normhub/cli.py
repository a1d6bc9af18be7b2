"""Shell commands: ``flask db upgrade``, ``flask markdown recook``, plus each feature's
own command group."""

from __future__ import annotations

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from flask.cli import AppGroup
from tqdm import tqdm

from normhub import markdown
from normhub.config import PROJECT_ROOT
from normhub.cooked import COOKED_COLUMNS, count_stale, recook_all
from normhub.db import session_scope
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


markdown_cli = AppGroup("markdown", help="The HTML stored beside each Markdown text.")


@markdown_cli.command("recook")
@click.option("--all", "everything", is_flag=True, help="Every row, not only the stale ones.")
@click.option("--batch-size", default=500, show_default=True, help="Rows cooked per transaction.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def recook(everything: bool, batch_size: int, quiet: bool) -> None:
    """Render again the stored HTML of essays, assumptions, comments and profiles that
    an older renderer made (or none: rows from before the HTML was stored).

    Pages show such rows correctly meanwhile, rendering them on every read; this
    makes them cheap again. Safe while the app serves: each batch commits alone.
    """
    app = current_app._get_current_object()
    with session_scope(app) as session:
        total = sum(count_stale(session, column, everything) for column in COOKED_COLUMNS)
    with tqdm(total=total, unit="row", disable=quiet, desc="Cooking") as bar:
        counts = recook_all(
            lambda: session_scope(app),
            everything=everything,
            batch_size=batch_size,
            progress=lambda _column, rows: bar.update(rows),
        )
    for label, rows in counts.items():
        click.echo(f"{label}: {rows} row(s) cooked.")
    version = markdown.RENDERER_VERSION
    click.echo(f"{sum(counts.values())} row(s) now cooked by renderer version {version}.")


def register_commands(app: Flask) -> None:
    for group in (db_cli, markdown_cli, demo_cli):
        app.cli.add_command(group)
