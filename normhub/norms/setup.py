"""What the norms feature adds to the app: its pages and template helpers."""

from __future__ import annotations

from flask import Flask

from normhub.accounts.data_export import register_section
from normhub.norms.account_data import norms_section
from normhub.norms.forms import transition_label
from normhub.norms.page import norm_url
from normhub.norms.views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["transition_label"] = transition_label
    app.jinja_env.globals["norm_url"] = norm_url
    register_section("norms", norms_section)
