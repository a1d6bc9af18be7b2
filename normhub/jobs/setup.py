"""What the job queue adds to the app: its huey instance and the ``flask jobs`` commands.

Features above it register their jobs in their own setup (``jobs.queue.register``).
"""

from __future__ import annotations

from flask import Flask

from normhub.jobs.cli import jobs_cli
from normhub.jobs.queue import init_queue


def init_app(app: Flask) -> None:
    init_queue(app)
    app.cli.add_command(jobs_cli)
