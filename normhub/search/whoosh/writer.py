"""Writing the Whoosh index while other processes write it too.

Several gunicorn workers (and ``flask search rebuild``) may write at once.
Whoosh allows one writer per index, guarded by a lock file. A writer here
waits for the lock for a bounded time; if it still cannot get it, or a
rebuild or merge (which hold the lock for long) is running, the ids it meant
to index go to a small queue file next to the index (see
:mod:`normhub.search.whoosh.queue`) and the next writer that gets the lock, or
the rebuild or merge when it ends, indexes them. So a request never fails or
hangs for long because of the index lock, and no update is silently dropped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from whoosh.codec.whoosh3 import W3Codec
from whoosh.index import LockError
from whoosh.reading import SegmentReader
from whoosh.writing import CLEAR, NO_MERGE

from normhub.search.whoosh.schema import open_index

logger = logging.getLogger("normhub.search")

# Bounded waits for the index lock: a normal commit holds it for milliseconds.
LOCK_TIMEOUT_SECONDS = 1.0
LOCK_POLL_SECONDS = 0.005
LOCK_ATTEMPTS = 3

# An update never merges segments: it commits one small segment and returns.
# Merging costs about as much as writing the merged documents again, so it
# runs outside requests (`flask search merge` from cron, or a background
# thread once a tier fills up; see normhub.search.whoosh.updates), tier by tier so
# each document is rewritten only a few times: segments of under 10, 100,
# 1,000 and 10,000 documents form tiers, and a tier's segments are merged into
# one when there are enough of them. Bigger segments (the one written by a
# rebuild) are left to `flask search optimize` or a rebuild.
MERGE_TIER_LIMITS = (10, 100, 1_000, 10_000)
SEGMENTS_PER_TIER = 10  # a tier this full is merged in the background

# Update segments hold a few documents, so compressing their posting blocks
# saves next to nothing and costs a zlib call per term; merges rewrite them
# with the default codec.
UPDATE_CODEC = W3Codec(compression=0)


def _tier(segment) -> int | None:
    count = segment.doc_count_all()
    for tier, limit in enumerate(MERGE_TIER_LIMITS):
        if count < limit:
            return tier
    return None


def segments_to_merge(segments, per_tier: int) -> list:
    """The segments a merge folds together: every tier holding at least ``per_tier``.

    A tier just below a merged one adds one segment to it, so a chain of
    full tiers is merged at once.
    """
    tiers: dict[int, list] = {}
    for segment in segments:
        tier = _tier(segment)
        if tier is not None:
            tiers.setdefault(tier, []).append(segment)
    chosen: list = []
    carried = False
    for tier in range(len(MERGE_TIER_LIMITS)):
        group = tiers.get(tier, [])
        if group and len(group) + carried >= per_tier:
            chosen.extend(group)
            carried = True
        else:
            carried = False
    return chosen if len(chosen) >= 2 else []


def needs_merge(segments) -> bool:
    return bool(segments_to_merge(segments, SEGMENTS_PER_TIER))


class IndexBusy(Exception):
    """The index lock stayed taken for all attempts, or a merge or rebuild holds it."""


def rebuild_marker(directory: Path) -> Path:
    """Present while ``flask search rebuild`` runs: writers queue instead of waiting."""
    directory = Path(directory)
    return directory.parent / f"{directory.name}.rebuilding"


def merge_marker(directory: Path) -> Path:
    """Present while segments are merged: writers queue instead of waiting."""
    directory = Path(directory)
    return directory.parent / f"{directory.name}.merging"


# A merge that died (its process killed) leaves its marker behind; after this
# long writers ignore it and the next merge replaces it.
MERGE_MARKER_STALE_SECONDS = 600


def merge_running(directory: Path) -> bool:
    marker = merge_marker(directory)
    try:
        age = time.time() - marker.stat().st_mtime
        pid = int(marker.read_text() or 0)
    except (FileNotFoundError, ValueError):
        return False
    if age > MERGE_MARKER_STALE_SECONDS:
        return False
    if pid:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False  # the merging process died
        except PermissionError:
            pass  # alive, another user's
    return True


def writes_postponed(directory: Path) -> bool:
    """A rebuild or merge holds the lock for long: writers should queue their ids."""
    return rebuild_marker(directory).exists() or merge_running(directory)


def acquire_writer(
    ix,
    attempts: int | None = None,
    timeout: float | None = None,
    postponed=None,
    **options,
):
    """A writer, waiting up to ``attempts * timeout`` seconds for the lock.

    ``postponed`` (a callable) is asked while waiting: once it is true the
    wait ends at once with IndexBusy (a merge or rebuild is holding the lock).
    """
    attempts = attempts or LOCK_ATTEMPTS
    timeout = timeout if timeout is not None else LOCK_TIMEOUT_SECONDS
    deadline = time.monotonic() + attempts * timeout
    tries = 0
    while True:
        tries += 1
        try:
            return ix.writer(timeout=0, **options)
        except LockError:
            pass
        if postponed is not None and postponed():
            raise IndexBusy("A merge or rebuild of the search index is running")
        if time.monotonic() >= deadline:
            raise IndexBusy(f"The search index stayed locked for {attempts * timeout:.1f} s")
        if tries % 100 == 0:
            logger.info("Search index still locked after %d tries", tries)
        time.sleep(LOCK_POLL_SECONDS)


# Readers of committed segments, by segment id, for finding the documents an
# update replaces. A segment's files never change, so they stay open between
# updates instead of being reopened by every writer; only used while holding
# the index lock, and closed once their segment is merged away.
_lookup_readers: dict[str, SegmentReader] = {}


def _lookup_reader(writer, segment) -> SegmentReader:
    key = f"{writer.storage.folder}:{segment.segment_id()}"
    reader = _lookup_readers.get(key)
    if reader is None:
        reader = _lookup_readers[key] = SegmentReader(writer.storage, writer.schema, segment)
    return reader


def _forget_lookup_readers(writer, segments) -> None:
    prefix = f"{writer.storage.folder}:"
    current = {f"{prefix}{segment.segment_id()}" for segment in segments}
    for key in [k for k in _lookup_readers if k.startswith(prefix) and k not in current]:
        with contextlib.suppress(Exception):
            _lookup_readers.pop(key).close()


def _delete_terms(writer, terms: list[tuple[str, str]]) -> None:
    """Mark deleted every committed document holding one of ``terms``."""
    offset = 0
    for segment in writer.segments:
        reader = _lookup_reader(writer, segment)
        for fieldname, value in terms:
            btext = writer.schema[fieldname].to_bytes(value)
            if (fieldname, btext) not in reader:
                continue
            matcher = reader.postings(fieldname, btext)
            # This reader may predate deletions made since: the writer's
            # segment list is the current truth, so take every posting.
            matcher = getattr(matcher, "child", matcher)
            for docnum in matcher.all_ids():
                if not segment.is_deleted(docnum):
                    writer.delete_document(offset + docnum)
        offset += segment.doc_count_all()


def write_documents(
    directory: Path,
    documents: list[dict],
    deletions: list[tuple[str, str]],
    attempts: int | None = None,
    postponed=None,
) -> list:
    """Replace ``documents`` (by id) and delete by ``(field, value)`` terms, in one commit."""
    return write_collected(
        directory, lambda: (documents, deletions), attempts=attempts, postponed=postponed
    )


def write_collected(
    directory: Path,
    collect: Callable[[], tuple[list[dict], list[tuple[str, str]]]],
    attempts: int | None = None,
    timeout: float | None = None,
    postponed=None,
) -> list:
    """Take the lock, then ask ``collect`` for ``(documents, deletions)`` and write them.

    Collecting under the lock lets the caller take the queue of postponed ids
    while no other writer can: ids are never out of the queue and unwritten
    while the lock is free. Never merges segments (see MERGE_TIER_LIMITS);
    returns the committed segment list so the caller can tell whether a merge
    is due.
    """
    ix = open_index(directory)
    writer = acquire_writer(
        ix,
        attempts=attempts,
        timeout=timeout,
        postponed=postponed,
        codec=UPDATE_CODEC,
        compound=False,
    )
    try:
        documents, deletions = collect()
        _delete_terms(writer, [*deletions, *(("id", d["id"]) for d in documents)])
        for document in documents:
            writer.add_document(**document)
        segments = list(writer.segments)
        writer.commit(mergetype=NO_MERGE)
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        raise
    if documents:
        segments.append(writer.newsegment)
    _forget_lookup_readers(writer, segments)
    return segments


def merge_segments(directory: Path, per_tier: int = 2) -> int:
    """Merge every tier holding ``per_tier`` segments or more; returns how many were merged.

    Holds the index lock for as long as the merge takes: callers put up the
    merge marker first so writers queue meanwhile instead of waiting.
    """
    ix = open_index(directory)
    writer = acquire_writer(ix, attempts=30, compound=False)
    chosen = segments_to_merge(writer.segments, per_tier)
    if not chosen:
        writer.cancel()
        return 0

    def fold_chosen(writer, segments):
        for segment in chosen:
            reader = SegmentReader(writer.storage, writer.schema, segment)
            writer.add_reader(reader)
            reader.close()
        return [s for s in segments if s not in chosen]

    try:
        writer.commit(mergetype=fold_chosen)
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        raise
    return len(chosen)


def bulk_writer(ix, limitmb: int = 256):
    """A writer for filling an index in one go (rebuilds and benchmarks)."""
    writer = acquire_writer(ix, attempts=30)
    writer.limitmb = limitmb
    # Separate files, not one compound file: every later update opens a
    # reader on this big segment (to delete the old copy of a document), and
    # opening a sub-file of a large compound file costs milliseconds each time.
    writer.compound = False
    return writer


def commit_replacing_everything(writer) -> None:
    """Commit so the new documents are the whole index; readers switch atomically."""
    writer.commit(mergetype=CLEAR, optimize=True)
