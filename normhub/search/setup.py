"""What the search feature adds to the app: its pages, indexing after commits, ``flask search``."""

from __future__ import annotations

from flask import Flask

from normhub import warmup
from normhub.search import indexing
from normhub.search.backend import backend_for
from normhub.search.cli import search_cli
from normhub.search.views import bp


def init_app(app: Flask) -> None:
    backend = backend_for(app)  # an unknown SEARCH_BACKEND fails at start, not at the first search
    warmup.add_step(app, "search", backend.warm)
    app.register_blueprint(bp)
    indexing.register(app)
    app.cli.add_command(search_cli)
