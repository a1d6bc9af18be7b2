"""What the responses feature adds to the app: its pages and the norm page's response panel."""

from __future__ import annotations

from flask import Flask

from normhub.norms.page import add_panel
from normhub.responses.views import bp, norm_page_panel


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_panel(app, norm_page_panel)
