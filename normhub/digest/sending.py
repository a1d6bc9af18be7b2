"""Sending one period's digests: the run (its sending threads are in ``senders``).

What each state of a send means, the at-least-once boundary with SMTP and
the durability of "sent" are in ``delivery``, which writes the ledger. For
each batch of members:

1. Build every digest (a fixed number of queries for the batch).
2. In one transaction, record members with nothing new as ``skipped`` and the
   rest as ``pending`` (claimed, not yet handed to SMTP). A concurrent run
   inserting the same rows loses quietly (INSERT … ON CONFLICT DO NOTHING).
3. Compose a chunk of messages (``CLAIM_CHUNK``), move their rows to
   ``sending`` and COMMIT, then put them on a queue (at most a chunk long)
   for the sending threads (``workers``, ``SEND_WORKERS`` by default). Each
   sender has its own SMTP connection and its own database connection, and
   takes one message at a time: it hands it to SMTP, then commits its
   outcome in ONE transaction (``delivery.mark_sent``), and only then
   takes the next. A refusal is recorded as ``failed`` (retried by the next
   run) or, for a permanent 5xx refusal of the address, ``bounced`` (the
   address is suppressed from then on). If a connection is lost for good,
   the run stops: the other senders finish the message in hand, and every
   claimed message no sender took is given back (``pending``). While the
   senders wait on the mail server and on their commits, this thread builds
   and claims the next batch.

The senders overlap their waits: one waits for the server's reply while
another waits for its commit. Each commit is that message's alone, so a
message's outcome is never held back by another's. The progress callback and
the report's counters are updated under one lock.

The window is one message per sender: a sender commits a message's outcome
before it takes the next, so when the process dies at most ``workers``
messages can have been accepted without their "sent" row (one when
``workers`` is 1: the sender's message in flight). Claimed messages no
sender has taken yet (at most two chunks) were never handed to SMTP: a run
that stops gives them back, and after a kill the next run sends them (it
counts them as resent, not knowing better), so they cost no duplicate.
"""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from datetime import datetime

from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from normhub.db import set_write_intent
from normhub.digest import delivery
from normhub.digest.builder import DigestBuilder
from normhub.digest.content import Digest
from normhub.digest.delivery import DeliveryLedger
from normhub.digest.due import DueMembers, news_first
from normhub.digest.emails import digest_email
from normhub.digest.links import Links
from normhub.digest.models import ALL_COMMUNITIES
from normhub.digest.report import RunReport
from normhub.digest.senders import CLAIM_CHUNK, Outbound, Sender, SenderPool, StopRun
from normhub.heap import frozen_heap
from normhub.mail.message import Composer, Outgoing
from normhub.mail.transports import ConnectionLost, RecipientRefused, TemporaryFailure

# Members whose digests are built together, with one set of queries. Each query costs
# a round trip and its planning whatever the batch holds, and the batch's shared entries
# are made once: at 100,000 members, batches of 2,000 built in about 9 s on SQLite where
# batches of 1,000 took 9.5 s and batches of 500, 10.5 s (a batch's ids are one parameter).
BATCH_SIZE = 2000
# Sending threads, each with its own SMTP and database connection: while one
# waits on the mail server or on its commit, another sends. See
# benchmarks/results/digest*.md for how the send rate grows with them.
SEND_WORKERS = 3
# The engine pools 15 connections (5 + 10 overflow): one per sender, one for
# the run's own session, one for the heartbeat renewing its claims.
MAX_SEND_WORKERS = 13


