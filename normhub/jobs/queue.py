"""Jobs run by huey, each inside an app context with its own database session.

A feature declares its jobs at import time with :func:`job` or
:func:`periodic_job` and adds them to the app's queue in its setup with
:func:`register`. Declarations are plain values because every app gets its own
huey instance, built from its settings (``JOBS_URL``): a SQLite file in the
instance folder by default, Redis when the URL says ``redis://``. The tests
make an app per test, and a worker process makes its own with ``create_app``;
each adopts the same declarations.

A job's function takes the session first, like a service, and the job owns the
transaction, like a CLI command: what it leaves uncommitted is committed when
it returns, rolled back if it raises. Its arguments travel through the queue,
so they are small values (ids), never model objects.

Jobs run at least once, not exactly once: a worker killed mid-job leaves it to
whatever the feature does to find unfinished work (the mail queue's periodic
resend), so a job must be safe to run twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.storage import SqliteStorage

from normhub.config import ConfigurationError
from normhub.db import SQLITE_BUSY_TIMEOUT_MS, get_session

EXTENSION = "normhub.jobs"


@dataclass(frozen=True)
class Job:
    name: str
    function: Callable[..., None]
    # A periodic job runs whenever this crontab matches (checked every minute).
    schedule: crontab | None = None

    def __call__(self, session, *args):
        """Run it here and now, in the caller's transaction; what the function returns."""
        return self.function(session, *args)


def job(name: str) -> Callable[[Callable[..., None]], Job]:
    """Declare a job: ``@job("mail.deliver") def deliver(session, email_id): ...``."""

    def declare(function: Callable[..., None]) -> Job:
        return Job(name, function)

    return declare


def periodic_job(name: str, schedule: crontab) -> Callable[[Callable[..., None]], Job]:
    """Declare a job the worker runs on ``schedule``, e.g. ``crontab(minute="*")``."""

    def declare(function: Callable[..., None]) -> Job:
        return Job(name, function, schedule)

    return declare


class _OneWorkerPerMinute:
    """Periodic jobs queued by one worker a minute, however many run.

    Every worker runs huey's scheduler, and each would queue every periodic job
    that is due, so N workers ran each of them N times. The first to claim the
    minute in the queue's own store queues them; the others queue none. The
    previous claim is dropped as a new one is made, so the store keeps one.
    """

    _LAST_CLAIM = "normhub.periodic.last-claim"

    def read_periodic(self, timestamp):
        due = super().read_periodic(timestamp)
        if not due:
            return due
        minute = f"normhub.periodic.{(timestamp or self._get_timestamp()):%Y-%m-%dT%H:%M}"
        if not self.put_if_empty(minute, True):
            return []  # another worker queued this minute's jobs
        previous = self.get(self._LAST_CLAIM)
        if previous:
            self.delete(previous)
        self.put(self._LAST_CLAIM, minute)
        return due


class _SqliteHuey(_OneWorkerPerMinute, SqliteHuey):
    pass


class _RedisHuey(_OneWorkerPerMinute, RedisHuey):
    pass


def build_huey(config) -> Huey:
    url, name = config["JOBS_URL"], config["JOBS_NAME"]
    # Nothing reads a job's return value: storing results would only grow the store.
    if url.startswith("sqlite:///"):
        # huey gives up on a busy file after 5 s; a loaded machine with several worker
        # threads taking jobs can keep it busy longer. Wait as long as the database does.
        return _SqliteHuey(
            name,
            filename=url.removeprefix("sqlite:///"),
            results=False,
            timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
        )
    if url.startswith(("redis://", "rediss://", "unix://")):
        return _RedisHuey(name, url=url, results=False)
    raise ConfigurationError(
        f"NORMHUB_JOBS_URL must be sqlite:///path/to/file or redis://host:port/db, not {url!r}."
    )


class JobQueue:
    """One app's huey instance and the jobs registered on it."""

    def __init__(self, app: Flask, huey: Huey):
        self.app = app
        self.huey = huey
        self._tasks: dict[str, Callable] = {}

    @property
    def description(self) -> str:
        storage = self.huey.storage
        if isinstance(storage, SqliteStorage):
            kind, where = "SqliteHuey", storage.filename
        else:  # Redis: where it is, never the password the URL may carry
            server = storage.pool.connection_kwargs
            where = server.get("path") or f"{server.get('host')}:{server.get('port')}"
            kind, where = "RedisHuey", f"redis {where} db {server.get('db', 0)}"
        return f"{kind} {self.huey.name!r} at {where}"

    @property
    def job_names(self) -> list[str]:
        return sorted(self._tasks)

    def register(self, declared: Job) -> None:
        if declared.name in self._tasks:
            raise ValueError(f"A job named {declared.name!r} is registered already.")

        def run(*args) -> None:
            with self.app.app_context():
                session = get_session()
                declared.function(session, *args)
                session.commit()
            # Leaving the app context closes the session: rolled back if the job raised.

        if declared.schedule is None:
            task = self.huey.task(name=declared.name)(run)
        else:
            task = self.huey.periodic_task(declared.schedule, name=declared.name)(run)
        self._tasks[declared.name] = task

    def enqueue(self, declared: Job, *args) -> None:
        self._tasks[declared.name](*args)

    def enqueue_in(self, seconds: float, declared: Job, *args) -> None:
        self._tasks[declared.name].schedule(args=args, delay=seconds)


def init_queue(app: Flask) -> JobQueue:
    queue = JobQueue(app, build_huey(app.config))
    app.extensions[EXTENSION] = queue
    return queue


def job_queue(app: Flask | None = None) -> JobQueue:
    return (app or current_app).extensions[EXTENSION]


def register(app: Flask, *declared: Job) -> None:
    """Add jobs to the app's queue: a feature's setup calls this for the jobs it declares."""
    queue = job_queue(app)
    for each in declared:
        queue.register(each)


def enqueue(declared: Job, *args) -> None:
    """Queue ``declared(session, *args)`` for a worker (the current app's queue)."""
    job_queue().enqueue(declared, *args)


def enqueue_in(seconds: float, declared: Job, *args) -> None:
    """Queue it to run ``seconds`` from now."""
    job_queue().enqueue_in(seconds, declared, *args)
