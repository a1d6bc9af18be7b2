"""Shared pieces of the job queue tests: bounded waits, fresh reads, a restarted app."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager

from normhub import create_app
from normhub.db import dispose_engines
from normhub.mail.queue import QueuedEmail

# Every wait on a worker ends by then, so a broken queue fails the test instead of hanging it.
WAIT_SECONDS = 30.0


def wait_until(condition: Callable[[], object], what: str, timeout: float = WAIT_SECONDS):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Still waiting after {timeout} s for {what}")
        time.sleep(0.05)


def fresh(session, email_id: int) -> QueuedEmail:
    """The row as the worker left it: a new transaction, and no cached copy."""
    session.rollback()
    return session.get(QueuedEmail, email_id, populate_existing=True)


@contextmanager
def restarted(app, **changes):
    """Another process's app: the same settings (but ``changes``) and instance folder.

    It builds its own huey instance, over the same queue.
    """
    again = create_app({**app.config, **changes}, instance_path=app.instance_path)
    try:
        yield again
    finally:
        dispose_engines(again)
