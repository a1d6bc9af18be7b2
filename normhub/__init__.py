"""NormHub: propose, discuss and adopt community norms, with an honest exposure ledger."""

from __future__ import annotations

import inspect
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


class NormHubFlask(Flask):
    """Flask, without asking on every request whether each view and hook is async.

    Flask's ``ensure_sync`` runs ``inspect.iscoroutinefunction`` on every view and
    hook it calls: eighteen times for an API exposure check, about 5 % of its time.
    NormHub has no async views or hooks (``create_app`` refuses one), and Flask's
    documentation names this method as the one to override for how views are run.
    """

    def ensure_sync(self, func):
        return func


def refuse_async_callables(app: Flask) -> None:
    """Raise if any view, hook or handler is a coroutine function (see NormHubFlask)."""
    hooks = (
        app.before_request_funcs,
        app.after_request_funcs,
        app.teardown_request_funcs,
        app.url_value_preprocessors,
        app.template_context_processors,
    )
    callables = [*app.view_functions.values(), *app.teardown_appcontext_funcs]
    callables += [func for registry in hooks for funcs in registry.values() for func in funcs]
    callables += [
        handler
        for by_code in app.error_handler_spec.values()
        for by_class in by_code.values()
        for handler in by_class.values()
    ]
    found = [getattr(func, "__qualname__", repr(func)) for func in callables if _is_async(func)]
    if found:
        raise TypeError(f"NormHub runs no async views or hooks: {found}")


def _is_async(func) -> bool:
    return inspect.iscoroutinefunction(inspect.unwrap(func))


def create_app(overrides: dict | None = None, instance_path: str | None = None) -> Flask:
    from normhub import auth, autocommit, db, error_pages, headers, ratelimit, templating
    from normhub.cli import register_commands
    from normhub.config import load_config
    from normhub.ids import IdConverter, PathPartConverter
    from normhub.jsonprovider import OrjsonProvider

    app = NormHubFlask(
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
    refuse_async_callables(app)
    return app
