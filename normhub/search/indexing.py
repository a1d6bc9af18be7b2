"""Keeping the search index in step with the database.

Session events collect which norms and comments a transaction touched
(``after_flush``) and index exactly those once the transaction has committed
(``after_commit``), re-reading them in a fresh session. A rolled-back
transaction indexes nothing. Indexing never raises into the caller: the
database write stands, the failure is logged, and the ids go to the on-disk
queue so the next successful write (or ``flask search rebuild``) repairs it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, joinedload, selectinload

from normhub import db, events
from normhub.accounts.models import User
from normhub.discussion.models import Comment
from normhub.markdown import plain_text
from normhub.norms.models import Norm, NormTag, NormVersion, StatusChange
from normhub.search import queue
from normhub.search.queue import PendingIds
from normhub.search.schema import (
    SEGMENTS_PER_TIER,
    IndexBusy,
    bulk_writer,
    commit_replacing_everything,
    index_dir,
    merge_marker,
    merge_running,
    merge_segments,
    needs_merge,
    open_index,
    rebuild_marker,
    recreate_index,
    write_documents,
    writes_postponed,
)

logger = logging.getLogger("normhub.search")

PENDING_KEY = "normhub.search.pending"
NORM_CHILDREN = (NormVersion, NormTag, StatusChange)


# --- documents ---------------------------------------------------------------


def norm_document(norm: Norm) -> dict:
    version = norm.current_version
    assumptions = version.assumptions if version is not None else []
    assumption_text = "\n".join(
        " ".join(part for part in (a.statement, plain_text(a.explanation)) if part)
        for a in assumptions
    )
    body = plain_text(version.body) if version is not None else ""
    title, summary = norm.title, norm.summary
    return {
        "id": f"norm:{norm.id}",
        "kind": "norm",
        "norm_id": str(norm.id),
        "title": title,
        "summary": summary,
        "body": body,
        "assumptions": assumption_text,
        "tag": ",".join(norm.tag_names),
        "status": norm.status,
        "community": norm.community.slug,
        "community_id": str(norm.community_id),
        "author": norm.author.display_name,
        "norm_title": title,
        "norm_slug": norm.slug,
        "created": norm.created_at,
        "updated": version.created_at if version is not None else norm.created_at,
        "spell": spelling_text(title, summary, assumption_text),
    }


def spelling_text(*parts: str) -> str:
    """Words offered as "did you mean" suggestions: a norm's title, summary and assumptions.

    Not essays and comments: they would double the terms every update writes,
    and the words people search for are the ones titles and summaries use.
    """
    return "\n".join(part for part in parts if part)


def comment_document(comment: Comment) -> dict:
    norm = comment.norm
    body = plain_text(comment.body)
    return {
        "id": f"comment:{comment.id}",
        "kind": "comment",
        "norm_id": str(norm.id),
        "comment_id": comment.id,
        "body": body,
        "community": norm.community.slug,
        "community_id": str(norm.community_id),
        "author": comment.author.display_name,
        "norm_title": norm.title,
        "norm_slug": norm.slug,
        "created": comment.created_at,
        "updated": comment.edited_at or comment.created_at,
    }


def _norm_query():
    # One row per norm with its community, author and version joined in (each
    # a single row); tags and assumptions are lists, loaded by one query each.
    return select(Norm).options(
        joinedload(Norm.community),
        joinedload(Norm.author),
        selectinload(Norm.tags),
        joinedload(Norm.current_version).selectinload(NormVersion.assumptions),
    )


def _comment_query():
    return select(Comment).options(
        joinedload(Comment.author),
        joinedload(Comment.norm).joinedload(Norm.community),
    )


def collect_documents(
    session: Session, pending: PendingIds
) -> tuple[list[dict], list[tuple[str, str]]]:
    """Documents to (re)write and terms to delete for ``pending``, read from the database."""
    norm_ids, comment_ids = set(pending.norms), set(pending.comments)
    if pending.users:
        user_ids = sorted(pending.users)
        norm_ids |= set(session.scalars(select(Norm.id).where(Norm.author_id.in_(user_ids))))
        comment_ids |= set(
            session.scalars(select(Comment.id).where(Comment.author_id.in_(user_ids)))
        )
    documents: list[dict] = []
    deletions: list[tuple[str, str]] = []
    found_norms: set[int] = set()
    for chunk in _chunks(sorted(norm_ids), 500):
        for norm in session.scalars(_norm_query().where(Norm.id.in_(chunk))):
            documents.append(norm_document(norm))
            found_norms.add(norm.id)
    for norm_id in norm_ids - found_norms:
        # Deleted norm: its comments went with it (ON DELETE CASCADE).
        deletions.append(("id", f"norm:{norm_id}"))
        deletions.append(("norm_id", str(norm_id)))
    found_comments: set[int] = set()
    for chunk in _chunks(sorted(comment_ids), 500):
        for comment in session.scalars(_comment_query().where(Comment.id.in_(chunk))):
            found_comments.add(comment.id)
            if comment.is_hidden:
                deletions.append(("id", f"comment:{comment.id}"))
            else:
                documents.append(comment_document(comment))
    for comment_id in comment_ids - found_comments:
        deletions.append(("id", f"comment:{comment_id}"))
    return documents, deletions


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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

    def index_committed(pending: PendingIds) -> None:
        if pending and app.config.get("SEARCH_INDEXING", True):
            index_pending(app, pending)

    def start_collecting(session: Session) -> PendingIds:
        pending = PendingIds()
        events.call_after_commit(session, index_committed, pending)
        return pending

    def collect(session: Session, _flush_context) -> None:
        changed = (*session.new, *session.dirty, *session.deleted)
        if not changed:
            return
        pending = events.transaction_value(session, PENDING_KEY, lambda: start_collecting(session))
        for obj in changed:
            _note_object(pending, obj)

    event.listen(sessionmaker, "after_flush", collect)


def _read_session(app) -> Session:
    """A fresh session whose SQLite transactions begin deferred (read-only work)."""
    return app.extensions["normhub.sessionmaker"](info={"normhub.search.reader": True})


def index_pending(app, pending: PendingIds) -> bool:
    """Index ``pending`` plus anything queued earlier. Never raises; True if written."""
    directory = index_dir(app)
    work = PendingIds()
    work.update(pending)
    try:
        if writes_postponed(directory):
            # A rebuild or merge holds the lock for a while and drains the queue when done.
            return _postpone(app, directory, work)
        work.update(queue.take(directory))
        previous_intent = db._sqlite_immediate.get()
        db.set_write_intent(False)
        try:
            session = _read_session(app)
            try:
                documents, deletions = collect_documents(session, work)
            finally:
                session.close()
        finally:
            db.set_write_intent(previous_intent)
        segments = write_documents(
            directory, documents, deletions, postponed=lambda: writes_postponed(directory)
        )
        if background_merging(app) and needs_merge(segments):
            start_background_merge(app)
        return True
    except IndexBusy:
        if writes_postponed(directory):
            return _postpone(app, directory, work)
        logger.warning("Search index busy; queued %s for later indexing", work.as_json()[:200])
        _queue_quietly(directory, work)
    except Exception:
        logger.exception("Search indexing failed; the database change stands and is queued")
        _queue_quietly(directory, work)
    return False


def _postpone(app, directory: Path, work: PendingIds) -> bool:
    """Leave ``work`` in the queue for the rebuild or merge running now to apply."""
    _queue_quietly(directory, work)
    # It may have finished, and drained the queue, between our look and the add.
    if not writes_postponed(directory):
        process_queue(app)
    return False


def _queue_quietly(directory: Path, work: PendingIds) -> None:
    try:
        queue.add(directory, work)
    except Exception:
        logger.exception("Could not queue search ids; run `flask search rebuild`")


def process_queue(app) -> int:
    """Index everything in the queue now; returns how many ids were taken."""
    taken = queue.take(index_dir(app))
    count = len(taken.norms) + len(taken.comments) + len(taken.users)
    if taken:
        index_pending(app, taken)
    return count


# --- rebuilding --------------------------------------------------------------


def count_sources(session: Session) -> int:
    from sqlalchemy import func

    norms = session.scalar(select(func.count(Norm.id))) or 0
    comments = session.scalar(select(func.count(Comment.id)).where(Comment.hidden_at.is_(None)))
    return norms + (comments or 0)


def iter_all_documents(session: Session, batch_size: int = 500) -> Iterator[dict]:
    """Every indexable document, read in id-ordered batches (bounded memory)."""
    last_id = 0
    while True:
        norms = list(
            session.scalars(
                _norm_query().where(Norm.id > last_id).order_by(Norm.id).limit(batch_size)
            )
        )
        if not norms:
            break
        for norm in norms:
            yield norm_document(norm)
        last_id = norms[-1].id
        session.expunge_all()
    last_id = 0
    while True:
        comments = list(
            session.scalars(
                _comment_query()
                .where(Comment.id > last_id, Comment.hidden_at.is_(None))
                .order_by(Comment.id)
                .limit(batch_size)
            )
        )
        if not comments:
            break
        for comment in comments:
            yield comment_document(comment)
        last_id = comments[-1].id
        session.expunge_all()


def rebuild(app, batch_size: int = 500, progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole index from the database; returns the number of documents.

    One writer holds the lock throughout and commits with mergetype CLEAR, so
    searches keep seeing the old index until the new one is complete and then
    switch at once. Writes by other processes meanwhile go to the queue
    (they see the marker file) and are applied right after.
    """
    directory = index_dir(app)
    directory.mkdir(parents=True, exist_ok=True)
    marker = rebuild_marker(directory)
    marker.touch()
    try:
        ix = open_index(directory)
        if ix is None:
            ix = recreate_index(directory)
        writer = bulk_writer(ix)
        count = 0
        try:
            previous_intent = db._sqlite_immediate.get()
            db.set_write_intent(False)
            session = _read_session(app)
            try:
                for document in iter_all_documents(session, batch_size):
                    writer.add_document(**document)
                    count += 1
                    if progress is not None:
                        progress(1)
            finally:
                session.close()
                db.set_write_intent(previous_intent)
        except BaseException:
            writer.cancel()
            raise
        commit_replacing_everything(writer)
    finally:
        marker.unlink(missing_ok=True)
    # Changes committed while the rebuild ran were queued: apply them now.
    process_queue(app)
    return count


