"""``flask jobs worker`` runs queued jobs; ``flask jobs status`` says what is waiting."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import AppGroup

from normhub.jobs.queue import job_queue
from normhub.jobs.worker import Worker

jobs_cli = AppGroup("jobs", help="The job queue (queued mail and other background work).")


@jobs_cli.command("worker")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Threads running jobs at once (default NORMHUB_JOBS_WORKERS, 2).",
)
@click.option("--verbose", "-v", is_flag=True, help="Log every job as it starts and ends.")
def worker(workers: int | None, verbose: bool) -> None:
    """Run queued jobs until SIGINT or SIGTERM; each thread first finishes its job in hand."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # The consumer's start and stop stay visible; a line per job (a resend every
    # minute) only when asked for. Failures are logged either way.
    every_job = logging.INFO if verbose else logging.WARNING
    logging.getLogger("huey").setLevel(every_job)
    logging.getLogger("huey.consumer").setLevel(logging.INFO)
    logging.getLogger("huey.consumer.Scheduler").setLevel(every_job)
    queue = job_queue()
    workers = workers or current_app.config["JOBS_WORKERS"]
    click.echo(f"Running jobs from {queue.description} with {workers} thread(s).")
    Worker(queue.huey, workers).run()
    click.echo("Worker stopped.")


@jobs_cli.command("status")
def status() -> None:
    """Jobs waiting to run now, jobs scheduled for later, and the jobs this app knows."""
    queue = job_queue()
    click.echo(f"Queue: {queue.description}")
    click.echo(f"Waiting: {queue.huey.pending_count()}")
    click.echo(f"Scheduled: {queue.huey.scheduled_count()}")
    click.echo(f"Jobs: {', '.join(queue.job_names) or '(none)'}")
