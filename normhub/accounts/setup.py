"""What the accounts feature adds to the app: its pages and the ``flask user`` commands."""

from __future__ import annotations

from flask import Flask

from normhub.accounts.cli import user_cli
from normhub.accounts.views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(user_cli)
