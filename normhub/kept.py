"""Values built from the database, kept in this process until a write changes them.

Some things a page shows cost far more to work out than the page does with them, and
change far less often than they are read: a community's path for newcomers, a norm's
response tallies. Each is kept as a plain value (never ORM objects) under the version
of a tag (``path:3``, ``tallies:12``); a committed write that can change it bumps that
tag in the store every process of the machine (or of the site, with Redis) shares: the
page cache's (``normhub.pagecache.stores``), which hands its ``versions`` and ``bump``
to each cache it sets up.

A kept value is served only while its tag is at the version it was built at. A value is
kept only when it is certain to hold every write its version counts:

* the store bumps a tag after the write committed, so data read after the tag's version
  was read holds that write. On PostgreSQL (read committed) each statement sees what
  committed before it began: reading the version first is enough. On SQLite a read
  transaction sees the database as it was when the transaction began, maybe before the
  version was read; so the version of ``epoch`` (which every bump also bumps) is read as
  the transaction begins, and a value built in it is kept only if no bump came since.
* a transaction that wrote (or is about to write) what a value is built from neither
  reads nor keeps a kept value: it must see its own writes, and they may yet roll back.

A cache knows nothing of who may see what it keeps: it is read only by code that has
checked that already, exactly as the database would be.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from normhub import events

logger = logging.getLogger("normhub.kept")

Versions = Callable[[Sequence[str]], list[int]]
Bump = Callable[[Iterable[str]], None]
# The tags whose values ``obj`` (new, changed or deleted in ``session``) may change.
TagsWritten = Callable[[Session, object], set[str]]


class KeptValues:
    """Values by key, each kept under the version of its key's tag (``tag_of(key)``)."""

    def __init__(
        self,
        name: str,
        tag_of: Callable[[Hashable], str],
        tags_written: TagsWritten,
        versions: Versions,
        bump: Bump,
        epoch_tag: str,
        kept: int = 256,
    ):
        self.name = name
        self._tag_of = tag_of
        self._tags_written = tags_written
        self._versions = versions
        self._bump = bump
        self._epoch_tag = epoch_tag
        self._kept = kept  # values per process, least recently used out first
        self._values: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()
        # session.info: the store's epoch when the SQLite transaction began (None on PostgreSQL).
        self._begun_at = f"normhub.kept.{name}.begun_at"
        # events.transaction_value: the tags this transaction wrote to.
        self._written = f"normhub.kept.{name}.written"

    # -- following the sessions ----------------------------------------------------------

    def follow(self, sessionmaker) -> None:
        """Bump the tags each committed transaction wrote to; note when SQLite ones begin."""
        events.gather_until_commit(sessionmaker, self._written, set, self._note, self._bump_tags)
        event.listen(sessionmaker, "after_begin", self._begun)
        event.listen(sessionmaker, "after_transaction_end", self._ended)

    def _note(self, session: Session, written: set[str], obj) -> None:
        written.update(self._tags_written(session, obj))

    def _bump_tags(self, written: set[str]) -> None:
        if written:
            self._bump(written)

    def _begun(self, session: Session, _transaction, connection) -> None:
        if connection.dialect.name != "sqlite":
            session.info[self._begun_at] = None
            return
        try:
            session.info[self._begun_at] = self._versions([self._epoch_tag])[0]
        except Exception:  # a store that is down: nothing built in this transaction is kept
            logger.exception("Tag store unavailable; %s are built without keeping them", self.name)
            session.info.pop(self._begun_at, None)

    def _ended(self, session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:
            session.info.pop(self._begun_at, None)

    # -- reading -------------------------------------------------------------------------

    def values(
        self,
        session: Session,
        keys: Sequence[Hashable],
        build: Callable[[Session, list], dict[Hashable, Any]],
    ) -> dict[Hashable, Any]:
        """The value of each key: kept, or ``build(session, keys)`` for those not kept."""
        if self._writes_values(session):
            return build(session, list(keys))
        names = [self._epoch_tag, *(self._tag_of(key) for key in keys)]
        try:
            epoch, *versions = self._versions(names)
        except Exception:
            logger.exception("Tag store unavailable; %s are built without keeping them", self.name)
            return build(session, list(keys))
        current = dict(zip(keys, versions, strict=True))
        found = {}
        with self._lock:
            for key, version in current.items():
                kept = self._values.get(key)
                if kept is not None and kept[0] == version:
                    self._values.move_to_end(key)
                    found[key] = kept[1]
        missing = [key for key in keys if key not in found]
        if not missing:
            return found
        built = build(session, missing)
        if self._may_keep(session, epoch):
            self._keep({key: (current[key], built[key]) for key in missing})
        return {**found, **built}

    def _writes_values(self, session: Session) -> bool:
        """Whether this transaction wrote, or holds unflushed, what a value is built from."""
        if events.transaction_value(session, self._written):
            return True
        unflushed = (*session.new, *session.dirty, *session.deleted)
        if not unflushed:
            return False
        with session.no_autoflush:
            return any(self._tags_written(session, obj) for obj in unflushed)

    def _may_keep(self, session: Session, epoch: int) -> bool:
        """Whether what this transaction read holds every write counted by versions read at
        ``epoch`` (called after building, so a transaction is open)."""
        if self._begun_at not in session.info:
            return False  # the store failed as the transaction began
        begun_at = session.info[self._begun_at]
        return begun_at is None or begun_at == epoch

    def _keep(self, values: dict[Hashable, tuple[int, Any]]) -> None:
        with self._lock:
            for key, (version, value) in values.items():
                kept = self._values.get(key)
                if kept is not None and kept[0] > version:
                    continue  # a newer one came meanwhile
                self._values[key] = (version, value)
                self._values.move_to_end(key)
            while len(self._values) > self._kept:
                self._values.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


def kept_or_built(
    extension: str,
    session: Session,
    keys: Sequence[Hashable],
    build: Callable[[Session, list], dict[Hashable, Any]],
) -> dict[Hashable, Any]:
    """``build(session, keys)``, through the app's cache set up under ``extension`` when
    there is one (outside an app, as in a bare script, there is none)."""
    cache = current_app.extensions.get(extension) if has_app_context() else None
    return build(session, list(keys)) if cache is None else cache.values(session, keys, build)
