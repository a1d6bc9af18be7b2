"""What a new app server worker does before it takes requests, so its first visitors do not wait.

A feature adds a step from its setup (``add_step``); gunicorn's ``post_worker_init``
hook (``gunicorn.conf.py``) calls the app's ``extensions["normhub.warm_up"]``, which
runs them in order. A step that fails is logged and skipped: a worker that could not
warm still serves, only slower at first.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from flask import Flask

logger = logging.getLogger("normhub.warmup")
_KEY = "normhub.warm_up"
_STEPS = "normhub.warm_up_steps"


def add_step(app: Flask, name: str, step: Callable[[], object]) -> None:
    if _STEPS not in app.extensions:
        app.extensions[_STEPS] = []
        app.extensions[_KEY] = lambda: run(app)
    app.extensions[_STEPS].append((name, step))


def run(app: Flask) -> dict[str, float]:
    """Run every step; returns each one's seconds (a failed step is logged, not raised)."""
    took = {}
    for name, step in app.extensions.get(_STEPS, []):
        started = time.perf_counter()
        try:
            with app.app_context():
                step()
        except Exception:
            logger.exception("Warming %s failed; the first requests will do it", name)
            continue
        took[name] = time.perf_counter() - started
        logger.info("Warmed %s in %.0f ms", name, took[name] * 1000)
    return took
