"""``flask digest send``: build and send one period's digests (run it from cron or a timer)."""

from __future__ import annotations

import os
import signal
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from normhub.communities.models import Community
from normhub.db import get_session
from normhub.digest.models import PERIOD_KINDS
from normhub.digest.sending import BATCH_SIZE, MAX_SEND_WORKERS, SEND_WORKERS, DigestRun
from normhub.mail.transports import SMTPSettingsError, transport_for

digest_cli = AppGroup("digest", help="Digest emails.")


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: stop as for Ctrl-C (the run treats both alike)."""


@contextmanager
def _terminate_like_ctrl_c():
    """SIGTERM (``systemctl stop``, ``kill``) stops the run as Ctrl-C does.

    Its default would end the process at once, leaving each sender's message
    in hand unrecorded (resent by the next run); raised as an interrupt, every
    sender records the message it has, then the run ends.
    """

    def terminate(_signum, _frame):
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        # None: a handler installed outside Python, which cannot be put back.
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _end_as_terminated() -> None:
    """Leave the way SIGTERM's default would, so a service manager sees a clean stop."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


@digest_cli.command("send")
@click.option(
    "--period",
    type=click.Choice(PERIOD_KINDS),
    default="weekly",
    show_default=True,
    help="Which digest to send: members get the one their settings ask for.",
)
@click.option("--community", "slug", help="Only this community's content and members.")
@click.option(
    "--dry-run", is_flag=True, help="Build every digest and count; send and record nothing."
)
@click.option("--limit", type=click.IntRange(min=1), help="Send at most N digests in this run.")
@click.option("--batch-size", type=click.IntRange(min=1), default=BATCH_SIZE, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, MAX_SEND_WORKERS),
    default=SEND_WORKERS,
    show_default=True,
    envvar="NORMHUB_DIGEST_WORKERS",
    show_envvar=True,
    help="Sending threads, each with its own SMTP connection: a crash may resend "
    "up to this many messages (at-least-once).",
)
def send(
    period: str,
    slug: str | None,
    dry_run: bool,
    limit: int | None,
    batch_size: int,
    workers: int,
):
    """Send the PERIOD digest to every member who has something new.

    Safe to rerun: nobody gets two digests for the same day (daily) or ISO week
    (weekly), and members a failed run did not reach are sent next time.
    """
    app = current_app._get_current_object()
    session = get_session()
    community_ids = None
    if slug:
        community_id = session.scalar(select(Community.id).where(Community.slug == slug))
        if community_id is None:
            raise click.ClickException(f"No community with the address {slug!r}.")
        community_ids = {community_id}

    transport = transport_for(app)
    if not dry_run:
        # Fail fast on bad settings, before any member is marked in the ledger.
        try:
            transport.open()
        except SMTPSettingsError as error:
            raise click.ClickException(str(error)) from None
    interrupted = False
    try:
        run = DigestRun(
            app,
            session,
            period,
            transport,
            community_ids=community_ids,
            dry_run=dry_run,
            limit=limit,
            batch_size=batch_size,
            workers=workers,
        )
        total = run.count_due()
        session.rollback()
        label = f"{period.capitalize()} digest {run.key}"
        if limit is not None:
            label += f" (at most {limit} sent)"
        with (
            _terminate_like_ctrl_c(),
            click.progressbar(length=total, label=label, show_pos=True, show_eta=True) as bar,
        ):
            report = run.run(progress=bar.update, due=total)
    except KeyboardInterrupt as stop:
        interrupted = True
        click.echo("\nStopped early: members not reached get theirs on the next run.", err=True)
        if not isinstance(stop, Terminated):
            raise
    finally:
        if not dry_run:
            # After a second Ctrl-C a sender may still be in a dialogue on
            # this connection: drop it rather than QUIT on top of it.
            transport.abort() if interrupted else transport.close()
    if interrupted:  # only SIGTERM gets here: Ctrl-C was raised on
        _end_as_terminated()

    click.echo(report.summary())
    for problem in report.problems[:50]:
        click.echo(f"  {problem}", err=True)
    if len(report.problems) > 50:
        click.echo(f"  … and {len(report.problems) - 50} more", err=True)
    if report.stopped:
        click.echo(f"Stopped early: {report.stopped}", err=True)
    if report.failed or report.stopped:
        raise SystemExit(1)
