"""The delivery state of each digest send: the ledger rows and the statements on them.

The ledger is ``DigestSend``, unique per (member, period kind, period key,
scope). A row goes ``pending`` (recorded for a batch, not yet handed to SMTP)
→ ``sending`` (claimed and committed, a chunk at a time, before any of it goes
to SMTP) → ``sent``, ``failed`` (retried by the next run, given up on after
``MAX_ATTEMPTS``) or ``bounced`` (the address refused permanently, recorded in
``normhub.mail.addresses``); a member with nothing new is ``skipped``. A
claimed row no sender took is given back (``pending``). This module writes
those states; ``sending`` decides when.

The SMTP boundary: at-least-once. If the process dies after the server
accepted a message but before the "sent" commit, the row stays ``sending``.
A later run treats a ``sending`` row as not sent, and sends it again (reported
as "resent after an interrupted run"), once the run that claimed it is known
to be gone (``claims``: its claims are no longer renewed, or its process no
longer exists on this host). We chose this over at-most-once because (a) the
crash window is the few milliseconds between the server's 250 and our commit,
while a kill *during* the SMTP dialogue (before acceptance), or before a
claimed message's turn came, leaves the same ``sending`` row, and there
resending is right; (b) the resent message has the same Message-ID
(``digest.<kind>.<period>.<user>@…``), so mail clients that deduplicate show
it once; (c) the ``delivered`` events are recorded only with a ``sent`` row,
so the exposure ledger never claims a delivery we did not see accepted. A row
claimed by a live run, on any host, is left alone.

A message's outcome is ONE transaction on its sender's own connection: marked
``sent``, a ``delivered`` exposure event for each norm version it presented
(see ``exposure/bulk.py``), its nudges marked delivered; on PostgreSQL one
statement (see ``_mark_sent_in_one_statement``).

Durability of "sent": on PostgreSQL the senders' per-message statements run
with ``synchronous_commit`` off (set on each sender's connection for the run,
and reset before it returns to the pool): each commit returns before the WAL
reaches the disk (the claim commits stay synchronous). A crash of the
database server (not of this process) may then lose the last few "sent"
commits, a fraction of a second's worth; those rows are still "sending" and
the next run resends them with the same Message-ID, which is the
at-least-once window above, a little wider. The transaction is atomic
either way, so the ledger never shows a ``delivered`` event without its
``sent`` row. SQLite runs with ``synchronous=NORMAL`` in WAL mode, which has
the same property already.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine, Integer, and_, any_, bindparam, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from normhub.db import dialect_insert, set_write_intent, utcnow
from normhub.digest.claims import RUN_HOLDER, Heartbeat, clock, is_fresh
from normhub.digest.content import Digest
from normhub.digest.emails import message_key
from normhub.digest.models import DigestSend
from normhub.exposure.bulk import delivery_parameters, delivery_statements, record_deliveries
from normhub.exposure.models import Nudge
from normhub.mail import addresses
from normhub.mail.message import message_id

_sends = DigestSend.__table__
_nudges = Nudge.__table__
# A message's outcome, with Core statements built once: the ORM's
# per-statement and per-commit bookkeeping cost more than the statements.
_MARK_SENT = (
    update(_sends)
    .where(_sends.c.id == bindparam("s_id"))
    .values(
        status="sent",
        sent_at=bindparam("s_at"),
        updated_at=bindparam("s_at"),
        last_error="",
        window_start=bindparam("s_start"),
        window_end=bindparam("s_end"),
        norm_count=bindparam("s_count"),
    )
)


def _mark_nudged(ids_match):
    """What exposure.mark_nudges_delivered does, on a sender's connection."""
    return (
        update(_nudges)
        .where(ids_match, _nudges.c.delivered_at.is_(None))
        .values(delivered_at=bindparam("n_at"))
    )


_MARK_NUDGED = {
    # = ANY(array): the same SQL for any number of nudges
    "postgresql": _mark_nudged(_nudges.c.id == any_(bindparam("n_ids", type_=ARRAY(Integer)))),
    "sqlite": _mark_nudged(_nudges.c.id.in_(bindparam("n_ids", expanding=True))),
}


