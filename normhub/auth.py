"""Login sessions (Flask-Login), CSRF (Flask-WTF) and the access helpers views use."""

from __future__ import annotations

from flask import Flask, abort, g
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = "Please log in to continue."
login_manager.login_message_category = "info"

csrf = CSRFProtect()


@login_manager.user_loader
def _load_user(user_id: str):
    from normhub.accounts.models import User
    from normhub.db import get_session

    if not user_id.isdigit():
        return None
    return get_session().get(User, int(user_id))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    csrf.init_app(app)

    @app.teardown_request
    def _forget_user(_exc):
        # Flask-Login caches the user on g; don't let it outlive the request
        # when the app context is shared between requests.
        g.pop("_login_user", None)


def current_user_or_none():
    """The logged-in User, or None for anonymous visitors."""
    return current_user if current_user.is_authenticated else None


def require(condition: bool) -> None:
    """403 unless ``condition`` holds: views use it after asking a policy function."""
    if not condition:
        abort(403)
