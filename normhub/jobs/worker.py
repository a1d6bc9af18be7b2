"""The worker: huey's consumer, with threads, stopping gracefully on SIGINT and SIGTERM.

Jobs here wait on the network (SMTP) far more than they compute, so the
workers are threads. huey stops gracefully on one signal only and abruptly on
the other; with thread workers "abruptly" means the process exits under a job
in the middle of its work. Here both signals let every thread finish the job in
hand (``systemctl stop`` sends SIGTERM, a terminal Ctrl-C sends SIGINT); a
second signal during that wait stops at once.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from huey.consumer import Consumer

from normhub.jobs.queue import job_queue

# An idle worker asks an SQLite queue for work at most this far apart; Redis blocks instead.
MAX_POLL_SECONDS = 1.0


class Worker(Consumer):
    def __init__(self, huey, workers: int, **options):
        super().__init__(
            huey, workers=workers, worker_type="thread", max_delay=MAX_POLL_SECONDS, **options
        )
        # (restart, graceful) per signal, as huey's consumer reads it.
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._signal_actions[signum] = (False, True)


class EmbeddedWorker(Worker):
    """A worker inside a process that keeps its own signal handlers (tests, scripts)."""

    def _set_signal_handlers(self) -> None:
        pass


@contextmanager
def running_worker(
    app: Flask, workers: int = 1, stop_timeout: float = 30.0
) -> Iterator[EmbeddedWorker]:
    """Run the app's jobs in this process's threads until the block ends.

    On leaving, every thread finishes the job in hand, waiting ``stop_timeout``
    seconds at most.
    """
    worker = EmbeddedWorker(job_queue(app).huey, workers, shutdown_timeout=stop_timeout)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop(graceful=True)
