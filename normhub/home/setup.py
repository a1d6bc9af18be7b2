"""What the home feature adds to the app: the page at ``/``."""

from __future__ import annotations

from flask import Flask

from normhub.home.views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
