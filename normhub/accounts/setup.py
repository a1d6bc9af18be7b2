"""What the accounts feature adds to the app: its pages, the ``flask user`` commands, and
how a login session finds its user (``accounts.login_cookie``)."""

from __future__ import annotations

from flask import Flask
from flask_login import user_logged_in, user_logged_out

from normhub.accounts import login_cookie
from normhub.accounts.cli import user_cli
from normhub.accounts.data_views import bp as data_bp
from normhub.accounts.reset_views import bp as reset_bp
from normhub.accounts.views import bp
from normhub.auth import login_manager


def init_app(app: Flask) -> None:
    login_manager.user_loader(login_cookie.load_user)
    user_logged_in.connect(login_cookie.start_login)
    user_logged_out.connect(login_cookie.end_login)
    app.before_request(login_cookie.load_early)
    app.teardown_request(login_cookie.forget_request_login)
    app.register_blueprint(bp)
    app.register_blueprint(reset_bp)
    app.register_blueprint(data_bp)
    app.cli.add_command(user_cli)