class DigestRun:
    """One ``flask digest send``: builds, records and sends a period's digests."""

    def __init__(
        self,
        app: Flask,
        session: Session,
        period_kind: str,
        transport,
        *,
        community_ids: set[int] | None = None,
        dry_run: bool = False,
        limit: int | None = None,
        batch_size: int = BATCH_SIZE,
        now: datetime | None = None,
        links: Links | None = None,
        workers: int = SEND_WORKERS,
    ):
        if not 1 <= workers <= MAX_SEND_WORKERS:
            raise ValueError(f"workers must be between 1 and {MAX_SEND_WORKERS}, not {workers}.")
        self.session = session
        self.transport = transport
        self.dry_run = dry_run
        self.limit = limit
        self.batch_size = batch_size
        if community_ids is None:
            self.scope = ALL_COMMUNITIES
        elif len(community_ids) == 1:
            (self.scope,) = community_ids
        else:
            raise ValueError("A digest run covers all communities or exactly one.")
        self.composer = Composer(app)
        self.sender = self.composer.sender.envelope
        self.builder = DigestBuilder(
            session,
            period_kind,
            links or Links(app),
            now=now,
            community_ids=community_ids,
            scope=self.scope,
        )
        self.kind, self.key, self.now = self.builder.kind, self.builder.key, self.builder.now
        period = (session, self.kind, self.key, self.scope, self.now)
        self.due = DueMembers(*period, community_ids)
        self.ledger = DeliveryLedger(*period, self.composer.sender.domain)
        self.report = RunReport(self.kind, self.key, transport.description, dry_run)
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.sqlite = session.get_bind().dialect.name == "sqlite"
        self._compose_pool: ThreadPoolExecutor | None = None
        bind = session.get_bind()
        self._senders = SenderPool(transport, workers, self.report, bind, self._deliver)
        self._stopping = self._senders.stopping

    def count_due(self) -> int:
        return self.due.count()

    # -- the run

    def run(self, progress=None, *, due: int | None = None) -> RunReport:
        """Send everything due. ``progress(n)`` is called as members are dealt with.

        ``progress`` may be called from the sending threads (one at a time).
        ``due`` is ``count_due()`` when the caller has just asked it (for a
        progress bar), so a large site's members are not counted twice.
        """
        # The run's write intent (see DeliveryLedger.writing) stays inside the run; the
        # collector goes through the batches' objects only, not the whole process's.
        with frozen_heap():
            return contextvars.copy_context().run(self._run, progress, due)

    def _run(self, progress, due: int | None) -> RunReport:
        if progress is not None:
            self.report.progress = progress
        self._begin(due)
        # While the run lives, its claims stay live for runs on any host.
        with nullcontext() if self.dry_run else self.ledger.renewing(self._claims_lost):
            try:
                sent_budget = self._send_batches()
            except BaseException:
                # Ctrl-C or an error here: each sender finishes the message it has
                # in hand (so an accepted message gets its "sent" row) and no more.
                self._stopping.set()
                self.session.rollback()
                self._wind_down(patient=False)
                raise
            interrupted = self._wind_down(patient=True)
        if interrupted is not None:
            raise interrupted
        if self._senders.error is not None:
            raise self._senders.error
        self._count_what_is_left(sent_budget)
        if self.dry_run:
            self.session.rollback()
        return self.report

    def _begin(self, due: int | None) -> None:
        if self.sqlite:
            set_write_intent(False)
        if self.postgres:
            # psycopg prepares a statement after a few runs, and PostgreSQL may
            # then reuse one generic plan for every batch's IN (...) list; for
            # the replies query that plan was 30 times slower than a fresh one.
            self.session.execute(text("SET plan_cache_mode = force_custom_plan"))
        self.report.candidates = self.count_due() if due is None else due
        if not self.dry_run:
            self.session.commit()  # end the read transaction before the first write

    def _claims_lost(self, reason: str) -> None:
        self.report.count(stopped=reason)
        self._stopping.set()

    def _send_batches(self) -> int | None:
        """Batch after batch in member order, until none is left, the limit is
        reached or the run stops; returns what is left of the limit."""
        last_id, sent_budget = 0, self.limit
        try:
            while sent_budget is None or sent_budget > 0:
                if self._stopping.is_set():
                    raise StopRun
                ids = list(self.session.scalars(self.due.subscribed_ids(last_id, self.batch_size)))
                if not ids:
                    break
                last_id = ids[-1]
                rows = self.session.execute(self.due.due(ids)).all()
                if rows:
                    sent_budget = self._batch(rows, sent_budget)
        except StopRun:
            pass
        return sent_budget

    def _wind_down(self, *, patient: bool) -> KeyboardInterrupt | None:
        """The senders finish, what none of them took is given back, the helper thread ends."""
        interrupted, given_back = self._senders.stop(patient=patient)
        self._release(given_back)
        if not self.dry_run:
            self.session.commit()
        if self._compose_pool is not None:
            self._compose_pool.shutdown(cancel_futures=True)
            self._compose_pool = None
        return interrupted

    def _count_what_is_left(self, sent_budget: int | None) -> None:
        self.report.gave_up = self.ledger.given_up()
        if self.report.stopped or (self.limit is not None and sent_budget == 0):
            self.report.not_attempted = max(self.count_due() - self.report.failed, 0)

    # -- one batch

    def _batch(self, rows, sent_budget: int | None) -> int | None:
        """Build, record and send one batch of ``due`` rows; returns what is left of the limit."""
        members, previous, suppressed, busy = self.due.to_build(rows)
        self.report.count(suppressed=suppressed, busy=busy)
        to_send, to_skip = news_first(self.builder.build(members), members, sent_budget)
        if self.dry_run:
            self.report.count(would_send=len(to_send), skipped=len(to_skip))
        else:
            with self.ledger.writing():
                send_ids = self.ledger.record_batch(to_send, to_skip, previous)
            self.report.count(skipped=len(to_skip))
            self._send_chunks(to_send, send_ids, previous)
        return None if sent_budget is None else sent_budget - len(to_send)

    def _send_chunks(self, to_send: list[Digest], send_ids: dict[int, int], previous) -> None:
        chunks = [to_send[i : i + CLAIM_CHUNK] for i in range(0, len(to_send), CLAIM_CHUNK)]
        # The next chunk's messages are composed in a helper thread while this
        # chunk's go out: it runs while the senders wait on SMTP replies and
        # commits (both release the GIL).
        composing = self._composing_thread().submit(self._compose, chunks[0]) if chunks else None
        for index, chunk in enumerate(chunks):
            outgoing = composing.result()
            if index + 1 < len(chunks):
                composing = self._composing_thread().submit(self._compose, chunks[index + 1])
            if self._stopping.is_set():
                raise StopRun
            with self.ledger.writing():
                claimed = self.ledger.claim(
                    [send_ids[d.user_id] for d in chunk], self.due.dead_holders
                )
            self._hand_over_chunk(chunk, claimed, send_ids, outgoing, previous)

    def _hand_over_chunk(self, chunk, claimed: set[int], send_ids, outgoing, previous) -> None:
        handed = 0
        try:
            for digest in chunk:
                send_id = send_ids[digest.user_id]
                if send_id not in claimed:
                    self.report.count(busy=1)  # another run took it between our read and now
                else:
                    self._senders.hand_over(
                        Outbound(
                            digest,
                            send_id,
                            outgoing[digest.user_id],
                            previous.get(digest.user_id),
                        )
                    )
                handed += 1
        except BaseException as stop:
            # StopRun comes before the message reaches the queue; Ctrl-C
            # may come after, and a sender may have it: leave that one
            # "sending" (at-least-once) rather than give it back.
            first = handed if isinstance(stop, StopRun) else handed + 1
            untouched = {send_ids[d.user_id] for d in chunk[first:]}
            self._senders.keep_unsent(claimed & untouched)
            raise

    def _compose(self, chunk: list[Digest]) -> dict[int, Outgoing]:
        return {
            d.user_id: self.composer.compose(digest_email(self.builder.finish(d))) for d in chunk
        }

    def _composing_thread(self) -> ThreadPoolExecutor:
        if self._compose_pool is None:
            self._compose_pool = ThreadPoolExecutor(1, thread_name_prefix="digest-compose")
        return self._compose_pool

    def _release(self, send_ids: set[int]) -> None:
        """Give back rows claimed but never handed to SMTP: the next run sends them at once."""
        if send_ids:
            with self.ledger.writing():
                self.ledger.release(send_ids)

    def _deliver(self, item: Outbound, sender: Sender) -> None:
        """In a sender: SMTP, then the outcome committed on the sender's own connection."""
        digest, send_id = item.digest, item.send_id
        try:
            sender.transport.send(
                item.outgoing, self.sender, digest.email, may_retry=self._senders.still_running
            )
        except RecipientRefused as refusal:
            delivery.record_refusal(sender.ledger(), send_id, "bounced", refusal, digest)
            self.report.count(bounced=1, problem=f"bounced: user {digest.user_id}: {refusal}")
        except TemporaryFailure as failure:
            delivery.record_refusal(sender.ledger(), send_id, "failed", failure)
            self.report.count(failed=1, problem=f"failed: user {digest.user_id}: {failure}")
        except ConnectionLost as lost:
            # The other senders finish the message they have in hand; the
            # rest of the claimed messages are given back for the next run.
            self._stopping.set()
            delivery.record_refusal(sender.ledger(), send_id, "failed", lost)
            self.report.count(
                failed=1, problem=f"failed: user {digest.user_id}: {lost}", stopped=str(lost)
            )
        else:
            delivery.mark_sent(sender.ledger(), digest, send_id)
            self.report.count(sent=1, resent=int(item.previous_status == "sending"))
        # Anything unexpected (a database error, say) leaves the row "sending":
        # a later run resends it (at-least-once).
