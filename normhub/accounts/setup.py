"""What the accounts feature adds to the app: its pages, the ``flask user`` commands, and
how a login session finds its user."""

from __future__ import annotations

from flask import Flask

from normhub.accounts.cli import user_cli
from normhub.accounts.models import User
from normhub.accounts.views import bp
from normhub.auth import login_manager
from normhub.db import get_session


def load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    return get_session().get(User, int(user_id))


def init_app(app: Flask) -> None:
    login_manager.user_loader(load_user)
    app.register_blueprint(bp)
    app.cli.add_command(user_cli)
