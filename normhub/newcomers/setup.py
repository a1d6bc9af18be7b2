"""What the newcomers feature adds to the app: a community's "Start here" page."""

from __future__ import annotations

from flask import Flask

from normhub.newcomers.views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
