"""The Whoosh index: schema, opening, and a writer that copes with other processes.

All Whoosh usage stays inside ``normhub.search``: whoosh-reloaded is a community
fork of a library whose original stopped at 2.7.4, so if it ever has to be
replaced only this package changes.

Several gunicorn workers (and ``flask search rebuild``) may write at once.
Whoosh allows one writer per index, guarded by a lock file. A writer here
waits for the lock for a bounded time and retries; if it still cannot get it,
the ids it meant to index go to a small queue file next to the index (see
:mod:`normhub.search.queue`) and the next writer that gets the lock, or the
next rebuild, indexes them. So a request never fails or hangs for long because
of the index lock, and no update is silently dropped.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.analysis import (
    LowercaseFilter,
    RegexTokenizer,
    StandardAnalyzer,
    StemmingAnalyzer,
    StopFilter,
)
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.index import LockError
from whoosh.writing import CLEAR

logger = logging.getLogger("normhub.search")

# Text fields are stemmed, so "assumption" finds "assumptions" and "assumed".
_stemmed = StemmingAnalyzer()
# Tags are lowercase letters, digits and dashes; anything else separates them.
# Stop words are dropped so a plain "and" or "the" never matches a tag.
_tags = RegexTokenizer(r"[A-Za-z0-9][A-Za-z0-9-]*") | LowercaseFilter() | StopFilter(minsize=1)


def build_schema() -> Schema:
    return Schema(
        id=ID(unique=True, stored=True),
        kind=ID(stored=True, sortable=True),  # "norm" or "comment"
        norm_id=ID(stored=True),
        comment_id=STORED,
        title=TEXT(analyzer=_stemmed, stored=True, field_boost=2.0),
        summary=TEXT(analyzer=_stemmed, stored=True),
        body=TEXT(analyzer=_stemmed, stored=True),
        assumptions=TEXT(analyzer=_stemmed, stored=True),
        tag=KEYWORD(analyzer=_tags, stored=True, scorable=True),
        status=ID(stored=True, sortable=True),
        community=ID(stored=True),  # the slug, for community: filters
        community_id=ID(stored=True, sortable=True),  # for visibility filtering and facets
        author=TEXT(analyzer=StandardAnalyzer(stoplist=None, minsize=1), stored=True),
        norm_title=STORED,  # for comments: the norm they discuss
        norm_slug=STORED,
        created=DATETIME(stored=True),
        updated=DATETIME(stored=True),
        # Unstemmed words of every text field, for "did you mean" suggestions.
        spell=TEXT(analyzer=StandardAnalyzer(minsize=3), phrase=False),
    )


SCHEMA = build_schema()
TEXT_FIELDS = ("title", "summary", "body", "assumptions")

# Bounded waits for the index lock: a normal commit holds it for milliseconds.
LOCK_TIMEOUT_SECONDS = 1.0
LOCK_POLL_SECONDS = 0.01
LOCK_ATTEMPTS = 3
# Each small update commits a tiny segment without merging (merging costs
# far more than writing one document). Once this many tiny segments pile up,
# the next commit merges just those into one; the big segment written by the
# last rebuild is never rewritten by an update (`flask search optimize` or a
# rebuild folds everything together).
# Merging costs about as much as writing the merged documents again, so a
# request that triggers it takes several times longer than usual: run
# `flask search merge` from cron every few minutes and requests rarely do.
SMALL_SEGMENT_DOCS = 2000
MAX_SMALL_SEGMENTS = 16


def merge_small_segments(writer, segments, threshold: int | None = None):
    """Whoosh merge policy: fold tiny segments together once there are many of them."""
    from whoosh.reading import SegmentReader

    small = [s for s in segments if s.doc_count_all() < SMALL_SEGMENT_DOCS]
    if len(small) < (threshold or MAX_SMALL_SEGMENTS) or len(small) < 2:
        return segments
    for segment in small:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        writer.add_reader(reader)
        reader.close()
    return [s for s in segments if s not in small]


class IndexBusy(Exception):
    """The index lock stayed taken for all attempts."""


def index_dir(app) -> Path:
    return Path(app.config["SEARCH_INDEX_DIR"])


def rebuild_marker(directory: Path) -> Path:
    """Present while ``flask search rebuild`` runs: writers queue instead of waiting."""
    return directory.parent / f"{directory.name}.rebuilding"


@contextmanager
def _creation_lock(directory: Path):
    """Serialize "does the index exist? create it" across processes."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory.parent / f"{directory.name}.create-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _schema_matches(ix) -> bool:
    return sorted(ix.schema.names()) == sorted(SCHEMA.names())


