"""The Whoosh index: its schema and opening it, created if missing.

All Whoosh usage stays inside ``normhub.search.whoosh``: whoosh-reloaded is a
community fork of a library whose original stopped at 2.7.4, so if it ever has
to be replaced only this package changes; the app talks to it through
``normhub.search.backend``.
"""

from __future__ import annotations

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
        # Unstemmed words of norm titles, summaries and assumptions, for "did you
        # mean" suggestions (see indexing.spelling_text).
        spell=TEXT(analyzer=StandardAnalyzer(minsize=3), phrase=False),
    )


SCHEMA = build_schema()
TEXT_FIELDS = ("title", "summary", "body", "assumptions")


def index_dir(app) -> Path:
    return Path(app.config["SEARCH_INDEX_DIR"])


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


# Opened indexes by directory. Each is opened with SCHEMA once its stored
# schema was checked, so reading its table of contents (every write and
# refresh does) skips unpickling the stored schema.
_indexes: dict[str, whoosh_index.FileIndex] = {}
_indexes_lock = threading.Lock()


def open_index(directory: Path, create: bool = True):
    """The index in ``directory``; created (empty) if missing and ``create``.

    An index written with an older schema is replaced by an empty one: the
    log says to run ``flask search rebuild``.
    """
    key = str(directory)
    with _indexes_lock:
        known = _indexes.get(key)
    if known is not None and known.latest_generation() >= 0:
        return known
    # Another process committing may delete the table of contents we just
    # listed (it keeps only the newest): read the directory again.
    for attempt in range(10):
        try:
            ix = _open_index(Path(directory), create)
            break
        except FileNotFoundError:
            if attempt == 9:
                raise
            time.sleep(0.005 * (attempt + 1))
    if ix is not None and _schema_matches(ix):
        ix = whoosh_index.FileIndex(ix.storage, schema=SCHEMA, indexname=ix.indexname)
        with _indexes_lock:
            _indexes[key] = ix
    return ix


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


def ensure_parent(directory: Path) -> None:
    os.makedirs(Path(directory).parent, exist_ok=True)