def optimize(app) -> None:
    """Fold every segment into one; writes meanwhile are queued, as during a merge."""
    directory = index_dir(app)
    while not _put_up_merge_marker(directory):
        time.sleep(0.5)  # a merge is running: let it end
    with _merge_marker_held(app, directory):
        bulk_writer(open_index(directory)).commit(optimize=True)


# --- merging -------------------------------------------------------------------------


def background_merging(app) -> bool:
    """Whether a full tier is merged by a thread of this process (off under tests by default)."""
    return app.config.get("SEARCH_BACKGROUND_MERGE", not app.testing)


def merge(app, per_tier: int = 2) -> int:
    """Merge the tiers of small segments holding ``per_tier`` or more; returns how many.

    Writers queue their ids while the marker is up instead of waiting for the
    lock, and the queue is applied right after, so no request waits for a
    merge. Returns 0 if another merge is running.
    """
    directory = index_dir(app)
    if not _put_up_merge_marker(directory):
        return 0
    with _merge_marker_held(app, directory):
        return merge_segments(directory, per_tier)


@contextmanager
def _merge_marker_held(app, directory: Path):
    """Until the body ends (marker already up), writers queue their ids; then they are applied."""
    try:
        yield
    finally:
        merge_marker(directory).unlink(missing_ok=True)
        process_queue(app)