def open_index(directory: Path, create: bool = True):
    """The index in ``directory``; created (empty) if missing and ``create``.

    An index written with an older schema is replaced by an empty one: the
    log says to run ``flask search rebuild``.
    """
    # Another process committing may delete the table of contents we just
    # listed (it keeps only the newest): read the directory again.
    for attempt in range(10):
        try:
            return _open_index(Path(directory), create)
        except FileNotFoundError:
            if attempt == 9:
                raise
            time.sleep(0.005 * (attempt + 1))
    return None


def _open_index(directory: Path, create: bool):
    if whoosh_index.exists_in(str(directory)):
        ix = whoosh_index.open_dir(str(directory))
        if _schema_matches(ix) or not create:
            return ix
    elif not create:
        return None
    with _creation_lock(directory):
        if whoosh_index.exists_in(str(directory)):
            ix = whoosh_index.open_dir(str(directory))
            if _schema_matches(ix):
                return ix
            logger.warning(
                "Search index at %s has an old schema; starting an empty one. "
                "Run `flask search rebuild` to fill it.",
                directory,
            )
        return whoosh_index.create_in(str(directory), SCHEMA)


def recreate_index(directory: Path):
    with _creation_lock(Path(directory)):
        return whoosh_index.create_in(str(directory), SCHEMA)


def acquire_writer(ix, attempts: int | None = None, timeout: float | None = None):
    """A writer, waiting up to ``attempts * timeout`` seconds for the lock."""
    attempts = attempts or LOCK_ATTEMPTS
    timeout = timeout if timeout is not None else LOCK_TIMEOUT_SECONDS
    for attempt in range(attempts):
        try:
            return ix.writer(timeout=timeout, delay=LOCK_POLL_SECONDS)
        except LockError:
            logger.info("Search index locked (attempt %d of %d)", attempt + 1, attempts)
    raise IndexBusy(f"The search index stayed locked for {attempts * timeout:.1f} s")


def write_documents(
    directory: Path,
    documents: list[dict],
    deletions: list[tuple[str, str]],
    attempts: int | None = None,
) -> None:
    """Replace ``documents`` (by id) and delete by ``(field, value)`` terms, in one commit."""
    ix = open_index(directory)
    writer = acquire_writer(ix, attempts=attempts)
    writer.compound = False
    try:
        for fieldname, value in deletions:
            writer.delete_by_term(fieldname, value)
        for document in documents:
            writer.update_document(**document)
    except BaseException:
        writer.cancel()
        raise
    writer.commit(mergetype=merge_small_segments)


def merge_tiny_segments(directory: Path) -> int:
    """Merge all tiny segments now (for cron); returns how many there were."""
    ix = open_index(directory)
    writer = acquire_writer(ix)
    writer.compound = False
    count = sum(1 for s in writer.segments if s.doc_count_all() < SMALL_SEGMENT_DOCS)
    writer.commit(mergetype=lambda w, segments: merge_small_segments(w, segments, threshold=2))
    return count


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


# Searchers are reused per thread and refreshed when another writer committed:
# refresh() reopens only the segments that changed.
_local = threading.local()


def searcher_for(directory: Path):
    """A current searcher on the index in ``directory``, or None if there is no index."""
    directory = Path(directory)
    cache = getattr(_local, "searchers", None)
    if cache is None:
        cache = _local.searchers = {}
    key = str(directory)
    searcher = cache.get(key)
    if searcher is not None:
        try:
            if searcher.up_to_date():
                return searcher
            fresh = searcher.refresh()
            cache[key] = fresh
            return fresh
        except Exception:  # index replaced under us (rebuild, removed dir): reopen
            logger.info("Reopening search index at %s", directory, exc_info=True)
            cache.pop(key, None)
    ix = open_index(directory, create=False)
    if ix is None:
        return None
    # A concurrent merge may delete a segment between reading the table of
    # contents and opening its files: try again with the newer generation.
    for attempt in range(3):
        try:
            searcher = ix.searcher()
            break
        except OSError:
            if attempt == 2:
                raise
            time.sleep(0.01)
            ix = open_index(directory, create=False)
    cache[key] = searcher
    return searcher


def forget_searchers() -> None:
    for searcher in getattr(_local, "searchers", {}).values():
        with contextlib.suppress(Exception):  # closing a searcher on a removed index
            searcher.close()
    _local.searchers = {}


def ensure_parent(directory: Path) -> None:
    os.makedirs(Path(directory).parent, exist_ok=True)
