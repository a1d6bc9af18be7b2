"""What the API adds to the app: its endpoints, bearer-token authentication on every
/api/ request (the search feature's JSON answers included), and no shared caching of
answers about people."""

from __future__ import annotations

from flask import Flask

from normhub.api import bearer
from normhub.api.views import bp, private_api_responses
from normhub.auth import login_manager


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(bearer.authenticate_bearer)
    login_manager.request_loader(bearer.user_from_bearer)
    app.after_request(private_api_responses)
