"""Keeping the Whoosh index in step: updates, the queue of postponed ids, rebuilds, merges.

Indexing never raises into the caller: the database write stands, the failure
is logged, and the ids go to the on-disk queue so the next successful write
(or ``flask search rebuild``) repairs it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

from normhub.search.documents import (
    DocumentChanges,
    IndexStats,
    PendingIds,
    collect_documents,
    iter_all_documents,
    read_session,
)
from normhub.search.whoosh import queue
from normhub.search.whoosh.schema import index_dir, open_index, recreate_index
from normhub.search.whoosh.writer import (
    SEGMENTS_PER_TIER,
    IndexBusy,
    bulk_writer,
    commit_replacing_everything,
    merge_marker,
    merge_running,
    merge_segments,
    needs_merge,
    rebuild_marker,
    write_collected,
    write_documents,
    writes_postponed,
)

logger = logging.getLogger("normhub.search")


def deletion_terms(removed: Iterable[str]) -> list[tuple[str, str]]:
    """The index terms whose documents go when the documents ``removed`` go."""
    terms = []
    for document_id in removed:
        terms.append(("id", document_id))
        kind, _, number = document_id.partition(":")
        if kind == "norm":
            terms.append(("norm_id", number))  # and the norm's comments
    return terms


def write_changes(directory: Path, changes: DocumentChanges, postponed=None) -> list:
    return write_documents(
        directory, changes.documents, deletion_terms(changes.removed), postponed=postponed
    )


def index_pending(app, pending: PendingIds) -> bool:
    """Index ``pending`` plus anything queued earlier. Never raises; True if written."""
    directory = index_dir(app)
    work = PendingIds()
    work.update(pending)
    try:
        if writes_postponed(directory):
            # A rebuild or merge holds the lock for a while and drains the queue when done.
            return _postpone(app, directory, work)
        _write_with_queue(app, directory, work)
        return True
    except IndexBusy:
        if writes_postponed(directory):
            return _postpone(app, directory, work)
        logger.warning("Search index busy; queued %s for later indexing", work.as_json()[:200])
        _queue_quietly(directory, work)
        _drain_if_unlocked(app, directory)
    except Exception:
        logger.exception("Search indexing failed; the database change stands and is queued")
        _queue_quietly(directory, work)
    return False


def _write_with_queue(app, directory: Path, work: PendingIds, lock_timeout=None) -> None:
    """Write ``work`` and everything queued, until the queue is found empty.

    The queue is taken only once the lock is held, and looked at again after
    each commit. A writer that gave up on the lock queues its ids and then
    tries the lock once more: either it gets the lock and writes them, or the
    writer holding it looks at the queue after releasing it and finds them.
    So queued ids never wait for an unrelated later write.
    """
    while True:

        def collect():
            work.update(queue.take(directory))
            with read_session(app) as session:
                changes = collect_documents(session, work)
            return changes.documents, deletion_terms(changes.removed)

        segments = write_collected(
            directory,
            collect,
            attempts=1 if lock_timeout is not None else None,
            timeout=lock_timeout,
            postponed=lambda: writes_postponed(directory),
        )
        if background_merging(app) and needs_merge(segments):
            start_background_merge(app)
        work.clear()  # in place: the caller queues this same object if a write fails
        if queue.is_empty(directory):
            return


def _drain_if_unlocked(app, directory: Path) -> None:
    work = PendingIds()
    try:
        _write_with_queue(app, directory, work, lock_timeout=0)
    except IndexBusy:
        pass  # the writer holding the lock looks at the queue once it is done
    except Exception:
        logger.exception("Search indexing failed; the ids stay queued")
        _queue_quietly(directory, work)


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
            with read_session(app) as session:
                for document in iter_all_documents(session, batch_size):
                    writer.add_document(**document)
                    count += 1
                    if progress is not None:
                        progress(1)
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


def index_stats(app) -> IndexStats:
    directory = index_dir(app)
    ix = open_index(directory, create=False)
    pending = queue.peek(directory)
    if ix is None:
        return IndexStats(exists=False, documents=0, segments=0, pending=pending)
    with ix.searcher() as searcher:
        documents = searcher.doc_count()
    return IndexStats(
        exists=True, documents=documents, segments=len(ix._segments()), pending=pending
    )
