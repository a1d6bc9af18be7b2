"""``flask user create``: make accounts from the shell (e.g. the first site admin)."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from normhub.accounts.services import register_user
from normhub.db import session_scope
from normhub.errors import DomainError

user_cli = AppGroup("user", help="User accounts.")


@user_cli.command("create")
@click.argument("email")
@click.option("--name", "display_name", required=True, help="Display name shown to others.")
@click.option("--admin", is_flag=True, help="Site admin: sees and manages every community.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)
def create_user(email: str, display_name: str, admin: bool, password_stdin: bool) -> None:
    """Create an account for EMAIL, its address counted as confirmed; asks for the password
    unless --password-stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope(current_app) as session:
            user = register_user(
                session, email, display_name, password, is_admin=admin, verified=True
            )
            summary = f"Created {'admin ' if admin else ''}user {user.id} <{user.email}>."
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(summary)
