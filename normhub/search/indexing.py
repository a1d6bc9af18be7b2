"""Keeping the search index in step with the database.

Session events collect which norms and comments a transaction touched
(``after_flush``). A backend that keeps its documents in the database
(PostgreSQL) writes them just before the commit, in the same transaction
(``before_commit``), so every app server sees them as soon as the change is
committed. Otherwise, or if that failed, the ids go to the backend once the
transaction has committed (``after_commit``), which re-reads them in a fresh
session. A rolled-back transaction indexes nothing. Indexing never raises
into the caller: the database write stands (see ``SearchBackend.index``).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from normhub import events
from normhub.accounts.models import User
from normhub.discussion.models import Comment
from normhub.norms.models import Norm, NormTag, NormVersion, StatusChange
from normhub.search.backend import backend_for
from normhub.search.documents import PendingIds

logger = logging.getLogger("normhub.search")

PENDING_KEY = "normhub.search.pending"
NORM_CHILDREN = (NormVersion, NormTag, StatusChange)


# --- following the database -----------------------------------------------


def _note_object(pending: PendingIds, obj) -> None:
    if isinstance(obj, Norm):
        if obj.id is not None:
            pending.norms.add(obj.id)
    elif isinstance(obj, NORM_CHILDREN):
        if obj.norm_id is not None:
            pending.norms.add(obj.norm_id)
    elif isinstance(obj, Comment):
        if obj.id is not None:
            pending.comments.add(obj.id)
    elif isinstance(obj, User):
        # A new name changes the author shown on everything they wrote.
        state = inspect(obj)
        if not state.pending and state.attrs.display_name.history.has_changes():
            pending.users.add(obj.id)


def register(app) -> None:
    """Index what each committed transaction of this app's sessions touched.

    The ids are gathered across the transaction's flushes and indexed by
    after-commit work (``normhub.events``): it runs once the session has
    given its connection back, and reads in a session of its own. A
    rolled-back transaction drops both. A savepoint rolled back leaves the
    ids it touched: indexing an id whose change was undone rewrites it as is.
    """
    sessionmaker = app.extensions["normhub.sessionmaker"]
    # SQLAlchemy keeps these listeners in a global registry keyed by the sessionmaker's
    # class, which the app holds: a strong reference to the app from them would keep
    # every app (and its engines) alive for good, one per test in the suite.
    app_ref = weakref.ref(app)

    def index_committed(pending: PendingIds) -> None:
        app = app_ref()
        if app is not None and pending and app.config.get("SEARCH_INDEXING", True):
            index_pending(app, pending)

    def write_before_commit(session: Session) -> None:
        app = app_ref()
        if app is None or not app.config.get("SEARCH_INDEXING", True):
            return
        if session.in_nested_transaction():
            return
        backend = backend_for(app)
        if not backend.indexes_in_transaction:
            return
        session.flush()  # the commit's own flush comes after this hook
        pending = events.transaction_value(session, PENDING_KEY)
        if pending and backend.index_within(session, pending):
            pending.clear()  # nothing left for after the commit

    events.gather_until_commit(
        sessionmaker,
        PENDING_KEY,
        PendingIds,
        lambda _session, pending, obj: _note_object(pending, obj),
        index_committed,
    )
    event.listen(sessionmaker, "before_commit", write_before_commit)


def index_pending(app, pending: PendingIds) -> bool:
    """Index ``pending`` (and whatever the backend postponed before). Never raises."""
    return backend_for(app).index(pending)


def ids_of(objects: Iterable) -> PendingIds:
    """Pending ids for some model objects (used by tests and the benchmark)."""
    pending = PendingIds()
    for obj in objects:
        _note_object(pending, obj)
    return pending
