"""What the forum adds to the app: its browsing pages."""

from __future__ import annotations

from flask import Flask

from normhub.forum import glossary
from normhub.forum.views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(glossary.bp)
