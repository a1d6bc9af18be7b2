"""Whose claim on a digest send is live, on one host or on several.

A run marks the rows it is about to hand to SMTP ``sending``, with
``claimed_by`` = :data:`RUN_HOLDER` ("host:pid") and ``claimed_at``. While the
run lives, its :class:`Heartbeat` moves ``claimed_at`` forward on every row it
holds, each :data:`RENEW_EVERY`. A claim not renewed for
:data:`CLAIM_STALE_AFTER` belongs to a run that is gone (killed, or its
machine lost), whichever host it ran on, and any run may take the row. On the
claim's own host a rerun can tell at once: a holder whose process no longer
exists is dead (:func:`holder_is_dead`).

Two runs racing for a row cannot both take it: a claim is one UPDATE whose
condition (not claimed, or claimed by a dead run) is checked again on the row
it locks, so the second run finds it freshly claimed and leaves it.

On PostgreSQL, claims are written and judged by the database's clock, so
hosts whose clocks disagree still agree on which claims are stale. SQLite
serves one host, with one clock.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import DateTime, Engine, Interval, and_, func, literal, update
from sqlalchemy.sql import ColumnElement

from normhub.config import host_name
from normhub.db import utcnow
from normhub.digest.models import DigestSend

log = logging.getLogger(__name__)

# A live run renews its claims this often...
RENEW_EVERY = timedelta(seconds=15)
# ...so a claim not renewed for this long is a dead run's. A rerun from any
# host sends its members within this time of the crash.
CLAIM_STALE_AFTER = timedelta(minutes=2)
# A run that could not renew its claims for this long stops sending: another
# run may soon take them, and must not find this one still sending.
STOP_UNRENEWED_AFTER = CLAIM_STALE_AFTER / 2

RUN_HOLDER = f"{host_name()}:{os.getpid()}"


def holder_is_dead(holder: str | None) -> bool:
    """True if ``holder`` ("host:pid") is a process on this host that no longer runs."""
    if not holder or ":" not in holder:
        return False
    host, _, pid = holder.rpartition(":")
    if host != host_name() or not pid.isdigit():
        return False  # another machine: only the heartbeat can tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # exists, owned by someone else
    return False


def clock(dialect: str) -> ColumnElement:
    """Now, as a claim records it: the database's clock on PostgreSQL (naive UTC)."""
    if dialect == "postgresql":
        return func.timezone("UTC", func.clock_timestamp())
    return literal(utcnow(), DateTime())


def is_fresh(dialect: str) -> ColumnElement[bool]:
    """The row's claim was made or renewed within ``CLAIM_STALE_AFTER``."""
    if dialect == "postgresql":
        stale_before = clock(dialect) - literal(CLAIM_STALE_AFTER, Interval())
    else:
        stale_before = literal(utcnow() - CLAIM_STALE_AFTER, DateTime())
    claimed_at = DigestSend.claimed_at
    return and_(claimed_at.is_not(None), claimed_at > stale_before)


class Heartbeat:
    """Renews this run's claims on one period's rows, in a thread of its own, while the run lives.

    ``on_lost(reason)`` is called once if renewing keeps failing for
    ``STOP_UNRENEWED_AFTER``: the run should stop sending.
    """

    def __init__(self, engine: Engine, period: ColumnElement[bool], on_lost: Callable[[str], None]):
        self.engine = engine
        self.renewal = (
            update(DigestSend)
            .where(period, DigestSend.status == "sending", DigestSend.claimed_by == RUN_HOLDER)
            .execution_options(synchronize_session=False)
        )
        self.on_lost = on_lost
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="digest-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def renew(self) -> None:
        with self.engine.connect() as connection:
            dialect = connection.dialect.name
            connection.execute(self.renewal.values(claimed_at=clock(dialect)))
            connection.commit()

    def _beat(self) -> None:
        renewed = time.monotonic()
        lost = False
        while not self._stop.wait(RENEW_EVERY.total_seconds()):
            try:
                self.renew()
                renewed = time.monotonic()
            except Exception:  # noqa: BLE001 - a failed renewal is retried, and said
                log.exception("Could not renew the digest run's claims")
                if not lost and time.monotonic() - renewed > STOP_UNRENEWED_AFTER.total_seconds():
                    lost = True
                    self.on_lost(
                        "could not renew this run's claims for "
                        f"{int(STOP_UNRENEWED_AFTER.total_seconds())} s (database unreachable?)"
                    )
