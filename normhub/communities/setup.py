"""What the communities feature adds to the app: its pages and template helpers."""

from __future__ import annotations

from flask import Flask

from normhub.communities.views import bp, has_endpoint


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["has_endpoint"] = has_endpoint
