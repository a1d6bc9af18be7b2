"""``flask search …``: rebuild the index from the database, inspect it, drain its queue.

Every command goes through the app's search backend (``backend_for``).
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from tqdm import tqdm

from normhub.db import session_scope
from normhub.search.backend import backend_for
from normhub.search.documents import count_sources

search_cli = AppGroup("search", help="Full-text search index.")


@search_cli.command("rebuild")
@click.option("--batch-size", default=500, show_default=True, help="Rows read per query.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def rebuild(batch_size: int, quiet: bool) -> None:
    """Rebuild the search index from the database.

    Searches keep using the old index until the new one is complete. Safe to
    run while the app is serving: changes made meanwhile are applied after.
    """
    app = current_app._get_current_object()
    with session_scope(app) as session:
        total = count_sources(session)
    with tqdm(total=total, unit="doc", disable=quiet, desc="Indexing") as bar:
        count = backend_for(app).rebuild(batch_size=batch_size, progress=bar.update)
    click.echo(f"Indexed {count} documents into {backend_for(app).location}.")


@search_cli.command("status")
def status() -> None:
    """How many documents the index holds and how many ids wait in the queue."""
    stats = backend_for(current_app).stats()
    if not stats.exists:
        click.echo("There is no search index yet: run `flask search rebuild`.")
    elif stats.segments:
        click.echo(f"{stats.documents} documents in {stats.segments} segment(s).")
    else:
        click.echo(f"{stats.documents} documents.")
    pending = stats.pending
    click.echo(
        f"Queued for indexing: {len(pending.norms)} norm(s), {len(pending.comments)} comment(s), "
        f"{len(pending.users)} renamed author(s)."
    )


@search_cli.command("process-queue")
def process_queue() -> None:
    """Index the norms and comments whose indexing was postponed (index busy or failing)."""
    taken = backend_for(current_app).process_queue()
    click.echo(f"Processed {taken} queued id(s).")


@search_cli.command("merge")
def merge() -> None:
    """Merge the small segments left by updates (run it from cron every few minutes).

    Writes made meanwhile are queued and applied when it ends, so it never
    holds up a request.
    """
    count = backend_for(current_app).merge()
    click.echo(f"Merged {count} small segment(s).")


@search_cli.command("optimize")
def optimize() -> None:
    """Merge the index into one segment (faster searches after many small updates)."""
    backend_for(current_app).optimize()
    click.echo("Search index optimized.")
