"""NormHub: propose, discuss and adopt community norms, with an honest exposure ledger."""

from __future__ import annotations

import os
from importlib import import_module

from flask import Flask

from normhub.config import PROJECT_ROOT

# Feature packages, lowest first. Each has a ``setup.init_app(app)`` that adds
# what the feature brings: its blueprint, commands, norm-page panel, listeners.
FEATURES = (
    "jobs",
    "mail",
    "accounts",
    "communities",
    "norms",
    "responses",
    "discussion",
    "forum",
    "exposure",
    "reviews",
    "records",
    "notifications",
    "newcomers",
    "search",
    "digest",
    "api",
    "home",
    "pagecache",
)


def create_app(overrides: dict | None = None, instance_path: str | None = None) -> Flask:
    from normhub import auth, autocommit, db, error_pages, headers, ratelimit, templating
    from normhub.cli import register_commands
    from normhub.config import load_config
    from normhub.ids import IdConverter, PathPartConverter
    from normhub.jsonprovider import OrjsonProvider

    app = Flask(
        __name__,
        instance_path=instance_path
        or os.environ.get("NORMHUB_INSTANCE_PATH", str(PROJECT_ROOT / "instance")),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.json = OrjsonProvider(app)
    app.config.update(load_config(app.instance_path))
    if overrides:
        app.config.update(overrides)

    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = PathPartConverter
    db.init_app(app)
    autocommit.init_app(app)
    auth.init_app(app)
    templating.init_app(app)
    error_pages.init_app(app)
    headers.init_app(app)
    for feature in FEATURES:
        import_module(f"normhub.{feature}.setup").init_app(app)
    ratelimit.init_app(app)  # last: it attaches limits to every feature's views
    register_commands(app)
    return app
