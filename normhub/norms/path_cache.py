"""Each community's path for newcomers, kept between requests until a write changes it.

Ordering a path reads every norm in force of the community, counts the words
of each text in force in SQL and follows every prerequisite link: far more work
than the pages that show a path (the reading queue, "Start here", the home page,
the digest) do with it, and a path changes only when a norm's status, title or
text in force, a prerequisite or an assumption changes. So each process keeps
the paths it built, as plain values (never ORM objects), under the version of
the community's tag ``path:<id>``; a committed write that can change a path
bumps that tag in the store every process of the machine (or of the site, with
Redis) shares: the page cache's (``normhub.pagecache.stores``).

A kept path is served only while its tag is at the version it was built at.
A path is kept only when it is certain to hold every write its version counts:

* the store bumps a tag after the write committed, so data read after the
  tag's version was read holds that write. On PostgreSQL (read committed)
  each statement sees what committed before it began: reading the version
  first is enough. On SQLite a read transaction sees the database as it was
  when the transaction began, maybe before the version was read; so the
  version of ``epoch`` (which every bump also bumps) is read as the transaction
  begins, and a path built in it is kept only if no bump came since.
* a transaction that wrote (or is about to write) what a path is built from
  neither reads nor keeps a kept path: it must see its own writes, and they
  may yet roll back.

The cache knows nothing of who may see a community: it is read only by code
that has checked that already, exactly as the database would be.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, SessionTransaction

from normhub import events
from normhub.db import written
from normhub.norms.models import Assumption, Norm, NormPrerequisite, NormVersion, norm_id_of

logger = logging.getLogger("normhub.norms.path_cache")

EXTENSION = "normhub.norms.path_cache"
# What of a norm row its community's path is built from: which norms are in force
# and which cite others (status), their order (title, created_at) and the text in force.
NORM_ON_PATH = (
    "status",
    "title",
    "created_at",
    "community_id",
    "current_version_number",
    "last_material_version_number",
    "in_force_version_number",
)
# Rows of a norm that a path reads: its texts (their words), what it builds on.
NORM_PARTS_ON_PATH = (NormVersion, Assumption, NormPrerequisite)
# session.info: the store's epoch when the SQLite transaction began (None on PostgreSQL).
_BEGUN_AT = "normhub.norms.path_cache.begun_at"
# events.transaction_value: the communities whose paths this transaction wrote to.
_WRITTEN = "normhub.norms.path_cache.written"
# Paths kept per process, least recently used out first: the busiest communities stay.
KEPT_PATHS = 256

Versions = Callable[[Sequence[str]], list[int]]
Bump = Callable[[Iterable[str]], None]


def path_tag(community_id: int) -> str:
    return f"path:{community_id}"


def communities_written(session: Session, obj) -> set[int]:
    """The communities whose path ``obj`` (new, changed or deleted) may change."""
    if isinstance(obj, Norm):
        state = inspect(obj)
        if state.pending and obj.status != "in_force":
            return set()  # a new norm counts on a path once in force; its links bump their own
        if not written(obj, NORM_ON_PATH):
            return set()
        # A norm moved between communities leaves one path and may join another.
        history = inspect(obj).attrs["community_id"].history
        return {obj.community_id, *history.deleted} - {None}
    if isinstance(obj, NORM_PARTS_ON_PATH):
        norm_id = norm_id_of(session, obj)
        norm = session.get(Norm, norm_id) if norm_id is not None else None
        if norm is None:
            return set()
        # Links count whatever the norm's status (citations, links through norms not in
        # force); texts only of norms in force (one coming into force bumps as it does).
        if isinstance(obj, NormPrerequisite) or norm.status == "in_force":
            return {norm.community_id}
    return set()


class PathCache:
    """Per-community values (the paths' plain steps) kept under their tag's version."""

    def __init__(self, versions: Versions, bump: Bump, epoch_tag: str, kept: int = KEPT_PATHS):
        self._versions = versions
        self._bump = bump
        self._epoch_tag = epoch_tag
        self._kept = kept
        self._values: OrderedDict[int, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()

    # -- following the sessions ----------------------------------------------------------

    def follow(self, sessionmaker) -> None:
        """Bump the paths each committed transaction wrote to; note when SQLite ones begin."""
        events.gather_until_commit(sessionmaker, _WRITTEN, set, self._note, self._bump_paths)
        event.listen(sessionmaker, "after_begin", self._begun)
        event.listen(sessionmaker, "after_transaction_end", self._ended)

    def _note(self, session: Session, written: set[int], obj) -> None:
        written.update(communities_written(session, obj))

    def _bump_paths(self, written: set[int]) -> None:
        if written:
            self._bump([path_tag(community_id) for community_id in written])

    def _begun(self, session: Session, _transaction, connection) -> None:
        if connection.dialect.name != "sqlite":
            session.info[_BEGUN_AT] = None
            return
        try:
            session.info[_BEGUN_AT] = self._versions([self._epoch_tag])[0]
        except Exception:  # a store that is down: nothing built in this transaction is kept
            logger.exception("Tag store unavailable; paths are built without keeping them")
            session.info.pop(_BEGUN_AT, None)

    def _ended(self, session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:
            session.info.pop(_BEGUN_AT, None)

    # -- reading -------------------------------------------------------------------------

    def values(
        self,
        session: Session,
        community_ids: Sequence[int],
        build: Callable[[Session, list[int]], dict[int, Any]],
    ) -> dict[int, Any]:
        """The value of each community: kept, or ``build(session, ids)`` for those not kept."""
        if self._writes_paths(session):
            return build(session, list(community_ids))
        names = [self._epoch_tag, *(path_tag(community_id) for community_id in community_ids)]
        try:
            epoch, *versions = self._versions(names)
        except Exception:
            logger.exception("Tag store unavailable; paths are built without keeping them")
            return build(session, list(community_ids))
        current = dict(zip(community_ids, versions, strict=True))
        found = {}
        with self._lock:
            for community_id, version in current.items():
                kept = self._values.get(community_id)
                if kept is not None and kept[0] == version:
                    self._values.move_to_end(community_id)
                    found[community_id] = kept[1]
        missing = [community_id for community_id in community_ids if community_id not in found]
        if not missing:
            return found
        built = build(session, missing)
        if self._may_keep(session, epoch):
            self._keep({key: (current[key], built[key]) for key in missing})
        return {**found, **built}

    def _writes_paths(self, session: Session) -> bool:
        """Whether this transaction wrote, or holds unflushed, what a path is built from."""
        if events.transaction_value(session, _WRITTEN):
            return True
        unflushed = (*session.new, *session.dirty, *session.deleted)
        if not unflushed:
            return False
        with session.no_autoflush:
            return any(communities_written(session, obj) for obj in unflushed)

    def _may_keep(self, session: Session, epoch: int) -> bool:
        """Whether what this transaction read holds every write counted by versions read at
        ``epoch`` (called after building, so a transaction is open)."""
        if _BEGUN_AT not in session.info:
            return False  # the store failed as the transaction began
        begun_at = session.info[_BEGUN_AT]
        return begun_at is None or begun_at == epoch

    def _keep(self, values: dict[int, tuple[int, Any]]) -> None:
        with self._lock:
            for community_id, (version, value) in values.items():
                kept = self._values.get(community_id)
                if kept is not None and kept[0] > version:
                    continue  # a newer one came meanwhile
                self._values[community_id] = (version, value)
                self._values.move_to_end(community_id)
            while len(self._values) > self._kept:
                self._values.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


def of_app() -> PathCache | None:
    """The app's path cache (None outside an app, as in a bare script)."""
    if not has_app_context():
        return None
    return current_app.extensions.get(EXTENSION)
