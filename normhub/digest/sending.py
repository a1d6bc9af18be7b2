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
   ``sending`` and COMMIT, then per message: hand it to SMTP, then in ONE
   transaction mark it ``sent``, record a ``delivered`` exposure event for
   each norm version it presented (see ``ledger.py``), and mark its nudges
   delivered. A refusal is recorded as ``failed`` (retried by the next run)
   or, for a permanent 5xx refusal of the address, ``bounced`` (the address
   is suppressed from then on). If the connection is lost for good, the run
   stops and gives the rest of the chunk back (``pending``).

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

Durability of "sent": on PostgreSQL the per-message "sent" transactions run
with ``synchronous_commit`` off (set on their own connection for the run, and
reset before it returns to the pool): each commit returns before the WAL
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

import os
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import and_, bindparam, func, or_, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased

from normhub.accounts.models import User
from normhub.communities.models import Membership
from normhub.db import utcnow
from normhub.digest.mailer import (
    ConnectionLost,
    Outgoing,
    RecipientRefused,
    Renderer,
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
from normhub.digest.services import Digest, DigestBuilder, Links, Member, matching_memberships
from normhub.exposure.bulk import record_deliveries
from normhub.exposure.models import Nudge

_sends = DigestSend.__table__
_MARK_SENT = (
    update(_sends)
    .where(_sends.c.id == bindparam("b_id"))
    .values(
        status="sent",
        sent_at=bindparam("b_at"),
        updated_at=bindparam("b_at"),
        last_error="",
        window_start=bindparam("b_start"),
        window_end=bindparam("b_end"),
        norm_count=bindparam("b_count"),
    )
)

SENDING_LEASE = timedelta(minutes=15)
# A member whose digest keeps failing temporarily is given up on for the
# period after this many attempts (and reported), instead of retried forever.
MAX_ATTEMPTS = 5
BATCH_SIZE = 500
# Messages claimed ("sending", committed) together before they go to SMTP.
CLAIM_CHUNK = 50


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
        return " ".join(parts)


class StopRun(Exception):
    pass


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


def _insert(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


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
    ):
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
        # The per-message "sent" transactions run on a plain Connection, with
        # Core statements built once: the ORM session's per-statement and
        # per-commit bookkeeping cost more than the statements themselves.
        self._ledger: Connection | None = None
        self._composer_pool: ThreadPoolExecutor | None = None

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

    def run(self, progress=None) -> RunReport:
        """Send everything due. ``progress(n)`` is called as members are dealt with."""
        progress = progress or (lambda n: None)
        if self.session.get_bind().dialect.name == "postgresql":
            # psycopg prepares a statement after a few runs, and PostgreSQL may
            # then reuse one generic plan for every batch's IN (...) list; for
            # the replies query that plan was 30 times slower than a fresh one.
            self.session.execute(text("SET plan_cache_mode = force_custom_plan"))
        self.report.candidates = self.count_due()
        if not self.dry_run:
            self.session.commit()  # end the read transaction before the first write
        last_id, sent_budget = 0, self.limit
        try:
            while sent_budget is None or sent_budget > 0:
                ids = list(self.session.scalars(self._subscribed_ids(last_id, self.batch_size)))
                if not ids:
                    break
                last_id = ids[-1]
                rows = self.session.execute(self._due(ids)).all()
                if rows:
                    sent_budget = self._batch(rows, sent_budget, progress)
        except StopRun:
            pass
        finally:
            if not self.dry_run:
                self.session.commit()
            self._close_ledger()
            if self._composer_pool is not None:
                self._composer_pool.shutdown(cancel_futures=True)
                self._composer_pool = None
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

    def _batch(self, rows, sent_budget: int | None, progress) -> int | None:
        members, previous = [], {}
        for row in rows:
            if row.bounced_email is not None and row.bounced_email == row.email:
                self.report.suppressed += 1
                progress(1)
                continue
            if (
                row.status == "sending"
                and row.claimed_at is not None
                and row.claimed_at > self.now - SENDING_LEASE
            ):
                if holder_is_dead(row.claimed_by):
                    self._dead_holders.add(row.claimed_by)
                else:
                    self.report.busy += 1
                    progress(1)
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
            self.report.would_send += len(to_send)
            self.report.skipped += len(to_skip)
            progress(len(to_send) + len(to_skip))
            return None if sent_budget is None else sent_budget - len(to_send)

        self._record_batch(to_send, to_skip, previous)
        self.report.skipped += len(to_skip)
        progress(len(to_skip))
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
        self.session.commit()
        chunks = [to_send[i : i + CLAIM_CHUNK] for i in range(0, len(to_send), CLAIM_CHUNK)]
        # The next chunk's messages are composed in a helper thread while this
        # chunk's go out: it runs while the send loop waits on SMTP replies
        # and commits (both release the GIL).
        composing = self._composer().submit(self._compose, chunks[0]) if chunks else None
        for index, chunk in enumerate(chunks):
            outgoing = composing.result()
            if index + 1 < len(chunks):
                composing = self._composer().submit(self._compose, chunks[index + 1])
            claimed = self._claim([send_ids[d.user_id] for d in chunk])
            for position, digest in enumerate(chunk):
                send_id = send_ids[digest.user_id]
                if send_id not in claimed:
                    self.report.busy += 1  # another run took it between our read and now
                    progress(1)
                    continue
                try:
                    self._deliver(
                        digest, send_id, outgoing[digest.user_id], previous.get(digest.user_id)
                    )
                except StopRun:
                    untouched = [send_ids[d.user_id] for d in chunk[position + 1 :]]
                    self._release(claimed & set(untouched))
                    raise
                progress(1)
        return None if sent_budget is None else sent_budget - len(to_send)

    def _ledger_connection(self) -> Connection:
        if self._ledger is None:
            self._ledger = self.session.get_bind().connect()
            if self.postgres:
                # Not waiting for the WAL flush: see "Durability of "sent"" above.
                # Set once for this connection (not SET LOCAL per transaction,
                # a round trip per message) and reset before it goes back to
                # the pool.
                self._ledger.execute(text("SET synchronous_commit TO OFF"))
                self._ledger.commit()
        return self._ledger

    def _close_ledger(self) -> None:
        connection, self._ledger = self._ledger, None
        if connection is None:
            return
        try:
            if self.postgres and not connection.invalidated:
                connection.rollback()
                connection.execute(text("RESET synchronous_commit"))
                connection.commit()
        finally:
            connection.close()

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
            self.session.execute(
                update(DigestSend)
                .where(DigestSend.id.in_(send_ids), DigestSend.status == "sending")
                .values(status="pending", attempts=DigestSend.attempts - 1, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            self.session.commit()

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
        claimed = set(
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
        self.session.commit()
        return claimed

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
            insert = _insert(self.session)
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

    def _set(self, send_id: int, **values) -> None:
        # Core UPDATE on the table: once per message, so skip the ORM's bookkeeping.
        sends = DigestSend.__table__
        self.session.execute(
            update(sends).where(sends.c.id == send_id).values(updated_at=utcnow(), **values)
        )

    def _deliver(
        self, digest: Digest, send_id: int, outgoing: Outgoing, previous_status: str | None
    ) -> None:
        try:
            self.transport.send(outgoing, self.sender, digest.email)
        except RecipientRefused as refusal:
            self._set(send_id, status="bounced", last_error=str(refusal)[:1000])
            self._suppress(digest, str(refusal))
            self.session.commit()
            self.report.bounced += 1
            self.report.problems.append(f"bounced: user {digest.user_id}: {refusal}")
        except TemporaryFailure as failure:
            self._set(send_id, status="failed", last_error=str(failure)[:1000])
            self.session.commit()
            self.report.failed += 1
            self.report.problems.append(f"failed: user {digest.user_id}: {failure}")
        except ConnectionLost as lost:
            self._set(send_id, status="failed", last_error=str(lost)[:1000])
            self.session.commit()
            self.report.failed += 1
            self.report.stopped = str(lost)
            self.report.problems.append(f"failed: user {digest.user_id}: {lost}")
            raise StopRun from lost
        except BaseException:
            # Anything unexpected (including Ctrl-C) leaves the row "sending":
            # the next run resends it after the lease (at-least-once).
            self.session.rollback()
            raise
        else:
            self._mark_sent(digest, send_id)
            if previous_status == "sending":
                self.report.resent += 1
            self.report.sent += 1

    def _mark_sent(self, digest: Digest, send_id: int) -> None:
        """ "sent", the ``delivered`` events and the nudges: one transaction."""
        at = utcnow()
        connection = self._ledger_connection()
        with connection.begin():
            connection.execute(
                _MARK_SENT,
                {
                    "b_id": send_id,
                    "b_at": at,
                    "b_start": digest.window_start,
                    "b_end": digest.window_end,
                    "b_count": digest.norm_count,
                },
            )
            record_deliveries(connection, [(digest.user_id, d, at) for d in digest.deliveries()])
            if digest.nudge_ids:
                # What exposure.mark_nudges_delivered does, on this connection.
                connection.execute(
                    update(Nudge.__table__)
                    .where(Nudge.id.in_(digest.nudge_ids), Nudge.delivered_at.is_(None))
                    .values(delivered_at=at)
                )

    def _suppress(self, digest: Digest, reason: str) -> None:
        insert = _insert(self.session)
        statement = insert(EmailBounce.__table__).values(
            user_id=digest.user_id, email=digest.email, reason=reason[:1000], bounced_at=utcnow()
        )
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["user_id"],
                set_={"email": digest.email, "reason": reason[:1000], "bounced_at": utcnow()},
            )
        )