@functools.cache
def _mark_sent_in_one_statement(deliveries: bool, nudges: bool):
    """PostgreSQL: the "sent" UPDATE with the rest as data-modifying CTEs.

    ``WITH delivered AS (INSERT …), … UPDATE digest_sends …``: every CTE runs
    whether or not the UPDATE refers to it, and the whole is one statement,
    all or nothing. On a connection in autocommit that is one round trip,
    where BEGIN, a statement each and COMMIT were four or five, each waking
    the server. The parts touch different tables, so none needs another's
    rows. Built once per shape, so SQLAlchemy compiles it and psycopg
    prepares it once.
    """
    ctes = []
    if deliveries:
        events, summaries = delivery_statements("postgresql")
        ctes += [events.cte("delivered"), summaries.cte("summarised")]
    if nudges:
        ctes.append(_MARK_NUDGED["postgresql"].cte("nudged"))
    return _MARK_SENT.add_cte(*ctes)


# A member whose digest keeps failing temporarily is given up on for the
# period after this many attempts (and reported), instead of retried forever.
MAX_ATTEMPTS = 5


class DeliveryLedger:
    """One period's ledger rows (of one scope), read and written on the run's session.

    Its writes commit as ``writing()`` ends: the run decides what goes in each.
    """

    def __init__(
        self,
        session: Session,
        kind: str,
        key: str,
        scope: int,
        now: datetime,
        domain: str,
    ):
        self.session = session
        self.kind, self.key, self.scope, self.now = kind, key, scope, now
        self.domain = domain
        self.sqlite = session.get_bind().dialect.name == "sqlite"

    @contextmanager
    def writing(self):
        """A write transaction of the run's session, committed at the end.

        On SQLite it ends the read transaction before it and begins IMMEDIATE:
        a read transaction cannot take the write lock once a sender has
        committed (SQLITE_BUSY at once, busy_timeout does not help), and the
        run's reads (a batch's digests) must not hold the lock the senders'
        commits wait for.
        """
        if self.sqlite:
            self.session.commit()
            set_write_intent(True)
        try:
            yield
            self.session.commit()
        finally:
            if self.sqlite:
                set_write_intent(False)

    def this_period(self, send=DigestSend):
        return and_(
            send.period_kind == self.kind,
            send.period_key == self.key,
            send.scope == self.scope,
        )

    def renewing(self, on_lost) -> Heartbeat:
        """Renews this run's claims on the period's rows while the block runs (``claims``)."""
        return Heartbeat(self.session.get_bind(), self.this_period(), on_lost)

    def given_up(self) -> int:
        return (
            self.session.scalar(
                select(func.count(DigestSend.id)).where(
                    self.this_period(),
                    DigestSend.status == "failed",
                    DigestSend.attempts >= MAX_ATTEMPTS,
                )
            )
            or 0
        )

    # -- a batch's rows

    def record_batch(self, to_send, to_skip, previous) -> dict[int, int]:
        """One INSERT for new rows (skipped or pending), one UPDATE for skips of retried rows.

        Returns {user id: row id} of the digests to send.
        """
        now = utcnow()
        new_rows = [
            {
                "user_id": digest.user_id,
                "period_kind": self.kind,
                "period_key": self.key,
                "scope": self.scope,
                "status": status,
                "window_start": digest.window_start,
                "window_end": digest.window_end,
                "norm_count": digest.norm_count,
                "attempts": 0,
                "message_id": message_id(message_key(digest), self.domain),
                "last_error": "",
                "created_at": now,
                "updated_at": now,
            }
            for status, digests in (("pending", to_send), ("skipped", to_skip))
            for digest in digests
            if previous.get(digest.user_id) is None
        ]
        if new_rows:
            insert = dialect_insert(self.session.get_bind().dialect.name)
            self.session.execute(
                insert(DigestSend.__table__).on_conflict_do_nothing(
                    index_elements=["user_id", "period_kind", "period_key", "scope"]
                ),
                new_rows,
            )
        retried_skips = [d.user_id for d in to_skip if previous.get(d.user_id) is not None]
        if retried_skips:
            self.session.execute(
                update(DigestSend)
                .where(
                    DigestSend.user_id.in_(retried_skips),
                    self.this_period(),
                    DigestSend.status.in_(("pending", "failed", "sending")),
                )
                .values(status="skipped", updated_at=now, window_end=self.now)
                .execution_options(synchronize_session=False)
            )
        return dict(
            self.session.execute(
                select(DigestSend.user_id, DigestSend.id).where(
                    DigestSend.user_id.in_([d.user_id for d in to_send]), self.this_period()
                )
            ).all()
        )

    def claim(self, send_ids: list[int], dead_holders: set[str]) -> set[int]:
        """Mark these rows "sending" (the caller commits before any of them goes to SMTP).

        A chunk at a time: a crash leaves at most the chunk in "sending", and
        those not yet handed over are simply sent by the next run. A row
        "sending" for a run that is gone (its claim stale, or its holder among
        ``dead_holders``) is claimed again.
        """
        dialect = self.session.get_bind().dialect.name
        claimable = or_(
            DigestSend.status.in_(("pending", "failed")),
            and_(
                DigestSend.status == "sending",
                or_(~is_fresh(dialect), DigestSend.claimed_by.in_(dead_holders)),
            ),
        )
        at = utcnow()
        return set(
            self.session.scalars(
                update(DigestSend)
                .where(DigestSend.id.in_(send_ids), claimable)
                .values(
                    status="sending",
                    attempts=DigestSend.attempts + 1,
                    claimed_at=clock(dialect),
                    claimed_by=RUN_HOLDER,
                    updated_at=at,
                )
                .returning(DigestSend.id)
                .execution_options(synchronize_session=False)
            )
        )

    def release(self, send_ids: set[int]) -> None:
        """Give back rows claimed but never handed to SMTP: the next run sends them at once."""
        self.session.execute(
            update(DigestSend)
            .where(DigestSend.id.in_(send_ids), DigestSend.status == "sending")
            .values(status="pending", attempts=DigestSend.attempts - 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )


# -- a message's outcome, on its sender's own connection


def outcome_connection(engine: Engine) -> Connection:
    """A sender's connection for the outcomes of its messages, one commit each."""
    connection = engine.connect()
    if connection.dialect.name == "postgresql":
        # Each outcome is one statement (_mark_sent_in_one_statement), so
        # no BEGIN and COMMIT round trips: it commits by itself.
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        # Not waiting for the WAL flush: see "Durability of "sent"" above.
        # Set once for this connection (not SET LOCAL per transaction,
        # a round trip per message) and reset before it goes back to
        # the pool.
        connection.execute(text("SET synchronous_commit TO OFF"))
        connection.commit()
    return connection


def close_outcome_connection(connection: Connection) -> None:
    try:
        if connection.dialect.name == "postgresql" and not connection.invalidated:
            connection.rollback()
            connection.execute(text("RESET synchronous_commit"))
            connection.commit()
    finally:
        connection.close()


def record_refusal(
    connection: Connection,
    send_id: int,
    status: str,
    error: Exception,
    bounced: Digest | None = None,
) -> None:
    """``failed`` or ``bounced``, with the reason; a bounce also marks the address."""
    at, reason = utcnow(), str(error)[:1000]
    refused = (
        update(_sends)
        .where(_sends.c.id == send_id)
        .values(status=status, last_error=reason, updated_at=at)
    )
    dialect = connection.dialect.name
    bounce = None
    if bounced is not None:
        # The address is suppressed from now on.
        bounce = addresses.state_upsert(dialect, bounced.email, "bounced", reason, at)
    if dialect == "postgresql":
        # one statement in autocommit: see _mark_sent_in_one_statement
        if bounce is not None:
            refused = refused.add_cte(bounce.cte("bounced"))
        connection.execute(refused)
        return
    with connection.begin():
        connection.execute(refused)
        if bounce is not None:
            connection.execute(bounce)


def mark_sent(connection: Connection, digest: Digest, send_id: int) -> None:
    """ "sent", the ``delivered`` events and the nudges: all or nothing."""
    at = utcnow()
    dialect = connection.dialect.name
    sent = {
        "s_id": send_id,
        "s_at": at,
        "s_start": digest.window_start,
        "s_end": digest.window_end,
        "s_count": digest.norm_count,
    }
    deliveries = [(digest.user_id, d, at) for d in digest.deliveries()]
    nudged = {"n_ids": list(digest.nudge_ids), "n_at": at}
    if dialect == "postgresql":
        statement = _mark_sent_in_one_statement(bool(deliveries), bool(digest.nudge_ids))
        parameters = {**sent, **nudged}
        if deliveries:
            # One dict of arrays on PostgreSQL, shared by both delivery statements.
            parameters.update(delivery_parameters(dialect, deliveries)[0])
        connection.execute(statement, parameters)
        return
    with connection.begin():
        connection.execute(_MARK_SENT, sent)
        record_deliveries(connection, deliveries)
        if digest.nudge_ids:
            connection.execute(_MARK_NUDGED[dialect], nudged)
