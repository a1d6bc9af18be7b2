"""Sending one period's digests: exactly once per member, as far as SMTP allows.

The ledger is ``DigestSend``, unique per (member, period kind, period key,
scope). A run over all communities records scope 0; ``--community`` records
that community's id as the scope, so it does not stand for the member's whole
digest: a later full run of the period still sends the member's other
communities (leaving out the one already covered), and a ``--community`` run
after a full one leaves alone members whose full digest is sent or under way.
For each batch of members:

1. Build every digest (a fixed number of queries for the batch).
2. In one transaction, record members with nothing new as ``skipped`` and the
   rest as ``pending`` (claimed, not yet handed to SMTP). A concurrent run
   inserting the same rows loses quietly (INSERT … ON CONFLICT DO NOTHING).
3. Compose a chunk of messages (``CLAIM_CHUNK``), move their rows to
   ``sending`` and COMMIT, then put them on a queue (at most a chunk long)
   for the sending threads (``workers``, ``SEND_WORKERS`` by default). Each
   sender has its own SMTP connection and its own database connection, and
   takes one message at a time: it hands it to SMTP, then in ONE
   transaction (on PostgreSQL one statement, see
   ``_mark_sent_in_one_statement``) marks it ``sent``, records a
   ``delivered`` exposure event for each norm version it presented (see
   ``exposure/bulk.py``), and marks its nudges delivered, and only then
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

The SMTP boundary: at-least-once. If the process dies after the server
accepted a message but before the "sent" commit, the row stays ``sending``.
A later run treats a ``sending`` row as not sent, and sends it again (reported
as "resent after an interrupted run"), once the run that claimed it is known
to be gone: its process no longer exists on this host (rows record
``claimed_by`` = host:pid), or, for a claim from another host, the row is
older than ``SENDING_LEASE``. We
chose this over at-most-once because (a) the crash window is the few
milliseconds between the server's 250 and our commit, while a kill *during*
the SMTP dialogue (before acceptance), or before a claimed message's turn
came, leaves the same ``sending`` row, and there resending is right; (b) the
resent message has the same Message-ID (``digest.<kind>.<period>.<user>@…``),
so mail clients that deduplicate show it once; (c) the ``delivered`` events
are recorded only with a ``sent`` row, so the exposure ledger never claims a
delivery we did not see accepted. A row claimed by a live run (or by another
host, within the lease) is left alone.

The window is one message per sender: a sender commits a message's outcome
before it takes the next, so when the process dies at most ``workers``
messages can have been accepted without their "sent" row (one when
``workers`` is 1: the sender's message in flight). Claimed messages no
sender has taken yet (at most two chunks) were never handed to SMTP: a run
that stops gives them back, and after a kill the next run sends them (it
counts them as resent, not knowing better), so they cost no duplicate.

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

import contextvars
import functools
import os
import queue
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import Integer, and_, any_, bindparam, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased

from normhub.accounts.models import User
from normhub.communities.models import Membership
from normhub.db import dialect_insert, set_write_intent, utcnow
from normhub.digest.builder import DigestBuilder, Member
from normhub.digest.content import Digest
from normhub.digest.links import Links
from normhub.digest.mailer import (
    ConnectionLost,
    Outgoing,
    RecipientRefused,
    Renderer,
    SMTPSettingsError,
    TemporaryFailure,
    compose,
    envelope_sender,
    message_id,
    sender_domain,
)
from normhub.digest.models import (
    ALL_COMMUNITIES,
    COVERING_STATUSES,
    FINAL_STATUSES,
    DigestSend,
    EmailBounce,
)
from normhub.digest.preferences import matching_memberships
from normhub.exposure.bulk import delivery_parameters, delivery_statements, record_deliveries
from normhub.exposure.models import Nudge

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


SENDING_LEASE = timedelta(minutes=15)
# A member whose digest keeps failing temporarily is given up on for the
# period after this many attempts (and reported), instead of retried forever.
MAX_ATTEMPTS = 5
BATCH_SIZE = 500
# Messages claimed ("sending", committed) together before they go to SMTP.
CLAIM_CHUNK = 50
# Sending threads, each with its own SMTP and database connection: while one
# waits on the mail server or on its commit, another sends. See
# benchmarks/results/digest*.md for how the send rate grows with them.
SEND_WORKERS = 3
# The engine pools 15 connections (5 + 10 overflow): one per sender, one for
# the run's own session.
MAX_SEND_WORKERS = 14


@dataclass
class RunReport:
    period_kind: str
    period_key: str
    transport: str
    dry_run: bool = False
    candidates: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    bounced: int = 0
    suppressed: int = 0
    resent: int = 0
    busy: int = 0
    would_send: int = 0
    gave_up: int = 0
    not_attempted: int = 0
    # SMTP connections the run sent over, when fewer could be opened than asked for.
    connections: int | None = None
    stopped: str | None = None
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.dry_run:
            return (
                f"Dry run for {self.period_kind} digest {self.period_key}: "
                f"{self.would_send} would be sent, {self.skipped} skipped (nothing new), "
                f"{self.suppressed} suppressed (bounced address). Nothing was sent or recorded."
            )
        parts = [
            f"{self.period_kind.capitalize()} digest {self.period_key} via {self.transport}:",
            f"sent {self.sent}, skipped {self.skipped} (nothing new),",
            f"failed {self.failed}, bounced {self.bounced}.",
        ]
        if self.suppressed:
            parts.append(f"{self.suppressed} not mailed: their address bounced earlier.")
        if self.resent:
            parts.append(f"{self.resent} resent after an interrupted run (at-least-once).")
        if self.busy:
            parts.append(f"{self.busy} left alone: another run is sending them now.")
        if self.gave_up:
            parts.append(f"{self.gave_up} given up after {MAX_ATTEMPTS} failed attempts.")
        if self.not_attempted:
            parts.append(f"{self.not_attempted} not attempted: rerun to send them.")
        if self.connections is not None:
            parts.append(f"Sent over {self.connections} SMTP connection(s) only.")
        return " ".join(parts)


class StopRun(Exception):
    pass


@dataclass
class _Outbound:
    """A claimed message, composed, waiting for a sending thread."""

    digest: Digest
    send_id: int
    outgoing: Outgoing
    previous_status: str | None


_NO_MORE = None  # put once per sending thread after the last message


class _Sender:
    """One sending thread: its own transport (SMTP connection) and database connection.

    It takes one message at a time from the run's queue, hands it to SMTP and
    commits its outcome before it takes the next, so at most one message per
    thread has been accepted by the server without its "sent" row committed.
    """

    def __init__(self, run: DigestRun, transport, owns_transport: bool, number: int):
        self.run = run
        self.transport = transport
        self.owns_transport = owns_transport
        self._connection: Connection | None = None
        self.thread = threading.Thread(target=self._work, name=f"digest-send-{number}", daemon=True)
        # What the run waits on, rather than thread.join(): a Ctrl-C landing in
        # join() can leave the thread marked finished while it still runs
        # (CPython 3.11), and the process would end under its message.
        self.done = threading.Event()

    def ledger(self) -> Connection:
        if self._connection is None:
            connection = self.run.session.get_bind().connect()
            if self.run.postgres:
                # Each outcome is one statement (_mark_sent_in_one_statement), so
                # no BEGIN and COMMIT round trips: it commits by itself.
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
                # Not waiting for the WAL flush: see "Durability of "sent"" above.
                # Set once for this connection (not SET LOCAL per transaction,
                # a round trip per message) and reset before it goes back to
                # the pool.
                connection.execute(text("SET synchronous_commit TO OFF"))
                connection.commit()
            self._connection = connection
        return self._connection

    def _work(self) -> None:
        run = self.run
        try:
            while (item := run._queue.get()) is not _NO_MORE:
                if run._stopping.is_set():
                    run._give_back(item)
                    continue
                try:
                    run._deliver(item, self)
                except BaseException as error:  # noqa: BLE001 - handed to the run's thread
                    run._crashed(error)
        finally:
            try:
                self._close()
            except BaseException as error:  # noqa: BLE001
                run._crashed(error)
            finally:
                self.done.set()

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        try:
            if connection is not None:
                try:
                    if self.run.postgres and not connection.invalidated:
                        connection.rollback()
                        connection.execute(text("RESET synchronous_commit"))
                        connection.commit()
                finally:
                    connection.close()
        finally:
            if self.owns_transport:
                self.transport.close()


RUN_HOLDER = f"{socket.gethostname()}:{os.getpid()}"


def holder_is_dead(holder: str | None) -> bool:
    """True if ``holder`` ("host:pid") is a process on this host that no longer runs."""
    if not holder or ":" not in holder:
        return False
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine: only the lease can tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # exists, owned by someone else
    return False


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
        self.app = app
        self.session = session
        self.transport = transport
        self.dry_run = dry_run
        self.limit = limit
        self.batch_size = batch_size
        self.community_ids = community_ids
        if community_ids is None:
            self.scope = ALL_COMMUNITIES
        elif len(community_ids) == 1:
            (self.scope,) = community_ids
        else:
            raise ValueError("A digest run covers all communities or exactly one.")
        self.mail_from = app.config["MAIL_FROM"]
        self.sender = envelope_sender(self.mail_from)
        self.domain = sender_domain(self.mail_from)
        self.renderer = Renderer(app)
        self.builder = DigestBuilder(
            session,
            period_kind,
            links or Links(app),
            now=now,
            community_ids=community_ids,
            scope=self.scope,
        )
        self.kind, self.key, self.now = self.builder.kind, self.builder.key, self.builder.now
        self.report = RunReport(self.kind, self.key, transport.description, dry_run)
        self._dead_holders: set[str] = set()
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.sqlite = session.get_bind().dialect.name == "sqlite"
        self.workers = workers
        self._composer_pool: ThreadPoolExecutor | None = None
        # The sending threads, started with the first message. This thread
        # (the session's) builds, claims and composes; it hands claimed
        # messages over through a queue of at most one chunk.
        self._senders: list[_Sender] = []
        self._queue: queue.Queue = queue.Queue(maxsize=CLAIM_CHUNK)
        self._stopping = threading.Event()
        # Report counters and the progress callback are shared with the senders.
        self._lock = threading.Lock()
        self._progress = lambda n: None
        self._given_back: list[int] = []  # claimed, never handed to SMTP
        self._error: BaseException | None = None

    # -- who is due

    def _subscribed_ids(self, after: int, limit: int):
        """The next ``limit`` member ids above ``after`` with a matching preference.

        Walks the memberships index in user order, so each batch reads only
        its own members (a join from users made PostgreSQL scan them all).
        """
        return (
            matching_memberships(self.kind, self.community_ids)
            .with_only_columns(Membership.user_id)
            .where(Membership.user_id > after)
            .group_by(Membership.user_id)
            .order_by(Membership.user_id)
            .limit(limit)
        )

    def _due(self, user_ids=None):
        """Members with a matching digest preference and no final row for this period."""
        this_period = and_(
            DigestSend.user_id == User.id,
            DigestSend.period_kind == self.kind,
            DigestSend.period_key == self.key,
            DigestSend.scope == self.scope,
        )
        # The row of this period is done when final, or failed too often.
        unfinished = or_(
            DigestSend.id.is_(None),
            and_(
                DigestSend.status.not_in(FINAL_STATUSES),
                or_(DigestSend.status != "failed", DigestSend.attempts < MAX_ATTEMPTS),
            ),
        )
        query = (
            select(
                User.id,
                User.email,
                User.display_name,
                DigestSend.status,
                DigestSend.claimed_at,
                DigestSend.claimed_by,
                EmailBounce.email.label("bounced_email"),
            )
            .outerjoin(DigestSend, this_period)
            .outerjoin(EmailBounce, EmailBounce.user_id == User.id)
            .where(unfinished)
        )
        if self.scope != ALL_COMMUNITIES:
            # The member's full digest of this period covers this community.
            full = aliased(DigestSend)
            full_digest = (
                select(full.id)
                .where(
                    full.user_id == User.id,
                    full.period_kind == self.kind,
                    full.period_key == self.key,
                    full.scope == ALL_COMMUNITIES,
                    full.status.in_(COVERING_STATUSES),
                )
                .exists()
            )
            query = query.where(~full_digest)
        if user_ids is None:
            subscribed = (
                matching_memberships(self.kind, self.community_ids)
                .where(Membership.user_id == User.id)
                .exists()
            )
            return query.where(subscribed)
        return query.where(User.id.in_(user_ids)).order_by(User.id)

    def count_due(self) -> int:
        return self.session.scalar(select(func.count()).select_from(self._due().subquery())) or 0

    # -- the run

    def run(self, progress=None, *, due: int | None = None) -> RunReport:
        """Send everything due. ``progress(n)`` is called as members are dealt with.

        ``progress`` may be called from the sending threads (one at a time).
        ``due`` is ``count_due()`` when the caller has just asked it (for a
        progress bar), so a large site's members are not counted twice.
        """
        # The run's write intent (see _writing) stays inside the run.
        return contextvars.copy_context().run(self._run, progress, due)

    def _run(self, progress, due: int | None) -> RunReport:
        progress = progress or (lambda n: None)
        self._progress = progress
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
        last_id, sent_budget = 0, self.limit
        failing = False
        try:
            while sent_budget is None or sent_budget > 0:
                if self._stopping.is_set():
                    raise StopRun
                ids = list(self.session.scalars(self._subscribed_ids(last_id, self.batch_size)))
                if not ids:
                    break
                last_id = ids[-1]
                rows = self.session.execute(self._due(ids)).all()
                if rows:
                    sent_budget = self._batch(rows, sent_budget)
        except StopRun:
            pass
        except BaseException:
            # Ctrl-C or an error here: each sender finishes the message it has
            # in hand (so an accepted message gets its "sent" row) and no more.
            failing = True
            self._stopping.set()
            raise
        finally:
            if failing:
                self.session.rollback()
            interrupted = self._stop_senders(patient=not failing)
            if not self.dry_run:
                self.session.commit()
            if self._composer_pool is not None:
                self._composer_pool.shutdown(cancel_futures=True)
                self._composer_pool = None
        if interrupted is not None:
            raise interrupted
        if self._error is not None:
            raise self._error
        self.report.gave_up = self._given_up()
        if self.report.stopped or (self.limit is not None and sent_budget == 0):
            self.report.not_attempted = self.count_due() - self.report.failed
            self.report.not_attempted = max(self.report.not_attempted, 0)
        if self.dry_run:
            self.session.rollback()
        return self.report

    def _given_up(self) -> int:
        return (
            self.session.scalar(
                select(func.count(DigestSend.id)).where(
                    DigestSend.period_kind == self.kind,
                    DigestSend.period_key == self.key,
                    DigestSend.scope == self.scope,
                    DigestSend.status == "failed",
                    DigestSend.attempts >= MAX_ATTEMPTS,
                )
            )
            or 0
        )

    def _batch(self, rows, sent_budget: int | None) -> int | None:
        members, previous = [], {}
        for row in rows:
            if row.bounced_email is not None and row.bounced_email == row.email:
                self._tally(suppressed=1)
                continue
            if (
                row.status == "sending"
                and row.claimed_at is not None
                and row.claimed_at > self.now - SENDING_LEASE
            ):
                if holder_is_dead(row.claimed_by):
                    self._dead_holders.add(row.claimed_by)
                else:
                    self._tally(busy=1)
                    continue
            members.append(Member(row.id, row.email, row.display_name))
            previous[row.id] = row.status
        digests = self.builder.build(members)

        to_send: list[Digest] = []
        to_skip: list[Digest] = []
        for member in members:
            digest = digests[member.id]
            if digest.has_news:
                if sent_budget is not None and len(to_send) >= sent_budget:
                    break
                to_send.append(digest)
            else:
                to_skip.append(digest)
        if self.dry_run:
            self._tally(would_send=len(to_send), skipped=len(to_skip))
            return None if sent_budget is None else sent_budget - len(to_send)

        with self._writing():
            self._record_batch(to_send, to_skip, previous)
            send_ids = dict(
                self.session.execute(
                    select(DigestSend.user_id, DigestSend.id).where(
                        DigestSend.user_id.in_([d.user_id for d in to_send]),
                        DigestSend.period_kind == self.kind,
                        DigestSend.period_key == self.key,
                        DigestSend.scope == self.scope,
                    )
                ).all()
            )
        self._tally(skipped=len(to_skip))
        chunks = [to_send[i : i + CLAIM_CHUNK] for i in range(0, len(to_send), CLAIM_CHUNK)]
        # The next chunk's messages are composed in a helper thread while this
        # chunk's go out: it runs while the senders wait on SMTP replies and
        # commits (both release the GIL).
        composing = self._composer().submit(self._compose, chunks[0]) if chunks else None
        for index, chunk in enumerate(chunks):
            outgoing = composing.result()
            if index + 1 < len(chunks):
                composing = self._composer().submit(self._compose, chunks[index + 1])
            if self._stopping.is_set():
                raise StopRun
            claimed = self._claim([send_ids[d.user_id] for d in chunk])
            handed = 0
            try:
                for digest in chunk:
                    send_id = send_ids[digest.user_id]
                    if send_id not in claimed:
                        self._tally(busy=1)  # another run took it between our read and now
                    else:
                        self._hand_over(
                            _Outbound(
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
                with self._lock:
                    self._given_back.extend(claimed & untouched)
                raise
        return None if sent_budget is None else sent_budget - len(to_send)

    # -- the sending threads

    def _hand_over(self, item: _Outbound) -> None:
        if not self._senders:
            self._start_senders()
        while True:
            if self._stopping.is_set():
                raise StopRun
            try:
                # Waits while the senders have a chunk in hand; wakes now and
                # then to notice a stop (the senders may all have given up).
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def _start_senders(self) -> None:
        """One sender on the caller's (open) transport, the others on new connections.

        The settings were proven by the caller's transport; a server that
        refuses more connections from us leaves the run with fewer senders,
        said so in the report.
        """
        transports = [(self.transport, False)]
        for _ in range(1, self.workers):
            extra = self.transport.another()
            try:
                extra.open()
            except SMTPSettingsError as error:
                self.report.connections = len(transports)
                self.report.problems.append(
                    f"could open only {len(transports)} of {self.workers} SMTP connections: {error}"
                )
                break
            transports.append((extra, True))
        for number, (transport, owned) in enumerate(transports, 1):
            sender = _Sender(self, transport, owned, number)
            try:
                sender.thread.start()
            except BaseException:
                if owned:
                    transport.close()
                raise
            # Only a started sender is waited for: one that never ran would
            # never say it is done.
            self._senders.append(sender)

    def _stop_senders(self, *, patient: bool = True) -> KeyboardInterrupt | None:
        """Let the senders empty the queue and end; give back what none of them sent.

        The main thread usually waits here while the senders work through the
        last chunk, so this is where Ctrl-C (or SIGTERM, see the CLI) mostly
        lands. It stops the run as one during the batches does: each sender
        records the message in hand, the queued ones are given back, and the
        interrupt is returned for the caller to raise. A second one leaves at
        once (the at-least-once case), and so does the first when ``patient``
        is false: the run is already ending on an error or an interrupt.
        """
        senders, self._senders = self._senders, []
        interrupted: KeyboardInterrupt | None = None
        posted = 0
        while True:
            try:
                while posted < len(senders):
                    # Behind every message: each sender takes one and ends. If the
                    # run is stopping, the messages before it are given back unsent.
                    self._queue.put(_NO_MORE)
                    posted += 1
                for sender in senders:
                    sender.done.wait()
                break
            except KeyboardInterrupt as stop:
                if interrupted is not None or not patient:
                    raise
                interrupted = stop
                self._stopping.set()
        given_back, self._given_back = self._given_back, []
        self._release(set(given_back))
        return interrupted

    def _give_back(self, item: _Outbound) -> None:
        with self._lock:
            self._given_back.append(item.send_id)

    def _still_running(self) -> bool:
        return not self._stopping.is_set()

    def _crashed(self, error: BaseException) -> None:
        """Something unexpected in a sender: stop the run, and raise it from ``run``."""
        with self._lock:
            if self._error is None:
                self._error = error
        self._stopping.set()

    def _tally(self, *, problem: str | None = None, stopped: str | None = None, **counts) -> None:
        """Add to the report's counters and move the progress bar, one thread at a time."""
        with self._lock:
            for name, n in counts.items():
                setattr(self.report, name, getattr(self.report, name) + n)
            if problem:
                self.report.problems.append(problem)
            if stopped and not self.report.stopped:
                self.report.stopped = stopped
            done = sum(n for name, n in counts.items() if name != "resent")
            if done:
                self._progress(done)

    def _compose(self, chunk: list[Digest]) -> dict[int, Outgoing]:
        return {
            d.user_id: compose(self.builder.finish(d), self.mail_from, self.renderer) for d in chunk
        }

    def _composer(self) -> ThreadPoolExecutor:
        if self._composer_pool is None:
            self._composer_pool = ThreadPoolExecutor(1, thread_name_prefix="digest-compose")
        return self._composer_pool

    def _release(self, send_ids: set[int]) -> None:
        """Give back rows claimed but never handed to SMTP: the next run sends them at once."""
        if send_ids:
            with self._writing():
                self.session.execute(
                    update(DigestSend)
                    .where(DigestSend.id.in_(send_ids), DigestSend.status == "sending")
                    .values(status="pending", attempts=DigestSend.attempts - 1, updated_at=utcnow())
                    .execution_options(synchronize_session=False)
                )

    def _claim(self, send_ids: list[int]) -> set[int]:
        """Mark these rows "sending" and COMMIT, before any of them goes to SMTP.

        A chunk at a time: a crash leaves at most the chunk in "sending", and
        those not yet handed over are simply sent by the next run.
        """
        claimable = or_(
            DigestSend.status.in_(("pending", "failed")),
            and_(
                DigestSend.status == "sending",
                or_(
                    DigestSend.claimed_at <= self.now - SENDING_LEASE,
                    DigestSend.claimed_by.in_(self._dead_holders),
                ),
            ),
        )
        at = utcnow()
        with self._writing():
            return set(
                self.session.scalars(
                    update(DigestSend)
                    .where(DigestSend.id.in_(send_ids), claimable)
                    .values(
                        status="sending",
                        attempts=DigestSend.attempts + 1,
                        claimed_at=at,
                        claimed_by=RUN_HOLDER,
                        updated_at=at,
                    )
                    .returning(DigestSend.id)
                    .execution_options(synchronize_session=False)
                )
            )

    @contextmanager
    def _writing(self):
        """A write transaction of this thread's session, committed at the end.

        On SQLite it ends the read transaction before it and begins IMMEDIATE:
        a read transaction cannot take the write lock once a sender has
        committed (SQLITE_BUSY at once, busy_timeout does not help), and this
        thread's reads (a batch's digests) must not hold the lock the senders'
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

    def _record_batch(self, to_send, to_skip, previous) -> None:
        """One INSERT for new rows (skipped or pending), one UPDATE for skips of retried rows."""
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
                "message_id": message_id(digest, self.domain),
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
                    DigestSend.period_kind == self.kind,
                    DigestSend.period_key == self.key,
                    DigestSend.scope == self.scope,
                    DigestSend.status.in_(("pending", "failed", "sending")),
                )
                .values(status="skipped", updated_at=now, window_end=self.now)
                .execution_options(synchronize_session=False)
            )

    def _deliver(self, item: _Outbound, sender: _Sender) -> None:
        """In a sender: SMTP, then the outcome committed on the sender's own connection."""
        digest, send_id = item.digest, item.send_id
        try:
            sender.transport.send(
                item.outgoing, self.sender, digest.email, may_retry=self._still_running
            )
        except RecipientRefused as refusal:
            self._record_refusal(sender.ledger(), send_id, "bounced", refusal, digest)
            self._tally(bounced=1, problem=f"bounced: user {digest.user_id}: {refusal}")
        except TemporaryFailure as failure:
            self._record_refusal(sender.ledger(), send_id, "failed", failure)
            self._tally(failed=1, problem=f"failed: user {digest.user_id}: {failure}")
        except ConnectionLost as lost:
            # The other senders finish the message they have in hand; the
            # rest of the claimed messages are given back for the next run.
            self._stopping.set()
            self._record_refusal(sender.ledger(), send_id, "failed", lost)
            self._tally(
                failed=1, problem=f"failed: user {digest.user_id}: {lost}", stopped=str(lost)
            )
        else:
            self._mark_sent(sender.ledger(), digest, send_id)
            self._tally(sent=1, resent=int(item.previous_status == "sending"))
        # Anything unexpected (a database error, say) leaves the row "sending":
        # a later run resends it (at-least-once).

    def _record_refusal(
        self,
        connection: Connection,
        send_id: int,
        status: str,
        error: Exception,
        bounced: Digest | None = None,
    ) -> None:
        at, reason = utcnow(), str(error)[:1000]
        refused = (
            update(_sends)
            .where(_sends.c.id == send_id)
            .values(status=status, last_error=reason, updated_at=at)
        )
        bounce = None
        if bounced is not None:
            # The address is suppressed from now on.
            values = {"email": bounced.email, "reason": reason, "bounced_at": at}
            bounce = (
                dialect_insert(connection.dialect.name)(EmailBounce.__table__)
                .values(user_id=bounced.user_id, **values)
                .on_conflict_do_update(index_elements=["user_id"], set_=values)
            )
        if self.postgres:
            # one statement in autocommit: see _mark_sent_in_one_statement
            if bounce is not None:
                refused = refused.add_cte(bounce.cte("bounced"))
            connection.execute(refused)
            return
        with connection.begin():
            connection.execute(refused)
            if bounce is not None:
                connection.execute(bounce)

    def _mark_sent(self, connection: Connection, digest: Digest, send_id: int) -> None:
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
        if self.postgres:
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