def _put_up_merge_marker(directory: Path) -> bool:
    marker = merge_marker(directory)
    marker.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if merge_running(directory):
                return False
            marker.unlink(missing_ok=True)  # left by a merge that died
            continue
        with os.fdopen(fd, "w") as handle:
            handle.write(str(os.getpid()))
        return True
    return False


_merge_thread: threading.Thread | None = None
_merge_thread_lock = threading.Lock()


def start_background_merge(app) -> None:
    """Merge full tiers in a thread of this process, unless one is running already.

    Not a daemon thread: a worker that exits finishes the merge (and applies
    the ids queued meanwhile) first.
    """
    global _merge_thread
    with _merge_thread_lock:
        if _merge_thread is not None and _merge_thread.is_alive():
            return
        _merge_thread = threading.Thread(
            target=_merge_quietly, args=(app,), name="normhub-search-merge"
        )
        _merge_thread.start()


def wait_for_background_merge(timeout: float | None = None) -> None:
    thread = _merge_thread
    if thread is not None:
        thread.join(timeout)


def _merge_quietly(app) -> None:
    try:
        merge(app, per_tier=SEGMENTS_PER_TIER)
    except Exception:
        logger.exception("Background merge of search segments failed")


def index_stats(app) -> dict:
    directory = index_dir(app)
    ix = open_index(directory, create=False)
    pending = queue.peek(directory)
    if ix is None:
        return {"exists": False, "documents": 0, "segments": 0, "pending": pending}
    with ix.searcher() as searcher:
        documents = searcher.doc_count()
    return {
        "exists": True,
        "documents": documents,
        "segments": len(ix._segments()),
        "pending": pending,
    }


def ids_of(objects: Iterable) -> PendingIds:
    """Pending ids for some model objects (used by tests and the benchmark)."""
    pending = PendingIds()
    for obj in objects:
        _note_object(pending, obj)
    return pending
