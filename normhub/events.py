"""Domain events: how one feature reacts to another's change without importing it.

A producer announces what happened with :func:`publish`; it never imports
who listens. There are two kinds of subscriber, and the difference matters:

* **In the transaction** (``Event.in_transaction.connect``): called at once,
  inside the producer's transaction, with the same ``session`` as sender.
  What it writes commits or rolls back with the change that caused it, and an
  exception it raises aborts that change. The exposure ledger recording a
  response is one: a response without its ledger entry must not exist.

* **After commit** (``Event.after_commit.connect``): called once the
  transaction has committed *and* the session has given its connection back to
  the pool, never if it rolled back. Search indexing, notifications and mail
  are of this kind. They must open their own session if they need the
  database (holding the request's connection while taking a second one
  deadlocked the pool under threaded servers), and an exception they raise is
  logged, never raised into the caller: the change they follow already stands.

Events are blinker signals (blinker ships with Flask): named, weakly
referenced receivers, and a sender argument that carries the session. The
names form a tree after what happened, as ``events.Norm.Revised``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from blinker import Namespace, Signal
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

logger = logging.getLogger("normhub.events")

_signals = Namespace()
_PENDING = "normhub.events.after_commit"  # queued in the open transaction
_COMMITTED = "normhub.events.committed"  # committed, waiting for the connection to go back
_SCOPED = "normhub.events.transaction_values"


@dataclass(frozen=True)
class Event:
    name: str
    doc: str
    in_transaction: Signal = field(init=False, repr=False, compare=False)
    after_commit: Signal = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "in_transaction", _signals.signal(self.name))
        object.__setattr__(self, "after_commit", _signals.signal(f"{self.name}:after-commit"))


class Account:
    PasswordChanged = Event(
        "account.password-changed",
        "user: the password was changed or reset; what the old one opened must close",
    )
    Deleting = Event(
        "account.deleting",
        "user, remove_writing: the owner is deleting the account; each feature erases "
        "what names them (and, with remove_writing, what they wrote) or raises to refuse",
    )


class Norm:
    Proposed = Event("norm.proposed", "norm, author: a norm was created (as a draft or open)")
    Revised = Event("norm.revised", "norm, version, material: a new version was saved")
    StatusChanging = Event(
        "norm.status-changing",
        "norm, new_status, actor: about to change; a receiver may raise to refuse it",
    )
    StatusChanged = Event("norm.status-changed", "norm, old_status, new_status, actor")
    Opened = Event("norm.opened", "norm, viewer: a logged-in person has the norm page open")


class Response:
    Recorded = Event("response.recorded", "response, norm, version, user")


class Comment:
    Posted = Event("comment.posted", "comment: a new comment or reply")


class Exposure:
    CheckRecorded = Event(
        "exposure.check-recorded",
        "checker_id, subject_id, norm_id, checked_at: someone asked what a member has seen",
    )
    NudgeQueued = Event(
        "exposure.nudge-queued", "norm, steward, nudges: reminders for members to read it"
    )
    ReminderRecorded = Event(
        "exposure.reminder-recorded",
        "reminder, norm, sender, recipient: a member reminded another, whom the check had "
        "found exposed, of a norm",
    )
    NormShared = Event(
        "exposure.norm-shared",
        "reminder, norm, sender, recipient: a member shared a norm (and what changed) with "
        "another who had not read its current text; the ledger records it delivered",
    )


class Review:
    Opened = Event(
        "review.opened",
        "review, norm, asked: a norm in force is up for review; ``asked`` are the ids of "
        "the members who had responded to it",
    )
    Answered = Event(
        "review.answered", "review, norm, answer, user, first: a member answered a review"
    )
    Decided = Event(
        "review.decided",
        "review, norm, actor, answerer_ids: the author or a steward recorded kept, revise or "
        "retire",
    )


class Member:
    Joined = Event("member.joined", "membership")
    Left = Event("member.left", "membership")


def publish(session: Session, event: Event, **facts) -> None:
    """Announce ``event``: in-transaction receivers run now, the others after commit."""
    event.in_transaction.send(session, **facts)
    if event.after_commit.receivers:
        call_after_commit(session, event.after_commit.send, None, **facts)


def publish_committed(event: Event, **facts) -> None:
    """Announce a change that already committed on its own (an autocommit write).

    There is no transaction left to join, so only after-commit receivers run,
    at once. The API's exposure check records this way.
    """
    if event.after_commit.receivers:
        event.after_commit.send(None, **facts)


def call_after_commit(session: Session, function: Callable, *args, **kwargs) -> None:
    """Run ``function(*args, **kwargs)`` once this transaction commits and its connection is free.

    Dropped if the transaction rolls back. For the mail queue and any other
    work that must follow a commit without holding the committing connection.
    """
    session.info.setdefault(_PENDING, []).append((function, args, kwargs))


def transaction_value(session: Session, key: str, create: Callable[[], Any] | None = None) -> Any:
    """A value that lives as long as the session's outermost transaction.

    ``create()`` makes it on first use (without ``create``, None until then);
    it is dropped when that transaction ends, committed or not. For state a
    subscriber gathers across the flushes of one transaction (the search
    index's touched ids).
    """
    values = session.info.setdefault(_SCOPED, {})
    if key not in values:
        if create is None:
            return None
        values[key] = create()
    return values[key]


def gather_until_commit(
    sessionmaker,
    key: str,
    start: Callable[[], Any],
    note: Callable[[Session, Any, object], None],
    after_commit: Callable[[Any], None],
) -> None:
    """Gather what a transaction writes across its flushes, and act on it once it commits.

    For each transaction of ``sessionmaker``'s sessions that writes anything, one
    value ``start()`` (kept under ``key``, see :func:`transaction_value`) hears
    ``note(session, value, obj)`` for every object a flush wrote, new, changed
    or deleted; ``after_commit(value)`` runs once the transaction has committed
    and given its connection back (:func:`call_after_commit`). A rolled-back
    transaction drops the value. The search index's touched ids and the page
    cache's touched tags are both gathered this way.
    """

    def start_gathering(session: Session) -> Any:
        value = start()
        call_after_commit(session, after_commit, value)
        return value

    def gather(session: Session, _flush_context) -> None:
        written = (*session.new, *session.dirty, *session.deleted)
        if not written:
            return
        value = transaction_value(session, key, lambda: start_gathering(session))
        with session.no_autoflush:
            for obj in written:
                note(session, value, obj)

    sa_event.listen(sessionmaker, "after_flush", gather)


@sa_event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    # A released savepoint is reported as a commit too; only the outermost
    # commit makes the changes visible to other sessions.
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.info.setdefault(_COMMITTED, []).extend(pending)


@sa_event.listens_for(Session, "after_transaction_end")
def _connection_released(session: Session, transaction: SessionTransaction) -> None:
    # SQLAlchemy ends the outermost transaction after giving its connection
    # back to the pool, so work run here never holds two pooled connections.
    if transaction.parent is not None:
        return
    # Work queued by a transaction that ended without committing is dropped.
    session.info.pop(_PENDING, None)
    session.info.pop(_SCOPED, None)
    committed = session.info.pop(_COMMITTED, None)
    for function, args, kwargs in committed or ():
        try:
            function(*args, **kwargs)
        except Exception:
            logger.exception("After-commit work %r failed; the committed change stands", function)
